"""Data contract of ``executions``: one row per parent order and its realised shortfall.

Conventions the checks enforce: ``side`` is ``"buy"`` or ``"sell"``; ``shortfall_bps``
is the cost in basis points, positive for a cost on either side, so that
``avg_fill_px = arrival_mid * (1 + side_sign * shortfall_bps / 1e4)`` with
``side_sign`` +1 for buys and -1 for sells; ``daily_vol`` and ``participation`` are
fractions. A fill may legitimately be on either side of arrival (timing noise), so
the fill price is checked against arrival through the recomputed shortfall rather
than by its sign. ``urgency`` is the desk's urgency score in [0, 1] and
``shares_outstanding`` the shares in issue ``Theta``, at least a day's volume: the
permanent impact of the cost law scales with ``(Theta / V) ** 0.25``, so a count given in
millions would shrink it about 30-fold. An order is at most a day's volume (``qty <= adv``):
the model prices the execution of one session, and an order larger than the day's volume
cannot be worked within one (a quantity in the wrong unit, or ``1e300``, would otherwise
reach the estimators as a number they overflow on).

When each column is known (:data:`PRE_TRADE`, :data:`POST_TRADE`): before the order
starts, ``order_id, asset, side, start_ts``, the *planned* ``end_ts`` (start plus the
horizon chosen before trading), ``qty, arrival_mid, adv, shares_outstanding``, the
trailing ``daily_vol`` estimate, the ``spread_bps`` quoted at arrival, the *planned*
``participation`` and ``urgency``; only afterwards, ``avg_fill_px`` and ``shortfall_bps``
(and, in generated data, the ground truth ``true_daily_vol``, ``true_day_volume`` and
``regime``). A model family's features may read pre-trade columns only.

Derived check columns (see :class:`~expectations.spec.DerivedColumn`):

``chk_duration_s``
    ``end_ts - start_ts`` in seconds (computed in pandas: GX's column-pair expectation
    goes through a deprecated pandas path on tz-aware timestamps).
``chk_fill_deviation``
    ``|avg_fill_px / arrival_mid - 1|``, the fill's distance from arrival as a fraction.
``chk_shortfall_gap_bps``
    ``shortfall_bps - side_sign * (avg_fill_px / arrival_mid - 1) * 1e4``: the reported
    shortfall minus the one the prices imply (a buy filled 10 % below arrival gives
    about -1000 bps of implied shortfall and fails); NaN where ``side`` is invalid.
``chk_abs_shortfall_bps``
    ``|shortfall_bps|``, whose median tells bps from a fraction (1e-4 times smaller).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from expectations.checks import (
    between,
    derived_between,
    derived_median_between,
    greater,
    in_set,
    not_empty,
    schema_checks,
    unique,
)
from expectations.dtypes import ColumnKind
from expectations.spec import DerivedColumn, TableContract

__all__ = [
    "TABLE",
    "SCHEMA",
    "SIDES",
    "DERIVED",
    "PRE_TRADE",
    "POST_TRADE",
    "contract",
    "CONTRACT",
]

TABLE = "executions"
SIDES = ("buy", "sell")

SCHEMA: dict[str, ColumnKind] = {
    "order_id": "string",
    "asset": "string",
    "side": "string",
    "start_ts": "timestamp_utc",
    "end_ts": "timestamp_utc",
    "qty": "numeric",
    "arrival_mid": "numeric",
    "avg_fill_px": "numeric",
    "adv": "numeric",
    "shares_outstanding": "numeric",
    "daily_vol": "numeric",
    "spread_bps": "numeric",
    "participation": "numeric",
    "urgency": "numeric",
    "shortfall_bps": "numeric",
}

#: Columns known before the order starts: the only ones features may be computed from.
PRE_TRADE = (
    "order_id",
    "asset",
    "side",
    "start_ts",
    "end_ts",
    "qty",
    "arrival_mid",
    "adv",
    "shares_outstanding",
    "daily_vol",
    "spread_bps",
    "participation",
    "urgency",
)
#: Columns known only after the order, or ground truth production never has.
POST_TRADE = {
    "avg_fill_px": "the order's average fill price, known once it has traded",
    "shortfall_bps": "the realised implementation shortfall, the model's target",
    "true_daily_vol": (
        "the day's true volatility, generator ground truth; before the order a desk has "
        "only the trailing daily_vol"
    ),
    "regime": "the day's volatility regime, generator ground truth",
    "true_day_volume": (
        "the day's expected market volume, generator ground truth; before the order a desk "
        "has the adv"
    ),
}


def _fill_return(frame: pd.DataFrame) -> pd.Series:
    return frame["avg_fill_px"] / frame["arrival_mid"] - 1.0


def _fill_deviation(frame: pd.DataFrame) -> pd.Series:
    return _fill_return(frame).abs()


def _shortfall_gap_bps(frame: pd.DataFrame) -> pd.Series:
    side = frame["side"]
    sign = np.where(side == "buy", 1.0, np.where(side == "sell", -1.0, np.nan))
    return frame["shortfall_bps"] - sign * _fill_return(frame) * 1e4


def _duration_seconds(frame: pd.DataFrame) -> pd.Series:
    return (frame["end_ts"] - frame["start_ts"]).dt.total_seconds()


def _abs_shortfall_bps(frame: pd.DataFrame) -> pd.Series:
    return frame["shortfall_bps"].abs()


DURATION = DerivedColumn(
    name="chk_duration_s",
    inputs=("end_ts", "start_ts"),
    compute=_duration_seconds,
    description="end_ts - start_ts in seconds",
)
FILL_DEVIATION = DerivedColumn(
    name="chk_fill_deviation",
    inputs=("avg_fill_px", "arrival_mid"),
    compute=_fill_deviation,
    description="|avg_fill_px / arrival_mid - 1|",
)
SHORTFALL_GAP = DerivedColumn(
    name="chk_shortfall_gap_bps",
    inputs=("shortfall_bps", "side", "avg_fill_px", "arrival_mid"),
    compute=_shortfall_gap_bps,
    description="shortfall_bps - side_sign * (avg_fill_px / arrival_mid - 1) * 1e4",
)
ABS_SHORTFALL = DerivedColumn(
    name="chk_abs_shortfall_bps",
    inputs=("shortfall_bps",),
    compute=_abs_shortfall_bps,
    description="|shortfall_bps|",
)
DERIVED = (DURATION, FILL_DEVIATION, SHORTFALL_GAP, ABS_SHORTFALL)


def contract(
    *,
    shortfall_tolerance_bps: float = 1.0,
    max_fill_deviation: float = 0.5,
    median_abs_shortfall_bps: tuple[float, float] = (0.1, 1000.0),
) -> TableContract:
    """Build the ``executions`` contract.

    Parameters
    ----------
    shortfall_tolerance_bps : float
        Largest accepted difference between ``shortfall_bps`` and the shortfall the
        fill and arrival prices imply.
    max_fill_deviation : float
        Largest accepted ``|avg_fill_px / arrival_mid - 1|`` (0.5 is 50 %); a fill 10 %
        off on the wrong side is caught by the recomputed shortfall, this bound catches
        prices in the wrong unit or of the wrong asset.
    median_abs_shortfall_bps : tuple of float
        Range of the median ``|shortfall_bps|`` that is plausible in basis points; a
        shortfall given as a fraction has a median about 1e-4 times as large.

    Returns
    -------
    TableContract
        Schema checks plus the value checks listed in the module docstring.
    """
    low, high = median_abs_shortfall_bps
    checks = (
        not_empty(),
        *schema_checks(SCHEMA),
        unique("order_id_unique", "order_id"),
        in_set("side_valid", "side", SIDES),
        derived_between(
            "end_after_start",
            DURATION,
            min_value=0,
            strict_min=True,
            description="end_ts > start_ts",
        ),
        between("qty_positive", "qty", min_value=0, strict_min=True),
        between("arrival_mid_positive", "arrival_mid", min_value=0, strict_min=True),
        between("avg_fill_px_positive", "avg_fill_px", min_value=0, strict_min=True),
        between("adv_positive", "adv", min_value=0, strict_min=True),
        greater("adv_covers_qty", "adv", "qty", or_equal=True),
        greater(
            "shares_outstanding_exceeds_adv",
            "shares_outstanding",
            "adv",
            or_equal=True,
        ),
        between("daily_vol_is_fraction", "daily_vol", min_value=0, max_value=1, strict_min=True),
        between("spread_bps_non_negative", "spread_bps", min_value=0),
        between(
            "participation_in_unit_interval",
            "participation",
            min_value=0,
            max_value=1,
            strict_min=True,
        ),
        between("urgency_in_unit_interval", "urgency", min_value=0, max_value=1),
        derived_between(
            "fill_price_near_arrival",
            FILL_DEVIATION,
            max_value=max_fill_deviation,
            description=f"|avg_fill_px / arrival_mid - 1| <= {max_fill_deviation:g}",
        ),
        derived_between(
            "shortfall_matches_prices",
            SHORTFALL_GAP,
            min_value=-shortfall_tolerance_bps,
            max_value=shortfall_tolerance_bps,
            description=(
                "shortfall_bps equals side_sign * (avg_fill_px / arrival_mid - 1) * 1e4 "
                f"within {shortfall_tolerance_bps:g} bps (fill price consistent with side)"
            ),
        ),
        derived_median_between(
            "shortfall_unit_is_bps",
            ABS_SHORTFALL,
            min_value=low,
            max_value=high,
            description=(
                f"median |shortfall_bps| in [{low:g}, {high:g}] bps; "
                "1e-4 times smaller means a fraction was given instead of bps"
            ),
        ),
        between(
            "daily_vol_plausible",
            "daily_vol",
            min_value=0.001,
            max_value=0.25,
            severity="warning",
        ),
        between("spread_bps_plausible", "spread_bps", max_value=500, severity="warning"),
        between(
            "shortfall_bps_plausible",
            "shortfall_bps",
            min_value=-2000,
            max_value=2000,
            severity="warning",
        ),
    )
    return TableContract(
        table=TABLE,
        schema=SCHEMA,
        checks=checks,
        derived=DERIVED,
        key_columns=("order_id",),
        pre_trade=PRE_TRADE,
        post_trade=POST_TRADE,
    )


CONTRACT = contract()
