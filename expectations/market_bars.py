"""Data contract of ``market_bars``: intraday OHLC, volume and quote bars per asset.

Bars come in sessions: overnight and weekend gaps are normal, so feed gaps are only
measured between consecutive bars of the same asset on the same (UTC) date.

Derived check columns (see :class:`~expectations.spec.DerivedColumn`):

``chk_ts_step_s``
    Seconds from the previous row of the same asset, in row order (NaN on an asset's
    first row); a value <= 0 means the asset's bars are not in strictly increasing time.
``chk_intraday_gap_min``
    Minutes from the previous bar of the same asset on the same date, bars sorted by
    time (NaN on the first bar of each asset-date); a large value is a stale feed.
    A feed that starts late or stops early in a session leaves no gap between bars
    and is not caught by this check.
``chk_close_jump_sigmas``
    ``|log(close / previous close)|`` within an asset-date, scaled to one usual bar
    interval (divided by ``sqrt(elapsed / median elapsed)`` when bars are missing, so a
    feed gap is not taken for a spike), in robust standard deviations of that
    asset-date's scaled returns (``1.4826 * MAD``; of the asset's returns over all dates
    when a date has fewer than :data:`MIN_RETURNS_PER_DAY`; floored at
    :data:`SIGMA_FLOOR`). Per date, because volatility changes from day to day: a calm
    day's scale would make a volatile day look like spikes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from expectations.checks import (
    between,
    compound_unique,
    derived_between,
    greater,
    not_empty,
    schema_checks,
)
from expectations.dtypes import ColumnKind
from expectations.spec import DerivedColumn, TableContract

__all__ = [
    "TABLE",
    "SCHEMA",
    "DERIVED",
    "MIN_RETURNS_PER_DAY",
    "SIGMA_FLOOR",
    "contract",
    "CONTRACT",
]

TABLE = "market_bars"
MIN_RETURNS_PER_DAY = 20
SIGMA_FLOOR = 1e-4
_MAD_TO_SIGMA = 1.4826

SCHEMA: dict[str, ColumnKind] = {
    "ts": "timestamp_utc",
    "asset": "string",
    "open": "numeric",
    "high": "numeric",
    "low": "numeric",
    "close": "numeric",
    "volume": "numeric",
    "bid": "numeric",
    "ask": "numeric",
    "depth": "numeric",
}
_PRICES = ("open", "high", "low", "close", "bid", "ask")


def _ts_step_seconds(frame: pd.DataFrame) -> pd.Series:
    step = frame.groupby("asset", sort=False, observed=True)["ts"].diff()
    return step.dt.total_seconds()


def _by_asset_time(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Return ``columns`` sorted by asset then time, with the UTC date as ``date``."""
    ordered = frame[["asset", "ts", *columns]].sort_values(["asset", "ts"], kind="stable")
    return ordered.assign(date=ordered["ts"].dt.normalize())


def _intraday_gap_minutes(frame: pd.DataFrame) -> pd.Series:
    ordered = _by_asset_time(frame, [])
    gap = ordered.groupby(["asset", "date"], sort=False, observed=True)["ts"].diff()
    return (gap.dt.total_seconds() / 60.0).reindex(frame.index)


def _robust_sigma(returns: pd.Series, keys: list[pd.Series]) -> pd.Series:
    """``1.4826 * MAD`` of ``returns`` per group of ``keys``, broadcast to each row."""
    grouped = returns.groupby(keys, sort=False, observed=True)
    deviation = (returns - grouped.transform("median")).abs()
    return _MAD_TO_SIGMA * deviation.groupby(keys, sort=False, observed=True).transform("median")


def _close_jump_sigmas(frame: pd.DataFrame) -> pd.Series:
    ordered = _by_asset_time(frame, ["close"])
    day_keys = [ordered["asset"], ordered["date"]]
    log_close = np.log(ordered["close"].where(ordered["close"] > 0))
    returns = log_close.groupby(day_keys, sort=False, observed=True).diff()
    elapsed = ordered["ts"].groupby(day_keys, sort=False, observed=True).diff().dt.total_seconds()
    usual = elapsed.groupby(day_keys, sort=False, observed=True).transform("median")
    per_bar = returns / np.sqrt((elapsed / usual).clip(lower=1.0))
    sigma = _robust_sigma(per_bar, day_keys)
    count = per_bar.groupby(day_keys, sort=False, observed=True).transform("count")
    sigma = sigma.where(count >= MIN_RETURNS_PER_DAY, _robust_sigma(per_bar, [ordered["asset"]]))
    return (per_bar.abs() / sigma.clip(lower=SIGMA_FLOOR)).reindex(frame.index)


TS_STEP = DerivedColumn(
    name="chk_ts_step_s",
    inputs=("asset", "ts"),
    compute=_ts_step_seconds,
    description="seconds since the previous row of the same asset, in row order",
)
INTRADAY_GAP = DerivedColumn(
    name="chk_intraday_gap_min",
    inputs=("asset", "ts"),
    compute=_intraday_gap_minutes,
    description="minutes since the previous bar of the same asset on the same date",
)
CLOSE_JUMP = DerivedColumn(
    name="chk_close_jump_sigmas",
    inputs=("asset", "ts", "close"),
    compute=_close_jump_sigmas,
    description="|log return of close| per usual bar interval, in robust sigmas of the day",
)
DERIVED = (TS_STEP, INTRADAY_GAP, CLOSE_JUMP)


def contract(*, stale_gap_minutes: float = 30.0, spike_sigmas: float = 8.0) -> TableContract:
    """Build the ``market_bars`` contract.

    Parameters
    ----------
    stale_gap_minutes : float
        Largest accepted gap between consecutive bars of an asset within a session.
    spike_sigmas : float
        Largest accepted absolute log return of ``close``, in robust sigmas.

    Returns
    -------
    TableContract
        Schema checks plus the value checks listed in the module docstring.
    """
    positive_prices = [
        between(f"{column}_positive", column, min_value=0, strict_min=True) for column in _PRICES
    ]
    checks = (
        not_empty(),
        *schema_checks(SCHEMA),
        compound_unique("bar_key_unique", ("asset", "ts")),
        derived_between(
            "bars_time_ordered",
            TS_STEP,
            min_value=0,
            strict_min=True,
            description="ts strictly increases from row to row within each asset",
        ),
        *positive_prices,
        greater("high_ge_open", "high", "open", or_equal=True),
        greater("high_ge_close", "high", "close", or_equal=True),
        greater("open_ge_low", "open", "low", or_equal=True),
        greater("close_ge_low", "close", "low", or_equal=True),
        greater("ask_ge_bid", "ask", "bid", or_equal=True),
        between("volume_non_negative", "volume", min_value=0),
        between("depth_non_negative", "depth", min_value=0),
        derived_between(
            "no_price_spike",
            CLOSE_JUMP,
            max_value=spike_sigmas,
            description=(
                f"|log return of close| per usual bar interval <= {spike_sigmas:g} robust "
                "sigmas (1.4826 * MAD) of the asset's returns that date"
            ),
        ),
        derived_between(
            "no_stale_feed",
            INTRADAY_GAP,
            max_value=stale_gap_minutes,
            severity="warning",
            description=(
                f"gap between consecutive bars of an asset within a session "
                f"<= {stale_gap_minutes:g} min"
            ),
        ),
    )
    return TableContract(
        table=TABLE,
        schema=SCHEMA,
        checks=checks,
        derived=DERIVED,
        key_columns=("asset", "ts"),
    )


CONTRACT = contract()
