"""Deliberate data defects, one per data-contract check, for contract tests and demos.

Each injector takes the tables and a generator and returns damaged copies; the
inputs are never modified in place.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

__all__ = ["inject"]

Tables = dict[str, pd.DataFrame]
Injector = Callable[[Tables, np.random.Generator, int], Tables]


def _rows(frame: pd.DataFrame, rng: np.random.Generator, k: int) -> np.ndarray:
    return rng.choice(len(frame), size=min(k, len(frame)), replace=False)


def _edit(tables: Tables, name: str, edit: Callable[[pd.DataFrame], None]) -> Tables:
    out = dict(tables)
    frame = tables[name].copy()
    edit(frame)
    out[name] = frame
    return out


def _set(name: str, column: str, value: Callable[[pd.DataFrame, np.ndarray], object]) -> Injector:
    def injector(tables: Tables, rng: np.random.Generator, k: int) -> Tables:
        def edit(frame: pd.DataFrame) -> None:
            idx = _rows(frame, rng, k)
            frame.loc[frame.index[idx], column] = value(frame, idx)

        return _edit(tables, name, edit)

    return injector


def _duplicate_order_id(tables: Tables, rng: np.random.Generator, k: int) -> Tables:
    def edit(frame: pd.DataFrame) -> None:
        idx = _rows(frame, rng, k)
        frame.loc[frame.index[idx], "order_id"] = (
            frame["order_id"].iloc[(idx + 1) % len(frame)].values
        )

    return _edit(tables, "executions", edit)


def _end_before_start(tables: Tables, rng: np.random.Generator, k: int) -> Tables:
    def edit(frame: pd.DataFrame) -> None:
        idx = frame.index[_rows(frame, rng, k)]
        frame.loc[idx, "end_ts"] = frame.loc[idx, "start_ts"] - pd.Timedelta(minutes=1)

    return _edit(tables, "executions", edit)


def _fill_price_wrong_side(tables: Tables, rng: np.random.Generator, k: int) -> Tables:
    """Buys filled 10 % below arrival: a sign error in the fill feed."""

    def edit(frame: pd.DataFrame) -> None:
        buys = frame.index[frame["side"] == "buy"]
        idx = buys[rng.choice(len(buys), size=min(k, len(buys)), replace=False)]
        frame.loc[idx, "avg_fill_px"] = frame.loc[idx, "arrival_mid"] * 0.9

    return _edit(tables, "executions", edit)


def _shortfall_as_fraction(tables: Tables, rng: np.random.Generator, k: int) -> Tables:
    """The whole column delivered as a fraction (0.0012) instead of bps (12.0)."""

    def edit(frame: pd.DataFrame) -> None:
        frame["shortfall_bps"] = frame["shortfall_bps"] * 1e-4

    return _edit(tables, "executions", edit)


def _shares_in_millions(tables: Tables, rng: np.random.Generator, k: int) -> Tables:
    """The whole column delivered in millions of shares (1234.5 instead of 1234500000)."""

    def edit(frame: pd.DataFrame) -> None:
        frame["shares_outstanding"] = frame["shares_outstanding"] * 1e-6

    return _edit(tables, "executions", edit)


def _missing_column(tables: Tables, rng: np.random.Generator, k: int) -> Tables:
    out = dict(tables)
    out["executions"] = tables["executions"].drop(columns=["daily_vol"])
    return out


def _crossed_book(tables: Tables, rng: np.random.Generator, k: int) -> Tables:
    def edit(frame: pd.DataFrame) -> None:
        idx = frame.index[_rows(frame, rng, k)]
        frame.loc[idx, ["bid", "ask"]] = frame.loc[idx, ["ask", "bid"]].values

    return _edit(tables, "market_bars", edit)


def _bars_out_of_order(tables: Tables, rng: np.random.Generator, k: int) -> Tables:
    def edit(frame: pd.DataFrame) -> None:
        i = int(rng.integers(1, len(frame) - 1))
        while frame["asset"].iat[i] != frame["asset"].iat[i + 1]:
            i -= 1
        frame.iloc[[i, i + 1]] = frame.iloc[[i + 1, i]].values

    return _edit(tables, "market_bars", edit)


def _stale_feed(tables: Tables, rng: np.random.Generator, k: int) -> Tables:
    """Drop a two-hour block of one asset's bars inside one session."""
    bars = tables["market_bars"]
    first_asset = bars.index[bars["asset"] == bars["asset"].iat[0]]
    out = dict(tables)
    out["market_bars"] = bars.drop(index=first_asset[20:44])
    return out


def _price_spike(tables: Tables, rng: np.random.Generator, k: int) -> Tables:
    def edit(frame: pd.DataFrame) -> None:
        idx = frame.index[_rows(frame, rng, k)]
        for column in ("open", "high", "low", "close", "bid", "ask"):
            frame.loc[idx, column] = frame.loc[idx, column] * 3.0

    return _edit(tables, "market_bars", edit)


_INJECTORS: dict[str, Injector] = {
    "null_qty": _set("executions", "qty", lambda f, i: np.nan),
    "duplicate_order_id": _duplicate_order_id,
    "end_before_start": _end_before_start,
    "negative_spread": _set("executions", "spread_bps", lambda f, i: -3.2),
    "participation_out_of_range": _set("executions", "participation", lambda f, i: 1.7),
    "fill_price_wrong_side": _fill_price_wrong_side,
    "shortfall_as_fraction": _shortfall_as_fraction,
    "shares_in_millions": _shares_in_millions,
    "bad_side": _set("executions", "side", lambda f, i: "hold"),
    "missing_column": _missing_column,
    "crossed_book": _crossed_book,
    "ohlc_inconsistent": _set(
        "market_bars", "high", lambda f, i: f["low"].iloc[i].to_numpy() * 0.99
    ),
    "bars_out_of_order": _bars_out_of_order,
    "stale_feed": _stale_feed,
    "price_spike": _price_spike,
    "negative_volume": _set("market_bars", "volume", lambda f, i: -100.0),
}


def inject(tables: Tables, kinds: tuple[str, ...], rng: np.random.Generator, rows: int) -> Tables:
    """Apply each named defect in turn and return the damaged tables.

    Raises
    ------
    KeyError
        If a kind is not one of :data:`synthetic.config.CORRUPTION_KINDS`.
    """
    for kind in kinds:
        tables = _INJECTORS[kind](tables, rng, rows)
    return tables
