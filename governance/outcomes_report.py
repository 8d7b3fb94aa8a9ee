"""``govern outcomes``: what the champion's decisions predicted against what they cost.

The orders of a snapshot of realised executions are joined by order id with the decisions
the governed loader logged (:mod:`governance.loader.decisions`). Each order is judged by the
version that decided it: that version's prediction for the order as it was executed (its
realised horizon; the share of orders executed at the horizon decided is reported) against
its realised, market-adjusted cost, with the calibration check the verdicts use (bias and
slope, day-clustered 95 % intervals, the policy's limits:
:mod:`validation.comparison.calibration`), overall and by size. A version whose interval
lies beyond a limit is flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from governance.loader.decisions import DECISIONS_FOLDER, read_decisions
from governance.stores.artifacts import load_verified
from governance.stores.datasets import load_snapshot
from governance.stores.handle import Stores
from models import ModelFamily, get_family
from validation.comparison.calibration import Calibration, calibration
from validation.policy import CalibrationLimits
from vocabulary import UsageError

__all__ = ["OutcomesReport", "SIZE_BUCKETS", "outcomes_report"]

#: Order size as a share of the day's volume, the buckets the report is cut by.
SIZE_BUCKETS = (0.0, 0.005, 0.02, 0.05, np.inf)
#: An execution within this many minutes of the horizon decided followed the decision.
FOLLOWED_MINUTES = 1.0


@dataclass(frozen=True)
class VersionOutcomes:
    """One deciding version's orders: how many, how many as decided, its calibration."""

    version: str
    orders: int
    followed_share: float
    calibration: Calibration
    by_size: pd.DataFrame


@dataclass(frozen=True)
class OutcomesReport:
    """Each deciding version's outcomes, and the orders nobody's decision covers."""

    model: str
    snapshot_uri: str
    versions: list[VersionOutcomes]
    undecided: int

    @property
    def flagged(self) -> list[str]:
        """Versions that left their calibration limits."""
        return [v.version for v in self.versions if v.calibration.miscalibrated]

    def to_markdown(self) -> str:
        """The report: a paragraph and a table by size per version."""
        parts = [
            f"# Outcomes of {self.model}'s decisions\n\nrealised executions {self.snapshot_uri};"
            f" {self.undecided} of its orders have no logged decision\n"
        ]
        for v in self.versions:
            verdict = (
                "FLAGGED: outside its calibration limits"
                if v.calibration.miscalibrated
                else "within its calibration limits"
            )
            rows = "\n".join(
                f"| {r.bucket} | {r.orders} | {r.predicted:.2f} | {r.realised:.2f} |"
                for r in v.by_size.itertuples()
            )
            parts.append(
                f"## v{v.version}: {v.orders} orders, {v.followed_share:.0%} executed at the "
                f"horizon decided; {verdict}\n\n{v.calibration.explanation}\n\n"
                "| size (share of ADV) | orders | predicted bps | realised bps |\n"
                f"|---|---:|---:|---:|\n{rows}\n"
            )
        return "\n".join(parts)


def outcomes_report(
    stores: Stores, model: str, data_dir: Path, limits: CalibrationLimits
) -> OutcomesReport:
    """Join the realised executions of ``data_dir`` with the logged decisions; judge them.

    Raises
    ------
    UsageError
        If no logged decision covers any order of the snapshot, or it lacks outcomes.
    """
    family = get_family(model)
    snapshot = load_snapshot(data_dir)
    executed = family.training_frame(snapshot.tables)
    try:
        actual = family.target(executed)
    except KeyError as exc:
        raise UsageError(f"{snapshot.uri} holds no outcomes to judge: {exc}") from exc
    decisions = read_decisions(stores.settings.workdir / DECISIONS_FOLDER / model)
    if decisions.empty:
        raise UsageError(f"no decision of {model} was logged in this work directory")
    latest = decisions.drop_duplicates("order_id", keep="last").set_index("order_id")
    decided = executed["order_id"].isin(latest.index).to_numpy()
    if not decided.any():
        raise UsageError(f"no order of {snapshot.uri} has a logged decision of {model}")
    executed = executed.assign(_actual=actual).loc[decided]
    executed = executed.join(latest[["version", "horizon_minutes"]], on="order_id")
    versions = [
        _judge(stores, family, version, rows, limits)
        for version, rows in executed.groupby("version", sort=True)
    ]
    return OutcomesReport(model, snapshot.uri, versions, int((~decided).sum()))


def _judge(
    stores: Stores,
    family: ModelFamily,
    version: str,
    rows: pd.DataFrame,
    limits: CalibrationLimits,
) -> VersionOutcomes:
    predictor = load_verified(stores, family.registered_name, str(version)).predictor
    predicted = np.asarray(predictor.predict(family.features(rows)), dtype=float)
    actual = rows["_actual"].to_numpy(dtype=float)
    days = rows[family.time_column].dt.floor("D").to_numpy()
    minutes = (rows["end_ts"] - rows["start_ts"]).dt.total_seconds().to_numpy() / 60.0
    followed = float(
        np.mean(np.abs(minutes - rows["horizon_minutes"].to_numpy()) < FOLLOWED_MINUTES)
    )
    judged = calibration(
        f"v{version}", actual, predicted, days, limits.max_bias_share, limits.max_slope_error
    )
    size = (rows["qty"] / rows["adv"]).to_numpy()
    bucket = pd.cut(size, SIZE_BUCKETS, right=False)
    by_size = (
        pd.DataFrame({"bucket": bucket, "predicted": predicted, "realised": actual})
        .groupby("bucket", observed=True)
        .agg(
            orders=("realised", "size"),
            predicted=("predicted", "mean"),
            realised=("realised", "mean"),
        )
        .reset_index()
        .assign(bucket=lambda f: f["bucket"].astype(str))
    )
    return VersionOutcomes(str(version), len(rows), followed, judged, by_size)
