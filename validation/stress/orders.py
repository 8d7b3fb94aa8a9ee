"""Stress orders and the execution schedule chosen for them upstream.

The stress engine does not choose schedules: the model under test (through the policy in
``models/``) has chosen, for every stress order, a horizon and/or a participation rate. This
module validates that table and turns each row into the trajectory the engine follows.

Orders table (one row per order; ``pandas.DataFrame``)
------------------------------------------------------
===================== ======== ========================================================
column                required meaning
===================== ======== ========================================================
order_id              yes      unique key; also keys the order's random streams, so
                               champion and challenger rows of the same order share
                               market shocks (common random numbers)
side                  yes      ``"buy"``/``"sell"`` (or ``"b"``/``"s"``, +1/-1)
quantity              yes      shares, > 0
arrival_price         yes      arrival mid, > 0 (currency)
adv                   yes      average daily volume, shares, > 0
daily_vol             yes      pre-trade daily volatility, fraction, > 0
spread_bps            yes      quoted spread, bps, >= 0 (half of it is paid per share)
horizon_minutes       yes      execution horizon chosen upstream, > 0 (rounded up to
                               whole simulation steps)
predicted_cost_bps    yes      the model's predicted cost, bps (finite)
start_minute          no       session minute at which execution starts (default 0);
                               ``start_minute + horizon_minutes <= 390``
style                 no       ``"twap"``, ``"vwap"`` or ``"pov"`` (default ``"pov"`` when
                               ``participation`` is given, else ``"vwap"``)
participation         no       POV rate in (0, 1], required for ``style="pov"``
urgency               no       >= 0, Almgren-Chriss ``kappa * T`` front-loading of twap/vwap
                               (0 = uniform; default 0)
shares_outstanding    no       > 0; sets ``Theta / V`` of the permanent impact law
===================== ======== ========================================================

Schedules: ``twap`` targets ``x_j / X = sinh(u (1 - j/N)) / sinh(u)`` (``1 - j/N`` when ``u = 0``)
in clock time; ``vwap`` uses the same shape in expected-volume time along the intraday U-curve;
``pov`` trades ``participation`` of each step's realised market volume until done or the horizon
ends (the engine works any remainder after the horizon and completes it at the close).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from validation.stress.errors import StressInputError
from validation.stress.market_model import volume_curve_integral
from vocabulary import SESSION_MINUTES

__all__ = [
    "REQUIRED_COLUMNS",
    "OPTIONAL_COLUMNS",
    "STYLES",
    "validate_orders",
    "schedule_holdings",
]

REQUIRED_COLUMNS = (
    "order_id",
    "side",
    "quantity",
    "arrival_price",
    "adv",
    "daily_vol",
    "spread_bps",
    "horizon_minutes",
    "predicted_cost_bps",
)
OPTIONAL_COLUMNS = ("start_minute", "style", "participation", "urgency", "shares_outstanding")
STYLES = ("twap", "vwap", "pov")
_SIDES = {"buy": 1.0, "b": 1.0, "1": 1.0, "+1": 1.0, "1.0": 1.0, "sell": -1.0, "s": -1.0}
_SIDES.update({"-1": -1.0, "-1.0": -1.0})


def _ids(frame: pd.DataFrame, mask: np.ndarray, limit: int = 5) -> str:
    ids = [str(v) for v in frame.loc[mask, "order_id"].tolist()[:limit]]
    more = ", ..." if int(mask.sum()) > limit else ""
    return ", ".join(ids) + more


def _rows(n: int) -> str:
    return f"{n} row{'s' if n != 1 else ''}"


def validate_orders(
    orders: pd.DataFrame,
    *,
    step_minutes: float = 1.0,
    session_minutes: float = float(SESSION_MINUTES),
) -> pd.DataFrame:
    """Validate the orders table and return a normalised copy.

    Parameters
    ----------
    orders
        The stress orders with their chosen schedule (columns in the module docstring).
    step_minutes
        Simulation step; horizons are rounded up to whole steps.
    session_minutes
        Length of the session; orders must finish by its close.

    Returns
    -------
    pandas.DataFrame
        A copy with every optional column filled, ``side`` as +1/-1, ``style`` resolved and
        an added ``n_steps`` column (steps of the schedule).

    Raises
    ------
    StressInputError
        Listing every problem: column, expectation, offending value and order ids, e.g.
        ``"spread_bps must be >= 0, got -3.2 in 14 rows (order_id: a, b, ...)"``.
    """
    if not isinstance(orders, pd.DataFrame):
        raise StressInputError(f"orders must be a pandas DataFrame, got {type(orders).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in orders.columns]
    if missing:
        raise StressInputError(
            f"orders is missing required column(s) {missing}; got columns {list(orders.columns)}"
        )
    if orders.empty:
        raise StressInputError("orders must have at least one row, got 0")
    unknown = [c for c in orders.columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    frame = orders.drop(columns=unknown).reset_index(drop=True).copy()
    problems: list[str] = []

    ids = frame["order_id"]
    if ids.isna().any():
        problems.append(f"order_id must not be missing, got NaN in {_rows(int(ids.isna().sum()))}")
    frame["order_id"] = ids.astype(str)
    dup = frame["order_id"].duplicated(keep=False).to_numpy()
    if dup.any():
        problems.append(f"order_id must be unique, got duplicates: {_ids(frame, dup)}")

    side_key = frame["side"].astype(str).str.strip().str.lower()
    bad_side = ~side_key.isin(list(_SIDES)).to_numpy()
    if bad_side.any():
        first = frame.loc[bad_side, "side"].iloc[0]
        problems.append(
            f"side must be 'buy' or 'sell' (or +1/-1), got {first!r} in "
            f"{_rows(int(bad_side.sum()))} (order_id: {_ids(frame, bad_side)})"
        )
    frame["side"] = side_key.map(_SIDES).fillna(0.0).astype(float)

    defaults: dict[str, Any] = {
        "start_minute": 0.0,
        "participation": np.nan,
        "urgency": 0.0,
        "shares_outstanding": np.nan,
    }
    for col, default in defaults.items():
        if col not in frame.columns:
            frame[col] = default

    numeric = (
        "quantity",
        "arrival_price",
        "adv",
        "daily_vol",
        "spread_bps",
        "horizon_minutes",
        "predicted_cost_bps",
        "start_minute",
        "participation",
        "urgency",
        "shares_outstanding",
    )
    for col in numeric:
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = (values.isna() & frame[col].notna()).to_numpy()
        if bad.any():
            problems.append(
                f"{col} must be numeric, got {frame.loc[bad, col].iloc[0]!r} in "
                f"{_rows(int(bad.sum()))} (order_id: {_ids(frame, bad)})"
            )
        frame[col] = values.astype(float)

    def check(col: str, ok: np.ndarray, expect: str, *, optional: bool = False) -> None:
        values = frame[col].to_numpy()
        present = ~np.isnan(values) if optional else np.ones(len(values), dtype=bool)
        bad = present & ~ok
        if bad.any():
            got = values[bad][0]
            problems.append(
                f"{col} must be {expect}, got {got:g} in {_rows(int(bad.sum()))} "
                f"(order_id: {_ids(frame, bad)})"
            )

    def col(name: str) -> np.ndarray:
        return frame[name].to_numpy()

    with np.errstate(invalid="ignore"):
        check("quantity", np.isfinite(col("quantity")) & (col("quantity") > 0), "> 0")
        check(
            "arrival_price", np.isfinite(col("arrival_price")) & (col("arrival_price") > 0), "> 0"
        )
        check("adv", np.isfinite(col("adv")) & (col("adv") > 0), "> 0")
        check("daily_vol", np.isfinite(col("daily_vol")) & (col("daily_vol") > 0), "> 0")
        check("spread_bps", np.isfinite(col("spread_bps")) & (col("spread_bps") >= 0), ">= 0")
        check(
            "horizon_minutes",
            np.isfinite(col("horizon_minutes")) & (col("horizon_minutes") > 0),
            "> 0",
        )
        check("predicted_cost_bps", np.isfinite(col("predicted_cost_bps")), "finite")
        check("start_minute", np.isfinite(col("start_minute")) & (col("start_minute") >= 0), ">= 0")
        check("urgency", np.isfinite(col("urgency")) & (col("urgency") >= 0), ">= 0")
        part = col("participation")
        check("participation", (part > 0) & (part <= 1), "in (0, 1]", optional=True)
        check("shares_outstanding", col("shares_outstanding") > 0, "> 0", optional=True)

    if "style" in frame.columns:
        style = frame["style"].astype("string").str.strip().str.lower()
    else:
        style = pd.Series(pd.NA, index=frame.index, dtype="string")
    auto = np.where(np.isnan(col("participation")), "vwap", "pov")
    style = style.fillna(pd.Series(auto, index=frame.index)).astype(str)
    bad_style = ~style.isin(STYLES).to_numpy()
    if bad_style.any():
        problems.append(
            f"style must be one of {list(STYLES)}, got {style[bad_style].iloc[0]!r} in "
            f"{_rows(int(bad_style.sum()))} (order_id: {_ids(frame, bad_style)})"
        )
    frame["style"] = style
    pov_no_rate = ((style == "pov").to_numpy()) & np.isnan(col("participation"))
    if pov_no_rate.any():
        problems.append(
            "participation is required for style 'pov', got NaN in "
            f"{_rows(int(pov_no_rate.sum()))} (order_id: {_ids(frame, pov_no_rate)})"
        )

    with np.errstate(invalid="ignore"):
        n_steps = np.ceil(col("horizon_minutes") / step_minutes - 1e-9)
        end = col("start_minute") + n_steps * step_minutes
        late = np.isfinite(end) & (end > session_minutes + 1e-9)
    if late.any():
        problems.append(
            f"start_minute + horizon_minutes must be <= {session_minutes:g} (the session), got "
            f"{end[late][0]:g} in {_rows(int(late.sum()))} (order_id: {_ids(frame, late)})"
        )
    if problems:
        raise StressInputError(
            f"orders is invalid ({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n"
            + "\n".join("  - " + p for p in problems)
        )
    frame["n_steps"] = np.maximum(n_steps, 1).astype(int)
    return frame


def _shape(fraction_done: np.ndarray, urgency: float) -> np.ndarray:
    """Remaining fraction ``sinh(u (1 - f)) / sinh(u)`` (``1 - f`` for ``u = 0``)."""
    if urgency <= 1e-12:
        return 1.0 - fraction_done
    return np.sinh(urgency * (1.0 - fraction_done)) / math.sinh(urgency)


def schedule_holdings(
    order: Mapping[str, Any] | pd.Series,
    *,
    step_minutes: float = 1.0,
    session_minutes: float = float(SESSION_MINUTES),
    volume_profile: str = "u_shape",
) -> tuple[np.ndarray, float]:
    """Trajectory the engine follows for one validated order.

    Parameters
    ----------
    order
        A row of :func:`validate_orders`' output.
    step_minutes, session_minutes
        Simulation grid.
    volume_profile
        Expected intraday volume curve used by ``vwap`` schedules.

    Returns
    -------
    holdings : numpy.ndarray
        Shares left after each of the ``n_steps`` steps, ``holdings[0] = quantity``.
    pov_rate : float
        Participation rate for ``pov`` orders, else 0.
    """
    qty = float(order["quantity"])
    n = int(order["n_steps"])
    style = str(order["style"])
    urgency = float(order["urgency"])
    if style == "pov":
        return np.full(n + 1, qty), float(order["participation"])
    j = np.arange(n + 1, dtype=float)
    if style == "twap":
        done = j / n
    else:
        start = float(order["start_minute"])
        cum = volume_curve_integral(start + j * step_minutes, volume_profile, session_minutes)
        done = (cum - cum[0]) / (cum[-1] - cum[0])
    x = qty * _shape(done, urgency)
    x[0], x[-1] = qty, 0.0
    return np.minimum.accumulate(np.maximum(x, 0.0)), 0.0
