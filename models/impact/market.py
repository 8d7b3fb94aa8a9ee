"""The market's own move over each order's window, read from the market bars.

A pre-trade cost model predicts what *our* trading costs; the mid also moves for reasons
that have nothing to do with the order (the market, the day, the asset), and that move is
most of a realised shortfall's variance. The desk's usual transaction-cost benchmark removes
it: the market-adjusted shortfall is the shortfall minus what the market did to a linear
schedule over the same window. Its expectation is the same expected cost, and its noise is
a fraction of the raw shortfall's, so models trained and judged on it are told apart on
a dozen days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["market_move_bps"]


def market_move_bps(executions: pd.DataFrame, market_bars: pd.DataFrame) -> np.ndarray:
    """Each order's market move in bps, signed so that a move against the order is positive.

    ``side_sign * (twap_mid / arrival_mid - 1) * 1e4`` with ``twap_mid`` the mean of
    ``(open + close) / 2`` over the bars of the order's asset with ``start_ts <= ts <
    end_ts``: what the market did to a linear schedule.

    Parameters
    ----------
    executions : DataFrame
        Needs ``asset, side, start_ts, end_ts, arrival_mid``.
    market_bars : DataFrame
        Needs ``asset, ts, open, close``.

    Returns
    -------
    ndarray
        One value per order, in the order of ``executions``; NaN for an order with no bar
        of its asset inside its window.
    """
    bars = market_bars.sort_values(["asset", "ts"], kind="stable")
    mid = ((bars["open"] + bars["close"]) / 2.0).to_numpy(dtype=float)
    cumulative = np.concatenate([[0.0], np.cumsum(mid)])
    keys = bars["asset"].to_numpy().astype(str)
    stamps = pd.DatetimeIndex(bars["ts"]).asi8
    start = pd.DatetimeIndex(executions["start_ts"]).asi8
    end = pd.DatetimeIndex(executions["end_ts"]).asi8
    twap = np.empty(len(executions))
    for name, rows in executions.groupby("asset", sort=False).indices.items():
        first, last = np.searchsorted(keys, name, "left"), np.searchsorted(keys, name, "right")
        times = stamps[first:last]
        lo = first + np.searchsorted(times, start[rows], "left")
        hi = first + np.searchsorted(times, end[rows], "left")
        count = hi - lo
        # An order with no bar in its window has no benchmark: NaN, for the caller to refuse.
        twap[rows] = np.where(
            count > 0, (cumulative[hi] - cumulative[lo]) / np.maximum(count, 1), np.nan
        )
    sign = np.where(executions["side"].to_numpy() == "buy", 1.0, -1.0)
    return sign * (twap / executions["arrival_mid"].to_numpy(dtype=float) - 1.0) * 1e4
