"""The candidate against one reference on the same holdout orders."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from validation.comparison.inference import day_clustered_interval
from validation.comparison.losses import PRIMARY_LOSS, loss_metrics, squared_error
from validation.comparison.verdicts import Verdict, decide, explain

__all__ = ["METHOD", "NAIVE_SOURCE", "PairedComparison", "compare_paired"]

#: What the naive predictor's constant is, as the reports name it.
NAIVE_SOURCE = "holdout mean"

#: How the interval is computed, as the reports name it.
METHOD = (
    "t interval over trading days: cluster-robust variance of the mean per-order loss "
    "difference with days as clusters, n_days - 1 degrees of freedom"
)


@dataclass(frozen=True)
class PairedComparison:
    """The candidate against one reference model: losses, interval, margin and verdict.

    Losses are mean squared errors (bps²); differences are candidate minus reference, so a
    positive difference means the candidate is worse. ``skill`` is the reference's loss
    reduction over the naive predictor (a constant, ``naive_prediction``), ``margin`` is
    ``margin_fraction * max(skill, 0)``: the loss the candidate may give up.
    """

    reference: str
    loss: str
    candidate_loss: float
    reference_loss: float
    naive_loss: float
    naive_prediction: float
    naive_source: str
    skill: float
    margin_fraction: float
    margin: float
    loss_difference: float
    ci_low: float
    ci_high: float
    standard_error: float
    level: float
    method: str
    verdict: Verdict
    explanation: str
    candidate_metrics: dict[str, float]
    reference_metrics: dict[str, float]
    n_orders: int
    n_days: int

    def as_dict(self) -> dict[str, object]:
        """JSON-serialisable form."""
        return asdict(self)


def compare_paired(
    reference: str,
    actual: np.ndarray,
    candidate_pred: np.ndarray,
    reference_pred: np.ndarray,
    days: np.ndarray,
    margin_fraction: float,
    level: float = 0.95,
) -> PairedComparison:
    """Compare the candidate with ``reference`` on the same orders.

    Parameters
    ----------
    reference : str
        Name of the reference model (``champion`` or a baseline).
    actual : ndarray
        Realised target of each holdout order.
    candidate_pred, reference_pred : ndarray
        Predictions of the two models for the same orders.
    days : ndarray
        Trading day of each order: the clusters of the interval.
    margin_fraction : float
        Share of the reference's skill the candidate may give up, in [0, 1).
    level : float
        Confidence level of the interval.

    Returns
    -------
    PairedComparison

    Raises
    ------
    ValueError
        If ``margin_fraction`` is outside [0, 1), the naive prediction is not finite,
        or the arrays are not paired, finite and spread over at least two days.
    """
    if not 0.0 <= margin_fraction < 1.0:
        raise ValueError(f"margin_fraction must be in [0, 1), got {margin_fraction}")
    candidate_loss = squared_error(actual, candidate_pred)
    reference_loss = squared_error(actual, reference_pred)
    # The naive predictor is the holdout's own mean: the best constant in hindsight (the
    # smallest skill, so the strictest margin), and no candidate's training data moves it.
    naive_prediction = float(np.mean(actual))
    naive_loss = float(np.mean(squared_error(actual, np.full(np.shape(actual), naive_prediction))))
    interval = day_clustered_interval(candidate_loss - reference_loss, days, level)
    skill = naive_loss - float(reference_loss.mean())
    # A reference no better than a constant has no skill to give up: the margin is 0.
    margin = margin_fraction * max(skill, 0.0)
    verdict = decide(interval.ci_low, interval.ci_high, margin)
    return PairedComparison(
        reference=reference,
        loss=PRIMARY_LOSS,
        candidate_loss=float(candidate_loss.mean()),
        reference_loss=float(reference_loss.mean()),
        naive_loss=naive_loss,
        naive_prediction=float(naive_prediction),
        naive_source=NAIVE_SOURCE,
        skill=skill,
        margin_fraction=margin_fraction,
        margin=margin,
        loss_difference=interval.estimate,
        ci_low=interval.ci_low,
        ci_high=interval.ci_high,
        standard_error=interval.standard_error,
        level=level,
        method=METHOD,
        verdict=verdict,
        explanation=explain(
            verdict,
            reference,
            interval.ci_low,
            interval.ci_high,
            margin,
            margin_fraction,
            skill,
            interval.n_days,
        ),
        candidate_metrics=loss_metrics(actual, candidate_pred),
        reference_metrics=loss_metrics(actual, reference_pred),
        n_orders=int(np.size(actual)),
        n_days=interval.n_days,
    )
