"""Column kinds of the data contracts and how a pandas dtype is matched against one.

A contract states the *kind* of each column (text, number, UTC timestamp, boolean)
rather than one exact dtype, so that ``float64`` and ``int64``, or
``datetime64[ns, UTC]`` and ``datetime64[us, UTC]``, are all accepted where they
mean the same thing. Timestamps must be in UTC: the session clock is UTC, and a
column in another zone (``America/New_York``) would shift every order's time of day.
"""

from __future__ import annotations

from typing import Literal, get_args

import pandas as pd
from pandas.api import types as ptypes

__all__ = ["ColumnKind", "COLUMN_KINDS", "KIND_DESCRIPTIONS", "dtype_matches"]

ColumnKind = Literal["string", "numeric", "timestamp_utc", "boolean"]
COLUMN_KINDS: tuple[str, ...] = get_args(ColumnKind)

KIND_DESCRIPTIONS: dict[str, str] = {
    "string": "text (str, string or object dtype)",
    "numeric": "a number (int or float dtype, not bool)",
    "timestamp_utc": "a UTC timestamp (datetime64[..., UTC] dtype)",
    "boolean": "a boolean (bool or boolean dtype)",
}


def dtype_matches(dtype: object, kind: str) -> bool:
    """Tell whether a pandas dtype is of a column kind.

    Parameters
    ----------
    dtype : object
        A pandas or NumPy dtype, as in ``frame[column].dtype``.
    kind : str
        One of :data:`COLUMN_KINDS`.

    Returns
    -------
    bool
        ``True`` if the dtype is of that kind.

    Raises
    ------
    ValueError
        If ``kind`` is not one of :data:`COLUMN_KINDS`.
    """
    if kind == "string":
        return ptypes.is_string_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype)
    if kind == "numeric":
        return ptypes.is_numeric_dtype(dtype) and not ptypes.is_bool_dtype(dtype)
    if kind == "timestamp_utc":
        return isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == "UTC"
    if kind == "boolean":
        return ptypes.is_bool_dtype(dtype)
    raise ValueError(f"column kind must be one of {', '.join(COLUMN_KINDS)}, got {kind!r}")
