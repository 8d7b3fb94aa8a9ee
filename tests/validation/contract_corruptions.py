"""Corrupted copies of clean tables, each with the critical checks it must fail.

:data:`CASES` covers every critical check of every contract (a test asserts it); the helpers
build a corrupted copy from the generator's corruption kinds or by editing a few rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from expectations import CONTRACTS
from synthetic.corruption import inject

Tables = dict[str, pd.DataFrame]


def synthetic(kind: str) -> Callable[[Tables], Tables]:
    """A corruption kind of the generator, applied to a copy of the clean tables."""

    def corrupt(tables: Tables) -> Tables:
        return inject(tables, (kind,), np.random.default_rng(5), 5)

    return corrupt


def edit(table: str, change: Callable[[pd.DataFrame], None]) -> Callable[[Tables], Tables]:
    """Apply ``change`` in place to a copy of one table."""

    def corrupt(tables: Tables) -> Tables:
        frame = tables[table].copy()
        change(frame)
        return {**tables, table: frame}

    return corrupt


def set_rows(table: str, column: str, value, rows=(3, 11, 17)) -> Callable[[Tables], Tables]:
    def change(frame: pd.DataFrame) -> None:
        frame.loc[list(rows), column] = value(frame.loc[list(rows)]) if callable(value) else value

    return edit(table, change)


def empty(table: str) -> Callable[[Tables], Tables]:
    return lambda tables: {**tables, table: tables[table].iloc[:0]}


def drop_schema(table: str) -> Callable[[Tables], Tables]:
    def corrupt(tables: Tables) -> Tables:
        frame = tables[table].drop(columns=list(CONTRACTS[table].schema))
        return {**tables, table: frame.assign(unrelated=0)}

    return corrupt


def _wrong_kind(series: pd.Series, kind: str) -> pd.Series:
    if kind == "numeric":
        return series.astype(str)
    if kind == "string":
        return pd.Series(np.arange(len(series)), index=series.index)
    if kind == "timestamp_utc":
        return series.dt.tz_localize(None)
    return series.astype(int)  # boolean


def mistype_schema(table: str) -> Callable[[Tables], Tables]:
    def change(frame: pd.DataFrame) -> None:
        for column, kind in CONTRACTS[table].schema.items():
            frame[column] = _wrong_kind(frame[column], kind)

    return edit(table, change)


def null_in_every_column(table: str) -> Callable[[Tables], Tables]:
    def change(frame: pd.DataFrame) -> None:
        for row, column in enumerate(CONTRACTS[table].schema):
            if frame[column].dtype == bool:
                frame[column] = frame[column].astype("boolean")
            frame.loc[10 * row + 1, column] = None

    return edit(table, change)


def duplicate_bar_key(frame: pd.DataFrame) -> None:
    frame.loc[[101, 205], "ts"] = frame.loc[[100, 204], "ts"].to_numpy()


def reuse_dealer(frame: pd.DataFrame) -> None:
    frame.loc[[1, 6], "dealer"] = frame.loc[[0, 5], "dealer"].to_numpy()


def fill_far_from_arrival(frame: pd.DataFrame) -> None:
    """Fills 80 % above arrival, with the shortfall the prices imply: only the bound fails."""
    rows = [3, 11, 17]
    sign = np.where(frame.loc[rows, "side"] == "buy", 1.0, -1.0)
    frame.loc[rows, "avg_fill_px"] = frame.loc[rows, "arrival_mid"] * 1.8
    frame.loc[rows, "shortfall_bps"] = sign * 0.8 * 1e4


def low_above_open_and_close(frame: pd.DataFrame) -> None:
    rows = [3, 11, 17]
    frame.loc[rows, "low"] = frame.loc[rows, ["open", "close"]].max(axis=1) * 1.01


@dataclass(frozen=True)
class Case:
    """A corrupted copy, the critical checks it must fail, and any it may also fail."""

    id: str
    table: str
    corrupt: Callable[[Tables], Tables]
    fails: frozenset[str]
    may_also_fail: frozenset[str] = field(default_factory=frozenset)


def case(id_, table, corrupt, fails, may_also_fail=()) -> Case:
    return Case(id_, table, corrupt, frozenset(fails), frozenset(may_also_fail))


def _schema_names(table: str, suffix: str) -> set[str]:
    return {f"{column}_{suffix}" for column in CONTRACTS[table].schema}


def _value_checks(table: str) -> set[str]:
    schema = set().union(*(_schema_names(table, s) for s in ("present", "dtype", "not_null")))
    return {c.name for c in CONTRACTS[table].checks if c.severity == "critical"} - schema


X, B, R = "executions", "market_bars", "rfq"
CASES = [
    # executions: the generator's corruption kinds
    case("null_qty", X, synthetic("null_qty"), {"qty_not_null"}),
    case("duplicate_order_id", X, synthetic("duplicate_order_id"), {"order_id_unique"}),
    case("end_before_start", X, synthetic("end_before_start"), {"end_after_start"}),
    case("negative_spread", X, synthetic("negative_spread"), {"spread_bps_non_negative"}),
    case(
        "participation_out_of_range",
        X,
        synthetic("participation_out_of_range"),
        {"participation_in_unit_interval"},
    ),
    case("fill_wrong_side", X, synthetic("fill_price_wrong_side"), {"shortfall_matches_prices"}),
    case(
        "shortfall_as_fraction",
        X,
        synthetic("shortfall_as_fraction"),
        {"shortfall_unit_is_bps", "shortfall_matches_prices"},
    ),
    case("bad_side", X, synthetic("bad_side"), {"side_valid"}),
    case(
        "shares_in_millions",
        X,
        synthetic("shares_in_millions"),
        {"shares_outstanding_exceeds_adv"},
    ),
    case("missing_daily_vol", X, synthetic("missing_column"), {"daily_vol_present"}),
    # executions: edits of a copy
    case("qty_zero", X, set_rows(X, "qty", 0.0), {"qty_positive"}),
    case(
        "arrival_zero",
        X,
        set_rows(X, "arrival_mid", 0.0),
        {"arrival_mid_positive"},
        {"fill_price_near_arrival", "shortfall_matches_prices"},
    ),
    case(
        "fill_zero",
        X,
        set_rows(X, "avg_fill_px", 0.0),
        {"avg_fill_px_positive"},
        {"fill_price_near_arrival", "shortfall_matches_prices"},
    ),
    case("adv_negative", X, set_rows(X, "adv", -1.0), {"adv_positive"}, {"adv_covers_qty"}),
    case("qty_in_wrong_unit", X, set_rows(X, "qty", 1e300), {"adv_covers_qty"}),
    case("urgency_above_one", X, set_rows(X, "urgency", 1.5), {"urgency_in_unit_interval"}),
    case(
        "daily_vol_in_percent",
        X,
        set_rows(X, "daily_vol", lambda f: f["daily_vol"] * 100),
        {"daily_vol_is_fraction"},
    ),
    case("fill_far_from_arrival", X, edit(X, fill_far_from_arrival), {"fill_price_near_arrival"}),
    # market_bars: the generator's corruption kinds
    case("crossed_book", B, synthetic("crossed_book"), {"ask_ge_bid"}),
    case("ohlc_inconsistent", B, synthetic("ohlc_inconsistent"), {"high_ge_open", "high_ge_close"}),
    case("bars_out_of_order", B, synthetic("bars_out_of_order"), {"bars_time_ordered"}),
    case("price_spike", B, synthetic("price_spike"), {"no_price_spike"}),
    case("negative_volume", B, synthetic("negative_volume"), {"volume_non_negative"}),
    # market_bars: edits of a copy
    case(
        "duplicate_bar_key",
        B,
        edit(B, duplicate_bar_key),
        {"bar_key_unique", "bars_time_ordered"},
        {"no_price_spike"},
    ),
    case("low_above_body", B, edit(B, low_above_open_and_close), {"open_ge_low", "close_ge_low"}),
    case("open_zero", B, set_rows(B, "open", 0.0), {"open_positive"}, {"open_ge_low"}),
    case(
        "high_zero",
        B,
        set_rows(B, "high", 0.0),
        {"high_positive"},
        {"high_ge_open", "high_ge_close"},
    ),
    case("low_zero", B, set_rows(B, "low", 0.0), {"low_positive"}),
    case("close_zero", B, set_rows(B, "close", 0.0), {"close_positive"}, {"close_ge_low"}),
    case("bid_zero", B, set_rows(B, "bid", 0.0), {"bid_positive"}),
    case("ask_zero", B, set_rows(B, "ask", 0.0), {"ask_positive"}, {"ask_ge_bid"}),
    case("negative_depth", B, set_rows(B, "depth", -1.0), {"depth_non_negative"}),
    # rfq: edits of a copy
    case("reused_dealer", R, edit(R, reuse_dealer), {"rfq_dealer_unique"}),
    case("rfq_bad_side", R, set_rows(R, "side", "hold"), {"side_valid"}),
    case("rfq_size_zero", R, set_rows(R, "size", 0.0), {"size_positive"}),
    case(
        "negative_quote",
        R,
        set_rows(R, "quoted_spread_bps", -1.0),
        {"quoted_spread_bps_non_negative"},
    ),
    case("negative_response", R, set_rows(R, "response_ms", -5.0), {"response_ms_non_negative"}),
]
# per table: no rows; and the schema checks of every column: all columns missing, all
# mistyped, a null in every column
for _table in CONTRACTS:
    CASES += [
        case(
            f"{_table}-empty", _table, empty(_table), {"table_not_empty"}, {"shortfall_unit_is_bps"}
        ),
        case(
            f"{_table}-no_schema_column",
            _table,
            drop_schema(_table),
            _schema_names(_table, "present"),
        ),
        case(
            f"{_table}-all_mistyped", _table, mistype_schema(_table), _schema_names(_table, "dtype")
        ),
        case(
            f"{_table}-null_everywhere",
            _table,
            null_in_every_column(_table),
            _schema_names(_table, "not_null"),
            _value_checks(_table),
        ),
    ]
