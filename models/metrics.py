"""Regression metrics shared by every family."""

from __future__ import annotations

import numpy as np

__all__ = ["regression_metrics"]


def regression_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """MAE, RMSE, 95th percentile of the absolute error and bias (mean of predicted - actual).

    Raises
    ------
    ValueError
        If the arrays differ in length or are empty.
    """
    actual = np.asarray(actual, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    if actual.shape != predicted.shape or actual.size == 0:
        raise ValueError(
            f"actual and predicted must be non-empty and of equal length, got "
            f"{actual.shape} and {predicted.shape}"
        )
    error = predicted - actual
    return {
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "p95_abs_error": float(np.quantile(np.abs(error), 0.95)),
        "bias": float(np.mean(error)),
    }
