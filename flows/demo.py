"""The two-day demo story as a flow: a governed model goes from raw data to champion.

It first gives its personas (``quant-researcher``, ``validator``, ``on-call`` and the
policy's owner ``head-of-model-risk``) key pairs in the work directory's keys directory,
writes ``<workdir>/policy.yaml`` listing their public keys and has the owner adopt it, so
that every decision of the story is signed and ``govern signoff approve M V --as
validator --workdir W`` works afterwards. Day 1 synthesises data, runs the retrain flow as
``quant-researcher`` and has ``validator`` (not the author: maker-checker) approve the
candidate, which promotes it.
Day 2 does the same on new data, so that the second candidate is challenged by the first
champion, which becomes ``previous``. The flow ends by writing the champion's lineage
report and returning where to look.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from prefect import flow
from pydantic import BaseModel, ConfigDict, Field

from flows.config import RetrainConfig
from flows.retrain import RetrainOutcome, retrain
from flows.timing import progress
from governance.lifecycle.actions import approve
from governance.lifecycle.personas import Team, set_up_personas
from governance.stores.handle import open_stores
from governance.stores.settings import DEFAULT_POLICY, ensure_workdir, get_settings
from governance.trust.policy_store import signer_for
from lineage import render_inventory, render_report
from synthetic import SynthConfig, generate, write

__all__ = ["DemoConfig", "DemoDay", "DemoOutcome", "demo"]

MODEL = "execution-impact"
AUTHOR = "quant-researcher"
VALIDATOR = "validator"
OWNER = "head-of-model-risk"
PERSONAS = Team(
    owner=OWNER, authors=(AUTHOR,), validators=(VALIDATOR, OWNER), operators=("on-call",)
)


class DemoConfig(BaseModel):
    """Parameters of the demo: where, and how much data and stress work per day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workdir: Path | None = None
    orders: int = Field(default=200_000, ge=1_000)
    stress_paths: int = Field(default=10_000, ge=100, le=1_000_000)


@dataclass(frozen=True)
class DemoDay:
    """One day of the story: the retrain's outcome and its sign-off."""

    name: str
    data_dir: Path
    retrain: RetrainOutcome
    seconds: float
    approvals: int
    required: int
    promoted: bool


@dataclass(frozen=True)
class DemoOutcome:
    """The days, the champion's lineage report, the inventory and the stores' locations."""

    days: list[DemoDay]
    champion: str
    lineage_path: Path
    inventory_markdown: str
    workdir: Path
    tracking_uri: str
    artifact_location: str | None
    experiment_name: str


_DAYS = {
    "day-1": {"seed": 42},
    "day-2": {"seed": 43, "start_date": "2026-02-02"},
}


@flow(name="demo")
def demo(config: DemoConfig) -> DemoOutcome:
    """Synthesise, retrain, sign off and promote twice; write the champion's lineage."""
    settings = ensure_workdir(get_settings(config.workdir))
    stores = open_stores(settings)
    # The demo's policy is the shipped one with its personas' keys; it is written to the
    # work directory, where every later command of the work directory finds it.
    policy = set_up_personas(settings, stores.audit, DEFAULT_POLICY, PERSONAS, MODEL)
    validator = signer_for(settings.keys_dir, policy.file, VALIDATOR)
    days = []
    for name, synth in _DAYS.items():
        data_dir = settings.workdir / "data" / name
        progress.info(
            "%s: synthesising %s parent orders into %s", name, f"{config.orders:,}", data_dir
        )
        write(generate(SynthConfig(orders=config.orders, **synth)), data_dir)
        started = time.perf_counter()
        outcome = retrain(
            RetrainConfig(
                data_dir=data_dir,
                workdir=settings.workdir,
                author=AUTHOR,
                stress_paths=config.stress_paths,
            )
        )
        seconds = time.perf_counter() - started
        progress.info("%s: %s signs off version %s", name, VALIDATOR, outcome.version)
        signed = approve(
            stores,
            policy,
            outcome.model_name,
            outcome.version,
            validator,
            f"{name}: reviewed data, challenger, stress and gate reports",
        )
        days.append(
            DemoDay(
                name,
                data_dir,
                outcome,
                seconds,
                signed["approvals"],
                signed["required"],
                bool(signed["promoted"]),
            )
        )
    champion = days[-1].retrain.version
    progress.info("writing the lineage report of champion v%s and the inventory", champion)
    lineage_path = settings.reports_dir / f"lineage-{MODEL}-v{champion}.html"
    lineage_path.parent.mkdir(parents=True, exist_ok=True)
    lineage_path.write_text(render_report(stores, MODEL, champion, "html")[0], encoding="utf-8")
    return DemoOutcome(
        days=days,
        champion=champion,
        lineage_path=lineage_path,
        inventory_markdown=render_inventory(stores, MODEL, "md"),
        workdir=settings.workdir,
        tracking_uri=settings.tracking_uri,
        artifact_location=settings.artifact_location,
        experiment_name=settings.experiment_name,
    )
