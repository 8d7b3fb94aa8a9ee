"""Values a check reports (observed values, failing rows) made JSON-safe and shown in one line."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plain", "row_text", "show"]


def plain(value: Any) -> Any:
    """Return ``value`` as a JSON-serialisable Python scalar (NaN becomes ``None``)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return str(value)


def show(value: Any) -> str:
    """Return ``value`` as a report shows it: floats to 6 significant digits, ``None`` as null."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return "null" if value is None else str(value)


def row_text(example: Mapping[str, Any]) -> str:
    """Return ``row 17: order_id=O17, qty=null`` (or ``value=3`` without a row)."""
    fields = ", ".join(f"{k}={show(v)}" for k, v in example.items() if k != "row")
    return f"row {example['row']}: {fields}" if "row" in example else fields
