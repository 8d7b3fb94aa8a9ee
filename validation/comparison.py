"""Champion vs challenger: paired holdout comparison with a day-block bootstrap.

The candidate (challenger) and each reference (the champion, the baselines) are
scored on the *same* out-of-time holdout. The loss difference is the per-order
absolute error of the candidate minus that of the reference; negative means the
candidate is better. Orders of one day share market conditions, so errors are
correlated within a day: the confidence interval resamples whole days (a block
bootstrap), not rows, which would understate the uncertainty.

Verdict, with ``margin`` the non-inferiority margin as a fraction of the reference MAE:

* ``better``: the upper 95 % bound of the MAE difference is below 0;
* ``non-inferior``: the upper bound is below ``margin * MAE_reference``;
* ``worse``: otherwise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import pandas as pd

from models import Split, regression_metrics
from vocabulary.errors import DataRejected

__all__ = [
    "Verdict",
    "PairedComparison",
    "compare_paired",
    "segment_metrics",
    "ComparisonReport",
    "compare_candidate",
    "day_block_bootstrap",
    "require_holdout_days",
]

Verdict = Literal["better", "non-inferior", "worse"]

_SIZE_BUCKETS = (0.0, 0.001, 0.01, 0.05, np.inf)
_SIZE_LABELS = ("<0.1% ADV", "0.1-1% ADV", "1-5% ADV", ">5% ADV")


@dataclass(frozen=True)
class PairedComparison:
    """The candidate against one reference model on the same holdout."""

    reference: str
    candidate_metrics: dict[str, float]
    reference_metrics: dict[str, float]
    mae_difference: float
    ci_low: float
    ci_high: float
    margin_bps: float
    verdict: Verdict
    n_orders: int
    n_days: int

    def as_dict(self) -> dict[str, object]:
        """JSON-serialisable form."""
        return asdict(self)


def day_block_bootstrap(
    loss_difference: np.ndarray,
    days: np.ndarray,
    n_resamples: int = 2_000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Mean loss difference and its confidence interval, resampling whole days.

    Parameters
    ----------
    loss_difference : ndarray
        Per-order loss of the candidate minus loss of the reference.
    days : ndarray
        Day label of each order (any hashable dtype).
    n_resamples : int
        Bootstrap resamples.
    seed : int
        Seed of the resampling.
    level : float
        Confidence level of the percentile interval.

    Returns
    -------
    tuple of float
        ``(mean, low, high)``.

    Raises
    ------
    ValueError
        If the inputs differ in length or cover fewer than two days.
    """
    loss_difference = np.asarray(loss_difference, dtype=float)
    if loss_difference.shape != np.shape(days):
        raise ValueError(
            f"loss_difference and days must have the same length, got "
            f"{loss_difference.shape} and {np.shape(days)}"
        )
    codes, _ = pd.factorize(np.asarray(days))
    n_days = codes.max() + 1 if codes.size else 0
    if n_days < 2:
        raise ValueError(f"a day-block bootstrap needs at least 2 days, got {n_days}")
    day_sum = np.bincount(codes, weights=loss_difference, minlength=n_days)
    day_count = np.bincount(codes, minlength=n_days).astype(float)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n_days, np.full(n_days, 1.0 / n_days), size=n_resamples)
    means = (draws @ day_sum) / (draws @ day_count)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(loss_difference.mean()), float(low), float(high)


def compare_paired(
    reference: str,
    actual: np.ndarray,
    candidate_pred: np.ndarray,
    reference_pred: np.ndarray,
    days: np.ndarray,
    margin: float,
    n_resamples: int = 2_000,
    seed: int = 0,
) -> PairedComparison:
    """Compare the candidate with ``reference`` on the same orders; see the module docstring."""
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    candidate_metrics = regression_metrics(actual, candidate_pred)
    reference_metrics = regression_metrics(actual, reference_pred)
    diff = np.abs(np.asarray(candidate_pred) - actual) - np.abs(np.asarray(reference_pred) - actual)
    mean, low, high = day_block_bootstrap(diff, days, n_resamples, seed)
    margin_bps = margin * reference_metrics["mae"]
    verdict: Verdict = "better" if high < 0 else "non-inferior" if high < margin_bps else "worse"
    return PairedComparison(
        reference=reference,
        candidate_metrics=candidate_metrics,
        reference_metrics=reference_metrics,
        mae_difference=mean,
        ci_low=low,
        ci_high=high,
        margin_bps=margin_bps,
        verdict=verdict,
        n_orders=int(np.size(actual)),
        n_days=int(pd.Series(days).nunique()),
    )


