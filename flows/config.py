"""Typed parameters of the flows (pydantic, frozen, no extra keys).

Kept free of Prefect imports so the CLI can validate input before paying for
Prefect's start-up.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, DirectoryPath, Field

__all__ = ["RetrainConfig", "default_actor"]


def default_actor() -> str:
    """The acting user: ``GOVERN_USER`` if set, else the login name."""
    return os.environ.get("GOVERN_USER") or getpass.getuser()


class RetrainConfig(BaseModel):
    """Parameters of one governed retraining run.

    Attributes
    ----------
    data_dir : Path
        Directory holding ``executions.parquet`` (and optionally ``market_bars.parquet``,
        ``rfq.parquet``).
    workdir : Path or None
        Work directory; ``None`` resolves ``GOVERN_HOME`` then ``./.govern``.
    model_name : str
        Registered model (and so model family) to retrain.
    holdout_fraction : float
        Share of the latest rows (whole days) held out for evaluation.
    seed : int
        Seed of the estimators.
    author : str
        Who trained the candidate; may not approve it later (maker-checker).
    stress_paths : int
        Monte Carlo paths per stress order, scenario and model.
    scenarios : tuple of str or None
        Stress scenarios to run; ``None`` runs the whole library. The gates require every
        scenario of the library, so a subset is for experiments: it fails the gates.
    dask_address : str or None
        Scheduler of a Dask cluster (``tcp://host:8786``) to fan the stress scenarios out
        to; ``None`` runs them on threads of this process.
    signoff_deployment : str or None
        When set (e.g. ``"await-signoff/await-signoff"``), a version that passes its gates
        gets a run of that deployment, which waits in the Prefect UI for a validator's
        decision. Needs a Prefect server and a worker or ``serve`` process for it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: DirectoryPath
    workdir: Path | None = None
    model_name: str = "execution-impact"
    holdout_fraction: float = Field(default=0.2, gt=0.0, lt=1.0)
    seed: int = Field(default=0, ge=0)
    author: str = Field(default_factory=default_actor, min_length=1)
    stress_paths: int = Field(default=10_000, ge=100, le=1_000_000)
    scenarios: tuple[str, ...] | None = None
    dask_address: str | None = None
    signoff_deployment: str | None = None
