"""``govern drift``: today's orders against the champion's training data, before outcomes.

Reads the champion by the verified log, its training snapshot from the URI its
``candidate.trained`` event recorded (refused unless the files hash to the SHA-256 recorded
there), and today's snapshot; then, with :mod:`validation.drift`, each feature's shift and
the champion's expected squared error on today's orders from its holdout's errors. When
today's snapshot holds the outcomes too, the error realised on them is set beside the
estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from governance.ledger import AuditEvent, last_event
from governance.lifecycle.version_state import verified_events
from governance.loader.champion import Champion, champion_by_log
from governance.stores.datasets import Snapshot, load_snapshot
from governance.stores.handle import Stores
from models import out_of_time_split
from validation.drift import ErrorEstimate, FeatureDrift, expected_error, feature_drift
from vocabulary import Action, IntegrityError, UsageError

__all__ = ["DriftReport", "drift_report"]

#: The holdout share the champion was judged on, when its run does not record one.
DEFAULT_HOLDOUT_FRACTION = 0.2


@dataclass(frozen=True)
class DriftReport:
    """Each feature's shift, the expected error, and the realised one when outcomes are in."""

    model: str
    version: str
    training_uri: str
    today_uri: str
    features: list[FeatureDrift]
    error: ErrorEstimate
    realised_error: float | None

    def to_markdown(self) -> str:
        """The report as a Markdown table and a paragraph."""
        rows = [
            f"| {d.feature} | {d.psi:.3f} | {d.band} | {d.ks_statistic:.3f} | {d.p_value:.2g} "
            f"| {d.outside_share:.1%} |"
            for d in self.features
        ]
        e = self.error
        realised = (
            "outcomes not in today's data yet"
            if self.realised_error is None
            else f"realised {self.realised_error:,.0f} bps² "
            f"({'inside' if e.covers(self.realised_error) else 'OUTSIDE'} the interval)"
        )
        return (
            f"# Drift of {self.model} v{self.version}\n\n"
            f"training data {self.training_uri}; today's orders {self.today_uri}\n\n"
            "| feature | PSI | band | KS statistic | p-value | outside the training range |\n"
            "|---|---:|---|---:|---:|---:|\n" + "\n".join(rows) + "\n\n"
            f"expected squared error on today's orders {e.estimate:,.0f} bps², 95 % interval "
            f"[{e.ci_low:,.0f}, {e.ci_high:,.0f}] (holdout {e.holdout_error:,.0f}; effective "
            f"holdout orders {e.effective_n:,.0f}); {realised}\n"
        )


def drift_report(stores: Stores, model: str, today_dir: Path) -> DriftReport:
    """Compare today's snapshot with the champion's training data.

    Raises
    ------
    UsageError
        If the log names no champion, or a snapshot lacks what the family needs.
    IntegrityError
        If the training snapshot's files no longer hash to what the log recorded.
    """
    champion = champion_by_log(stores, model)
    if champion is None:
        raise UsageError(f"no version of {model!r} is champion according to the audit log")
    trained = last_event(
        (e for e in verified_events(stores) if (e.model, e.version) == (model, champion.version)),
        Action.CANDIDATE_TRAINED,
    )
    training = _recorded_snapshot(trained.payload)
    family = champion.family
    reference = family.training_frame(training.tables)
    split = out_of_time_split(reference, family.time_column, _holdout_fraction(stores, trained))
    today = load_snapshot(today_dir)
    missing = [t for t in family.required_tables if t not in today.tables]
    if missing:
        raise UsageError(f"{today.uri} lacks the table(s) {', '.join(missing)} {model} needs")
    current = family.training_frame(today.tables)
    return DriftReport(
        model,
        champion.version,
        training.uri,
        today.uri,
        feature_drift(family.features(reference), family.features(current)),
        _expected_error(champion, split.holdout, current),
        _realised_error(champion, current),
    )


def _recorded_snapshot(payload: dict) -> Snapshot:
    snapshot = load_snapshot(Path(urlparse(payload["dataset_uri"]).path))
    if snapshot.sha256 != payload["dataset_sha256"]:
        raise IntegrityError(
            f"the champion's training data at {payload['dataset_uri']} hashes to "
            f"{snapshot.sha256}, the log recorded {payload['dataset_sha256']}"
        )
    return snapshot


def _holdout_fraction(stores: Stores, trained: AuditEvent) -> float:
    params = stores.client.get_run(trained.payload["run_id"]).data.params
    return float(params.get("holdout_fraction", DEFAULT_HOLDOUT_FRACTION))


def _expected_error(champion: Champion, holdout, current) -> ErrorEstimate:
    family = champion.family
    features = family.features(holdout)
    errors = (family.target(holdout) - champion.predictor.predict(features)) ** 2
    days = holdout[family.time_column].dt.floor("D").to_numpy()
    today_days = int(current[family.time_column].dt.floor("D").nunique())
    return expected_error(features, errors, days, family.features(current), today_days)


def _realised_error(champion: Champion, current) -> float | None:
    family = champion.family
    try:
        actual = family.target(current)
    except (KeyError, ValueError):
        return None  # outcomes not in yet
    predicted = champion.predictor.predict(family.features(current))
    return float(np.mean((actual - predicted) ** 2))
