"""The candidate against every reference: paired comparisons, segments and predictions."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models import Predictor
from validation.comparison.calibration import Calibration, calibration
from validation.comparison.losses import loss_metrics
from validation.comparison.paired import PairedComparison, compare_paired

__all__ = ["ComparisonReport", "compare_candidate", "segment_metrics"]

_SIZE_BUCKETS = (0.0, 0.001, 0.01, 0.05, np.inf)
_SIZE_LABELS = ("<0.1% ADV", "0.1-1% ADV", "1-5% ADV", ">5% ADV")


def segment_metrics(
    frame: pd.DataFrame, actual: np.ndarray, predictions: dict[str, np.ndarray]
) -> pd.DataFrame:
    """Metrics per model within order-size bucket, volatility regime and asset segments.

    ``frame`` needs ``qty, adv, daily_vol, asset``; the volatility regime is ``high`` when
    the day's volatility is above the holdout median.

    Returns
    -------
    DataFrame
        Columns ``segment, bucket, model, n`` and those of
        :func:`~validation.comparison.losses.loss_metrics`.
    """
    segments = {
        "size": pd.cut(
            frame["qty"] / frame["adv"], _SIZE_BUCKETS, labels=_SIZE_LABELS, right=False
        ).astype(str),
        "volatility": np.where(
            frame["daily_vol"] > frame["daily_vol"].median(), "high vol", "low vol"
        ),
        "asset": frame["asset"].astype(str).to_numpy(),
    }
    rows = []
    for segment, labels in segments.items():
        labels = np.asarray(labels)
        for bucket in sorted(set(labels)):
            mask = labels == bucket
            for model, pred in predictions.items():
                metrics = loss_metrics(actual[mask], np.asarray(pred)[mask])
                rows.append(
                    {"segment": segment, "bucket": bucket, "model": model, "n": int(mask.sum())}
                    | metrics
                )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class ComparisonReport:
    """The candidate against every reference, with segment breakdowns and predictions.

    ``calibration`` holds the candidate's absolute calibration on the holdout and the
    champion's, when there is one (:mod:`~validation.comparison.calibration`).
    """

    comparisons: dict[str, PairedComparison]
    segments: pd.DataFrame
    actual: np.ndarray
    predictions: dict[str, np.ndarray]
    calibration: dict[str, Calibration] = field(default_factory=dict)

    @property
    def champion(self) -> PairedComparison | None:
        """The comparison with the current champion, if there is one."""
        return self.comparisons.get("champion")

    def summary(self) -> dict[str, object]:
        """JSON-serialisable summary: one entry per reference, plus segments."""
        return {
            "comparisons": {name: c.as_dict() for name, c in self.comparisons.items()},
            "calibration": {name: c.as_dict() for name, c in self.calibration.items()},
            "segments": self.segments.to_dict(orient="records"),
        }

    def to_markdown(self) -> str:
        """The verdict table, each verdict's reason and the reported metrics, for a validator."""
        lines = [
            "Loss: squared error (bps²). Difference: candidate minus reference, 95 % t "
            "interval over trading days. Skill: the reference's loss reduction over the "
            "naive predictor; margin: the share of it the candidate may give up.",
            "",
            "| reference | candidate MSE | reference MSE | reference skill | difference [95% CI] "
            "| margin | days | verdict |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, c in self.comparisons.items():
            lines.append(
                f"| {name} | {c.candidate_loss:.1f} | {c.reference_loss:.1f} | {c.skill:.1f} "
                f"| {c.loss_difference:+.1f} [{c.ci_low:+.1f}, {c.ci_high:+.1f}] "
                f"| {c.margin:.1f} ({c.margin_fraction:.0%}) | {c.n_days} | {c.verdict} |"
            )
        lines += ["", *(f"- vs {name}: {c.explanation}" for name, c in self.comparisons.items())]
        if self.calibration:
            lines += ["", "Calibration on the holdout (absolute, judged):", ""]
            lines += [
                f"- {'MISCALIBRATED' if c.miscalibrated else 'within limits'}: {c.explanation}"
                for c in self.calibration.values()
            ]
        if self.comparisons:
            # Every comparison scores the same candidate: one row for it, one per reference.
            first = next(iter(self.comparisons.values()))
            models = {"candidate": first.candidate_metrics}
            models |= {name: c.reference_metrics for name, c in self.comparisons.items()}
            names = list(first.candidate_metrics)
            lines += [
                "",
                "Reported metrics (bps, bps² for mse; not judged):",
                "",
                "| model | " + " | ".join(names) + " |",
                "|---|" + "---|" * len(names),
                *(
                    f"| {model} | " + " | ".join(f"{m[k]:.2f}" for k in names) + " |"
                    for model, m in models.items()
                ),
            ]
        return "\n".join(lines)


def compare_candidate(
    features: pd.DataFrame,
    holdout: pd.DataFrame,
    actual: np.ndarray,
    candidate: Predictor,
    references: dict[str, Predictor],
    time_column: str,
    margin: float,
    *,
    calibration_limits: tuple[float, float] | None = None,
) -> ComparisonReport:
    """Score the candidate and every reference on the holdout and compare them pairwise.

    Parameters
    ----------
    features : DataFrame
        Model features of the holdout.
    holdout : DataFrame
        Raw holdout rows (for segments and day labels).
    actual : ndarray
        Realised target of the holdout.
    candidate, references : objects with ``predict``
        The challenger and the models it must beat or match (``champion`` and baselines).
    time_column : str
        Column whose calendar day defines the clusters of the interval.
    margin : float
        Non-inferiority margin as a fraction of each reference's skill (the policy's
        ``non_inferiority_margin``).
    calibration_limits : (float, float), optional
        ``(max_bias_share, max_slope_error)``: when given, the candidate's and the
        champion's calibration on the holdout are measured against them
        (:func:`~validation.comparison.calibration.calibration`).

    Returns
    -------
    ComparisonReport
    """
    actual = np.asarray(actual, dtype=float)
    predictions = {"candidate": np.asarray(candidate.predict(features), dtype=float)}
    for name, model in references.items():
        predictions[name] = np.asarray(model.predict(features), dtype=float)
    # Integer day codes: factorising an object array of timestamps per comparison is slow.
    days, _ = pd.factorize(holdout[time_column].dt.floor("D"))
    comparisons = {
        name: compare_paired(
            name,
            actual,
            predictions["candidate"],
            predictions[name],
            days,
            margin,
        )
        for name in references
    }
    calibrations = {}
    if calibration_limits is not None:
        calibrations = {
            name: calibration(name, actual, predictions[name], days, *calibration_limits)
            for name in ("candidate", "champion")
            if name in predictions
        }
    return ComparisonReport(
        comparisons=comparisons,
        segments=segment_metrics(holdout, actual, predictions),
        actual=actual,
        predictions=predictions,
        calibration=calibrations,
    )