def segment_metrics(
    frame: pd.DataFrame, actual: np.ndarray, predictions: dict[str, np.ndarray]
) -> pd.DataFrame:
    """Metrics per model within order-size bucket, volatility regime and asset segments.

    ``frame`` needs ``qty, adv, daily_vol, asset``; the volatility regime is ``high`` when
    the day's volatility is above the holdout median.

    Returns
    -------
    DataFrame
        Columns ``segment, bucket, model, n, mae, rmse, p95_abs_error, bias``.
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
                metrics = regression_metrics(actual[mask], np.asarray(pred)[mask])
                rows.append(
                    {"segment": segment, "bucket": bucket, "model": model, "n": int(mask.sum())}
                    | metrics
                )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class ComparisonReport:
    """The candidate against every reference, with segment breakdowns and predictions."""

    comparisons: dict[str, PairedComparison]
    segments: pd.DataFrame
    actual: np.ndarray
    predictions: dict[str, np.ndarray]

    @property
    def champion(self) -> PairedComparison | None:
        """The comparison with the current champion, if there is one."""
        return self.comparisons.get("champion")

    def summary(self) -> dict[str, object]:
        """JSON-serialisable summary: one entry per reference, plus segments."""
        return {
            "comparisons": {name: c.as_dict() for name, c in self.comparisons.items()},
            "segments": self.segments.to_dict(orient="records"),
        }

    def to_markdown(self) -> str:
        """A table a validator can read in the run's artifacts."""
        lines = [
            "| reference | candidate MAE | reference MAE | MAE diff (95% CI, day blocks) "
            "| margin | verdict |",
            "|---|---|---|---|---|---|",
        ]
        for name, c in self.comparisons.items():
            lines.append(
                f"| {name} | {c.candidate_metrics['mae']:.2f} | {c.reference_metrics['mae']:.2f} "
                f"| {c.mae_difference:+.2f} [{c.ci_low:+.2f}, {c.ci_high:+.2f}] "
                f"| {c.margin_bps:.2f} | {c.verdict} |"
            )
        return "\n".join(lines)


def require_holdout_days(split: Split, time_column: str, min_days: int) -> int:
    """Refuse a holdout too short to judge a challenger; return its number of days.

    The bootstrap resamples whole days, so with a handful of days its interval is far
    too narrow (3 days give 10 distinct resamples) and a weak challenger would look
    non-inferior.

    Raises
    ------
    DataRejected
        If the holdout covers fewer than ``min_days`` calendar days.
    """
    days = int(split.holdout[time_column].dt.floor("D").nunique())
    if days < min_days:
        raise DataRejected(
            f"input data rejected: the out-of-time holdout covers {days} day(s) from "
            f"{split.boundary.date()}, the policy requires at least {min_days} to compare "
            f"a challenger; supply more history"
        )
    return days


def compare_candidate(
    features: pd.DataFrame,
    holdout: pd.DataFrame,
    actual: np.ndarray,
    candidate: object,
    references: dict[str, object],
    time_column: str,
    margin: float,
    seed: int = 0,
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
        Column whose calendar day defines the bootstrap blocks.
    margin : float
        Non-inferiority margin as a fraction of the reference MAE.
    seed : int
        Bootstrap seed.
    """
    predictions = {"candidate": np.asarray(candidate.predict(features), dtype=float)}
    for name, model in references.items():
        predictions[name] = np.asarray(model.predict(features), dtype=float)
    days = holdout[time_column].dt.floor("D").to_numpy()
    comparisons = {
        name: compare_paired(
            name, actual, predictions["candidate"], predictions[name], days, margin, seed=seed
        )
        for name in references
    }
    return ComparisonReport(
        comparisons=comparisons,
        segments=segment_metrics(holdout, actual, predictions),
        actual=np.asarray(actual, dtype=float),
        predictions=predictions,
    )
