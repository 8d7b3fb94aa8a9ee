"""Features of the pre-trade market-impact model, computed from the executions table."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
import pandas as pd

from vocabulary import SESSION_MINUTES

__all__ = [
    "FEATURES",
    "FEATURE_INPUTS",
    "PRE_TRADE_COLUMNS",
    "impact_features",
    "sqrt_law_features",
]

#: The columns of ``executions`` each feature is computed from (read-only).
FEATURE_INPUTS = MappingProxyType(
    {
        "participation": ("participation",),
        "size_over_adv": ("qty", "adv"),
        "horizon_days": ("start_ts", "end_ts"),
        "daily_vol": ("daily_vol",),
        "spread_bps": ("spread_bps",),
        "log_adv": ("adv",),
        "turnover_inverse": ("shares_outstanding", "adv"),
    }
)
#: Feature columns, in model order.
FEATURES = tuple(FEATURE_INPUTS)
#: Columns of ``executions`` the family holds to be known before the order starts: the
#: planned horizon (``end_ts`` is the planned end), the planned participation, the
#: trailing volatility estimate and the spread quoted at arrival, never a fill, the
#: realised shortfall or the generator's same-day ``true_daily_vol``.
PRE_TRADE_COLUMNS = (
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


def impact_features(executions: pd.DataFrame) -> pd.DataFrame:
    """Return the pre-trade features of each parent order.

    Only what is known before the order starts is used: size, ADV, the trailing
    volatility estimate, the quoted spread, the planned horizon and the shares
    outstanding (``turnover_inverse`` is ``Theta / V``, the days it takes to trade the free
    float at ADV; the columns of :data:`FEATURE_INPUTS`). Realised prices, the shortfall
    and the generator's true same-day volatility are never features.
    """
    horizon_days = (executions["end_ts"] - executions["start_ts"]).dt.total_seconds().to_numpy() / (
        60.0 * SESSION_MINUTES
    )
    adv = executions["adv"].to_numpy(dtype=float)
    qty = executions["qty"].to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "participation": executions["participation"].to_numpy(dtype=float),
            "size_over_adv": qty / adv,
            "horizon_days": horizon_days,
            "daily_vol": executions["daily_vol"].to_numpy(dtype=float),
            "spread_bps": executions["spread_bps"].to_numpy(dtype=float),
            "log_adv": np.log(adv),
            "turnover_inverse": executions["shares_outstanding"].to_numpy(dtype=float) / adv,
        },
        columns=list(FEATURES),
    )


def sqrt_law_features(features: pd.DataFrame | np.ndarray) -> np.ndarray:
    """Square-root-law regressors: ``1e4 sigma sqrt(p)``, ``1e4 sigma X/V`` and half the spread.

    Accepts the frame of :func:`impact_features` or the same columns as an array (what a
    scikit-learn pipeline passes on).
    """
    values = np.asarray(features, dtype=float)
    part, size, vol, spread = (
        values[:, FEATURES.index(name)]
        for name in ("participation", "size_over_adv", "daily_vol", "spread_bps")
    )
    return np.column_stack([1e4 * vol * np.sqrt(part), 1e4 * vol * size, spread / 2.0])
