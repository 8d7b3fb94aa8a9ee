"""Checks of the scalar and array arguments of a simulation, with messages that name them."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from validation.stress.errors import StressInputError

__all__ = ["check_holdings", "finite_number", "integer", "side_sign"]


def finite_number(
    name: str, value: object, *, low: float | None = None, strict: bool = False
) -> float:
    """Return ``value`` as a finite float, at least (``strict``: above) ``low`` when given.

    Raises
    ------
    StressInputError
        Naming ``name``, the bound and the value, e.g. ``"horizon must be > 0, got -1"``.
    """
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise StressInputError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise StressInputError(f"{name} must be finite, got {number}")
    if low is not None and (number <= low if strict else number < low):
        raise StressInputError(f"{name} must be {'>' if strict else '>='} {low:g}, got {number:g}")
    return number


def integer(name: str, value: object, *, low: int) -> int:
    """Return ``value`` as an int >= ``low``; a bool or a float is refused, not truncated.

    Raises
    ------
    StressInputError
        Naming ``name``, the bound and the value.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise StressInputError(f"{name} must be an integer, got {value!r}")
    if value < low:
        raise StressInputError(f"{name} must be >= {low}, got {value}")
    return int(value)


def check_holdings(holdings: ArrayLike) -> np.ndarray:
    """Return the schedule ``[x_0, ..., x_N]`` as floats after checking it is one.

    Raises
    ------
    StressInputError
        Unless it is 1-D with ``N >= 1``, finite, non-increasing, ``x_0 > 0`` and ``x_N >= 0``.
    """
    try:
        x = np.asarray(holdings, dtype=float)
    except (TypeError, ValueError):
        raise StressInputError(f"holdings must be an array of numbers, got {holdings!r}") from None
    if x.ndim != 1 or x.size < 2:
        raise StressInputError(
            f"holdings must be a 1-D array [x_0, ..., x_N] with N >= 1, got shape {x.shape}"
        )
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise StressInputError(
            f"holdings must be finite, got {x[bad[0]]} at index {bad[0]} ({bad.size} values)"
        )
    if x[0] <= 0:
        raise StressInputError(f"holdings[0] (the order size) must be > 0, got {x[0]:g}")
    if x[-1] < 0:
        raise StressInputError(f"holdings[-1] must be >= 0, got {x[-1]:g}")
    up = np.flatnonzero(np.diff(x) > 0)
    if up.size:
        i = int(up[0])
        raise StressInputError(
            "holdings must be non-increasing (trading in one direction), got an increase at "
            f"index {i + 1} ({x[i]:g} -> {x[i + 1]:g})"
        )
    return x


def side_sign(side: str | int) -> float:
    """Return +1 for a purchase, -1 for a sale (``"buy"``/``"sell"``, ``"b"``/``"s"``, +1/-1).

    Raises
    ------
    StressInputError
        For any other value.
    """
    mapping = {"sell": -1.0, "s": -1.0, "-1": -1.0, "buy": 1.0, "b": 1.0, "1": 1.0, "+1": 1.0}
    key = str(side).strip().lower()
    if key not in mapping:
        raise StressInputError(f"side must be 'buy' or 'sell' (or +1/-1), got {side!r}")
    return mapping[key]
