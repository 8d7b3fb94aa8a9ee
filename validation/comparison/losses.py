"""Per-order losses: squared error, the loss the verdict is judged on, and reported metrics.

An expected-cost model is consumed as an expectation (the policy adds predicted costs
and a risk penalty and takes the smallest), and the expectation is exactly what
minimises squared error: squared error is therefore the primary loss. The absolute
error (minimised by the median), RMSE, bias and pinball losses are reported beside it
so that a validator sees the shape of the errors, but the verdict never uses them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PINBALL_QUANTILES", "PRIMARY_LOSS", "loss_metrics", "pinball_loss", "squared_error"]

#: Name of the loss the verdict is judged on, as written in reports.
PRIMARY_LOSS = "squared error"
#: Quantiles of the reported pinball losses: under-predicting a cost (q90) is what
#: leads the policy to trade too fast, over-predicting it (q10) too slowly.
PINBALL_QUANTILES = (0.1, 0.5, 0.9)


def _paired(actual: np.ndarray, predicted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    actual = np.asarray(actual, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    if actual.shape != predicted.shape or actual.ndim != 1 or actual.size == 0:
        raise ValueError(
            f"actual and predicted must be non-empty 1-d arrays of equal length, got shapes "
            f"{actual.shape} and {predicted.shape}"
        )
    bad = int(np.count_nonzero(~np.isfinite(actual) | ~np.isfinite(predicted)))
    if bad:
        raise ValueError(
            f"actual and predicted must be finite, got {bad} non-finite value(s) "
            f"in {actual.size} rows"
        )
    return actual, predicted


def squared_error(actual: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Per-order squared error ``(predicted - actual) ** 2``.

    Raises
    ------
    ValueError
        If the arrays differ in shape, are empty or hold non-finite values.
    """
    actual, predicted = _paired(actual, predicted)
    return (predicted - actual) ** 2


def pinball_loss(actual: np.ndarray, predicted: np.ndarray, quantile: float) -> float:
    """Mean pinball (quantile) loss of ``predicted`` read as the ``quantile`` of the outcome.

    Raises
    ------
    ValueError
        If ``quantile`` is outside (0, 1) or the arrays are not paired and finite.
    """
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must be in (0, 1), got {quantile}")
    actual, predicted = _paired(actual, predicted)
    error = actual - predicted
    return float(np.mean(np.maximum(quantile * error, (quantile - 1.0) * error)))


def loss_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Every loss a report shows for one model.

    Returns
    -------
    dict
        ``mse`` (the primary loss), ``rmse``, ``mae``, ``bias`` (mean of predicted -
        actual), ``p95_abs_error`` and ``pinball_q10``, ``pinball_q50``, ``pinball_q90``.

    Raises
    ------
    ValueError
        If the arrays are not paired, non-empty and finite.
    """
    actual, predicted = _paired(actual, predicted)
    error = predicted - actual
    mse = float(np.mean(error**2))
    metrics = {
        "mse": mse,
        "rmse": float(np.sqrt(mse)),
        "mae": float(np.mean(np.abs(error))),
        "bias": float(np.mean(error)),
        "p95_abs_error": float(np.quantile(np.abs(error), 0.95)),
    }
    for q in PINBALL_QUANTILES:
        metrics[f"pinball_q{round(q * 100):02d}"] = pinball_loss(actual, predicted, q)
    return metrics
