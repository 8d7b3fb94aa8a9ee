"""Re-run stress scenarios on a registered version without retraining: ``govern stress``.

A validator's what-if question ("what would this version's schedules cost in a flash crash
with twice the paths, or with no controls?") is answered from the version's *recorded* stress
book: the orders and the schedules its policy chose for them when it was judged, kept as an
artifact of its run and named by SHA-256 in the audit log's ``candidate.stressed`` event. The
log's chain is verified first and the book must hash to what the log recorded; the same seed
gives the same figures with the same engine. The engine's source hash is recorded with the
version's stress result, and a re-run reports both, so that figures from a newer engine are
not mistaken for the recorded ones.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from governance.ledger import last_event
from governance.ledger.replay import ModelHistory, replay
from governance.lifecycle.version_state import verified_events
from governance.stores.handle import Stores, download_artifacts
from validation.policy import ModelPolicy
from validation.stress import Controls, StressConfig, engine_sha256, load_scenarios, run_stress
from vocabulary import Action, IntegrityError, UsageError

__all__ = ["RecordedStress", "recorded_stress", "rerun_stress"]


@dataclass(frozen=True)
class RecordedStress:
    """A version's recorded stress book and the engine that judged it on it.

    Attributes
    ----------
    book
        The stress orders with the schedules the version's policy chose.
    engine_sha256
        :func:`validation.stress.engine_sha256` of the engine that judged the version;
        ``None`` for a version judged by a release that did not record it.
    """

    book: pd.DataFrame
    engine_sha256: str | None


def recorded_stress(stores: Stores, model: str, version: str) -> RecordedStress:
    """The stress book ``model`` ``version`` was judged on, checked against the audit log.

    Raises
    ------
    UsageError
        If the log holds no stress run of that version, or one from before stress books
        were recorded.
    IntegrityError
        If the chain is broken or the artifact does not hash to what the log recorded.
    """
    events = [e for e in verified_events(stores) if e.model == model]
    history = replay(events).get(model) or ModelHistory()
    if history.state(version) is None:
        known = ", ".join(sorted(history.versions, key=int)) or "none"
        raise UsageError(f"{model} has no version {version} in the audit log; versions: {known}")
    stressed = last_event((e for e in events if e.version == version), Action.CANDIDATE_STRESSED)
    if stressed is None:
        raise UsageError(
            f"{model} version {version} was never stress-tested (its retrain stopped before "
            f"the stress stage); nothing to re-run"
        )
    payload = stressed.payload
    expected = payload.get("stress_book_sha256")
    if expected is None:
        raise UsageError(
            f"{model} version {version} was stress-tested by a release that did not record its "
            f"stress book; retrain to get a version whose scenarios can be re-run"
        )
    local = download_artifacts(stores, f"runs:/{payload['run_id']}/{payload['stress_book']}")
    data = local.read_bytes()
    found = hashlib.sha256(data).hexdigest()
    if found != expected:
        raise IntegrityError(
            f"{model} version {version}: stress book {payload['stress_book']} of run "
            f"{payload['run_id']} hashes to {found}, the audit log recorded {expected}; "
            f"refusing to re-run an altered book"
        )
    return RecordedStress(pd.read_csv(io.BytesIO(data)), payload.get("engine_sha256"))


def rerun_stress(
    stores: Stores,
    model: str,
    version: str,
    policy: ModelPolicy,
    *,
    scenarios: Sequence[str] = (),
    n_paths: int = 10_000,
    seed: int = 0,
    controls: bool = True,
    progress: Callable[[str, str], None] | None = None,
) -> dict[str, Any]:
    """Run ``scenarios`` (all of the library when empty) on the version's recorded book.

    Returns
    -------
    dict
        ``model, version, seed, paths, controls, scenario_library_sha256``,
        ``engine_sha256`` (this engine's) and ``judged_engine_sha256`` (the one that judged
        the version, ``None`` when unrecorded) and, per scenario,
        :meth:`~validation.stress.metrics.ScenarioMetrics.headline` (costs in bps of the
        book's notional, completion included; risk metrics against the policy's levels).

    Raises
    ------
    UsageError
        For an unknown scenario (naming the library's), or see :func:`recorded_stress`.
    """
    recorded = recorded_stress(stores, model, version)
    library = load_scenarios()
    unknown = [s for s in scenarios if s not in library.names]
    if unknown:
        raise UsageError(
            f"unknown scenario(s) {unknown}; the library (sha256 {library.sha256[:12]}) has "
            f"{list(library.names)}"
        )
    config = StressConfig(
        n_paths=n_paths,
        seed=seed,
        controls=Controls() if controls else Controls.none(),
        risk_levels={name: (lv.alert, lv.action) for name, lv in policy.risk_metrics.items()},
    )
    names = list(scenarios) or list(library.names)
    report = run_stress(
        {"candidate": recorded.book}, names, config, library=library, progress=progress
    )
    return {
        "model": model,
        "version": str(version),
        "seed": seed,
        "paths": n_paths,
        "controls": controls,
        "scenario_library_sha256": report.scenario_library_sha256,
        "engine_sha256": engine_sha256(),
        "judged_engine_sha256": recorded.engine_sha256,
        "scenarios": {
            name: report[name, "candidate"].metrics.headline() for name in report.scenarios
        },
    }
