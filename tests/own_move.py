"""What an order's own asset did over its window, read from the bars as a test checks it.

The product's benchmark reads the market's move from the other assets
(:func:`models.impact.market_move.market_move_bps`); the tests read the asset's own bars to show
what that benchmark leaves in: the order's own footprint.
"""

import numpy as np
import pandas as pd


def own_window(frame: pd.DataFrame, bars: pd.DataFrame, column: str, how: str) -> np.ndarray:
    """``how`` (``mean`` or ``sum``) of a bar column over each order's window of its asset."""
    bars = bars.sort_values(["asset", "ts"])
    out = np.empty(len(frame))
    for name, rows in frame.groupby("asset").indices.items():
        own = bars[bars["asset"] == name]
        cumulative = np.concatenate([[0.0], np.cumsum(own[column].to_numpy(float))])
        stamps = pd.DatetimeIndex(own["ts"]).asi8
        lo = np.searchsorted(stamps, pd.DatetimeIndex(frame["start_ts"].iloc[rows]).asi8)
        hi = np.searchsorted(stamps, pd.DatetimeIndex(frame["end_ts"].iloc[rows]).asi8)
        out[rows] = (cumulative[hi] - cumulative[lo]) / (hi - lo if how == "mean" else 1)
    return out


def own_move_bps(frame: pd.DataFrame, bars: pd.DataFrame) -> np.ndarray:
    """What the asset's own mid did to a linear schedule (its own footprint included)."""
    mid = bars.assign(mid=(bars["open"] + bars["close"]) / 2.0)
    sign = np.where(frame["side"] == "buy", 1.0, -1.0)
    return sign * (own_window(frame, mid, "mid", "mean") / frame["arrival_mid"] - 1.0) * 1e4
