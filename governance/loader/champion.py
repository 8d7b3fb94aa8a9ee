"""The governed loader: the champion by the verified audit log, nothing else.

What an execution engine calls to get its model. The champion is the version the audit
log last made champion (an alias moved in the MLflow UI changes nothing here); the log's
chain is verified first, and the artifacts must hash to what the log recorded when the
version was trained.

Examples
--------
>>> from governance import load_champion  # doctest: +SKIP
>>> champion = load_champion("execution-impact", workdir=".govern")  # doctest: +SKIP
>>> champion.version, champion.decide(orders)  # doctest: +SKIP
>>> with champion.decider() as decider:  # doctest: +SKIP
...     horizon, cost = decider.decide_one("ord-1", 5e4, 2e6, 0.02, 4.0, 1e8, 30.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from governance.ledger import last_event
from governance.ledger.replay import ModelHistory, replay
from governance.lifecycle.version_state import verified_events
from governance.loader.decisions import DECISIONS_FOLDER, AttributedDecider, DecisionLog
from governance.stores.artifacts import load_verified
from governance.stores.handle import Stores, open_stores
from governance.stores.settings import get_settings, require_existing
from governance.trust.release import verify_release
from models import ModelFamily, Predictor, get_family
from vocabulary import Action, Alias, IntegrityError, UsageError

__all__ = ["Champion", "champion_by_log", "load_champion"]


@dataclass(frozen=True)
class Champion:
    """The model in production: its version, its verified predictor and its policy."""

    model: str
    version: str
    predictor: Predictor
    family: ModelFamily
    local_path: Path
    decisions_folder: Path

    def decide(self, orders: pd.DataFrame) -> pd.DataFrame:
        """The execution decision of the champion's policy for each order."""
        return self.family.decide(self.predictor, orders)

    def decider(
        self, *, flush_every: int = 4096, max_age_seconds: float = 1.0
    ) -> AttributedDecider:
        """The policy compiled for one order at a time, every decision logged to this version.

        What an execution engine calls per order (``decide_one(order_id, *fields)``);
        ``govern decisions --order ID`` answers later which version decided and on what.
        See :class:`~governance.loader.decisions.DecisionLog` for the batching.
        """
        policy = self.family.compile(self.predictor)
        log = DecisionLog(
            self.decisions_folder / self.model,
            self.model,
            self.version,
            policy.argument_names,
            policy.decision_names,
            flush_every=flush_every,
            max_age_seconds=max_age_seconds,
        )
        return AttributedDecider(policy, log)


def champion_by_log(stores: Stores, model: str) -> Champion | None:
    """The champion according to the verified log, loaded and checked; ``None`` if none.

    Checked: the chain, every signed decision and the checkpoints (by
    :func:`~governance.lifecycle.version_state.verified_events`), the artifacts against the hash
    the log recorded, and the version's release bundle with the model-signing verifier.

    Raises
    ------
    IntegrityError
        If any of those checks fails, or the champion has no signed release.
    """
    events = [e for e in verified_events(stores) if e.model == model]
    version = (replay(events).get(model) or ModelHistory()).aliases.get(Alias.CHAMPION)
    if version is None:
        return None
    loaded = load_verified(stores, model, version)
    released = last_event((e for e in events if e.version == version), Action.VERSION_RELEASED)
    if released is None:
        raise IntegrityError(
            f"{model} version {version} is champion by the log but has no signed release; "
            f"refusing to serve it"
        )
    verify_release(stores, released, loaded.local_path)
    return Champion(
        model,
        version,
        loaded.predictor,
        get_family(model),
        loaded.local_path,
        stores.settings.workdir / DECISIONS_FOLDER,
    )


def load_champion(model_name: str, *, workdir: Path | str | None = None) -> Champion:
    """Load the champion of ``model_name`` for use in production.

    Parameters
    ----------
    model_name
        Registered model, e.g. ``"execution-impact"``.
    workdir
        Work directory; ``None`` resolves ``GOVERN_HOME`` then ``./.govern`` (an MLflow
        server and audit database are taken from the environment as everywhere else).

    Returns
    -------
    Champion
        ``.version`` and ``.decide(orders)``.

    Raises
    ------
    UsageError
        If the work directory does not exist or the log names no champion.
    IntegrityError
        If the audit chain, a signed decision or a checkpoint does not verify, the
        artifacts differ from what was recorded, or the release bundle does not verify.
    """
    stores = open_stores(require_existing(get_settings(workdir)), create_audit=False)
    champion = champion_by_log(stores, model_name)
    if champion is None:
        raise UsageError(
            f"no version of {model_name!r} is champion according to the audit log "
            f"(none was promoted, or the champion was decommissioned without a replacement)"
        )
    return champion
