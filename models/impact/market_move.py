"""The market's move over each order's window, read from the market bars.

A pre-trade cost model predicts what *our* trading costs; the mid also moves for reasons
that have nothing to do with the order, and the market's share of that move is common to
every asset. The desk's transaction-cost benchmark removes it: the market-adjusted
shortfall is the shortfall minus ``beta`` times what the market did to a linear schedule
over the same window, the market being the equal-weighted index of the *other* assets of
the feed and ``beta`` the asset's sensitivity to it, fitted on the feed's bar returns.

Why not the asset's own move: the asset's bars carry the order's own footprint (its
permanent impact moves the mid while it trades), so subtracting the asset's own move would
also subtract half the order's permanent impact, about half the expected impact of a block
of several percent of ADV, and the model would learn a cost the desk does not pay. The
index leaves the asset out for the same reason. Its expectation is thus the same expected
cost; its noise is the asset's own move, which no pre-trade model predicts and no
benchmark may remove.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["market_betas", "market_move_bps"]


def _wide(market_bars: pd.DataFrame) -> tuple[pd.DatetimeIndex, pd.DataFrame, pd.DataFrame]:
    """Bar timestamps, log returns and presence of every asset on one time grid."""
    bars = market_bars.sort_values(["asset", "ts"], kind="stable")
    returns = np.log(bars["close"].to_numpy(dtype=float) / bars["open"].to_numpy(dtype=float))
    long = pd.DataFrame({"ts": bars["ts"], "asset": bars["asset"].astype(str), "r": returns})
    wide = long.pivot_table(index="ts", columns="asset", values="r", aggfunc="first")
    return pd.DatetimeIndex(wide.index), wide.fillna(0.0), wide.notna()


def _others_index(returns: pd.DataFrame, present: pd.DataFrame) -> pd.DataFrame:
    """Per asset, the mean bar return of the other assets quoted in that bar (0 if none)."""
    total = returns.sum(axis=1).to_numpy()[:, None] - returns.to_numpy()
    count = present.sum(axis=1).to_numpy()[:, None] - present.to_numpy()
    mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    return pd.DataFrame(mean, index=returns.index, columns=returns.columns)


def market_betas(market_bars: pd.DataFrame) -> pd.Series:
    """Each asset's beta to the equal-weighted index of the other assets, from bar returns.

    Least squares through the origin over the bars where the asset is quoted; 0 for an
    asset alone in the feed (there is no market to move it).
    """
    _, returns, present = _wide(market_bars)
    index = _others_index(returns, present).where(present, 0.0)
    variance = (index**2).sum()
    covariance = (index * returns.where(present, 0.0)).sum()
    return (covariance / variance.where(variance > 0)).fillna(0.0)


def market_move_bps(executions: pd.DataFrame, market_bars: pd.DataFrame) -> np.ndarray:
    """Each order's market move in bps, signed so that a move against the order is positive.

    ``side_sign * beta * (twap(L) - L(start)) * 1e4`` with ``L`` the cumulative log return
    of the index of the other assets and ``twap(L)`` its mean over the bars inside
    ``start_ts <= ts < end_ts`` (each bar at the mean of its open and close level): what
    the market did to a linear schedule, scaled to the asset.

    Parameters
    ----------
    executions : DataFrame
        Needs ``asset, side, start_ts, end_ts``.
    market_bars : DataFrame
        Needs ``asset, ts, open, close``.

    Returns
    -------
    ndarray
        One value per order, in the order of ``executions``; NaN for an order with no bar
        of its own asset inside its window (a gap in the feed: no benchmark to read).
    """
    stamps, returns, present = _wide(market_bars)
    index = _others_index(returns, present).to_numpy()
    level = np.vstack([np.zeros((1, index.shape[1])), np.cumsum(index, axis=0)])
    bar_mid = (level[:-1] + level[1:]) / 2.0
    mid_sum = np.vstack([np.zeros((1, index.shape[1])), np.cumsum(bar_mid, axis=0)])
    quoted = np.vstack([np.zeros((1, index.shape[1]), int), np.cumsum(present.to_numpy(), 0)])
    columns = {name: i for i, name in enumerate(returns.columns)}
    betas = market_betas(market_bars)
    lo = np.searchsorted(stamps.asi8, pd.DatetimeIndex(executions["start_ts"]).asi8, "left")
    hi = np.searchsorted(stamps.asi8, pd.DatetimeIndex(executions["end_ts"]).asi8, "left")
    asset = executions["asset"].astype(str).map(columns).to_numpy(dtype=float)
    known = np.isfinite(asset)
    col = np.where(known, asset, 0).astype(np.int64)
    bars = hi - lo
    own_bars = np.where(known, quoted[hi, col] - quoted[lo, col], 0)
    twap = (mid_sum[hi, col] - mid_sum[lo, col]) / np.maximum(bars, 1)
    move = betas.reindex(returns.columns).to_numpy()[col] * (twap - level[lo, col])
    sign = np.where(executions["side"].to_numpy() == "buy", 1.0, -1.0)
    return np.where(own_bars > 0, sign * move * 1e4, np.nan)
