"""Order and headings of the report's metric tables (holdout accuracy, stress results).

The one place the renderers take column headings from, so that Markdown and HTML name
a statistic alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from validation.stress.catalogue import GATE_LABELS

__all__ = ["METRIC_HEADERS", "STRESS_HEADERS", "is_stress_key", "metric_names", "stress_columns"]

STRESS_HEADERS = {"scenario": "scenario", "model": "model", **GATE_LABELS}
"""Column of the stress table -> its heading; unknown columns keep their name."""

METRIC_HEADERS = {
    "mae": "MAE",
    "rmse": "RMSE",
    "bias": "bias",
    "p95_abs_error": "95th percentile |error|",
}
"""Holdout metric -> its heading; unknown metrics keep their name."""

_STRESS_KEYS = ("scenario", "model")


def stress_columns(table: Sequence[Mapping[str, Any]]) -> list[str]:
    """Scenario and model first, then the statistics in the order recorded.

    Parameters
    ----------
    table : sequence of Mapping
        Rows of the stress table (``report["stress"]["table"]``).

    Returns
    -------
    list of str
        Every key that occurs in a row, once.
    """
    seen = list(dict.fromkeys(key for row in table for key in row))
    first = [c for c in _STRESS_KEYS if c in seen]
    return first + [c for c in seen if c not in first]


def is_stress_key(column: str) -> bool:
    """Whether ``column`` names a row of the stress table rather than a statistic."""
    return column in _STRESS_KEYS


def metric_names(holdout: Mapping[str, Mapping[str, float]]) -> list[str]:
    """Every metric any model has on the holdout, sorted (the columns of its table).

    Parameters
    ----------
    holdout : Mapping
        ``report["training"]["holdout_metrics"]``: model -> metric -> value.

    Returns
    -------
    list of str
        Sorted metric names.
    """
    return sorted({name for metrics in holdout.values() for name in metrics})
