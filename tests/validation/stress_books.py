"""Stress books and control settings the stress tests and ``bench/stress.py`` share."""

import numpy as np
import pandas as pd

from validation.stress import Controls, StressInputError

SWITCHES = (
    "kill_switch",
    "price_collar",
    "participation_cap",
    "slippage_guard",
    "risk_monitor",
    "feed_guard",
)


def controls_only(*names: str, **params: float) -> Controls:
    """Controls with only ``names`` switched on (and ``params`` overridden)."""
    unknown = set(names) - set(SWITCHES)
    if unknown:
        raise StressInputError(
            f"unknown control(s) {sorted(unknown)}; expected some of {sorted(SWITCHES)}"
        )
    return Controls(**{s: s in names for s in SWITCHES}, **params)


def example_orders(model: str = "champion") -> pd.DataFrame:
    """A small stress book with schedules as a champion or a challenger might choose them.

    Parameters
    ----------
    model
        ``"champion"`` (patient VWAP/POV schedules) or ``"challenger"`` (shorter, front-loaded
        schedules). Both share order ids, so they are compared on common random numbers.

    Returns
    -------
    pandas.DataFrame
        Three orders with every required column.
    """
    base = pd.DataFrame(
        {
            "order_id": ["blk-eq-1", "blk-eq-2", "blk-eq-3"],
            "side": ["sell", "buy", "sell"],
            "quantity": [400_000.0, 150_000.0, 1_000_000.0],
            "arrival_price": [50.0, 120.0, 20.0],
            "adv": [4_000_000.0, 1_500_000.0, 12_000_000.0],
            "daily_vol": [0.02, 0.025, 0.03],
            "spread_bps": [4.0, 6.0, 8.0],
            "start_minute": [0.0, 30.0, 0.0],
        }
    )
    if model == "champion":
        sched = {
            "horizon_minutes": [240.0, 180.0, 390.0],
            "style": ["vwap", "vwap", "pov"],
            "participation": [np.nan, np.nan, 0.10],
            "urgency": [0.0, 0.5, 0.0],
            "predicted_cost_bps": [14.0, 15.0, 24.0],
        }
    elif model == "challenger":
        sched = {
            "horizon_minutes": [120.0, 90.0, 240.0],
            "style": ["twap", "vwap", "vwap"],
            "participation": [np.nan, np.nan, np.nan],
            "urgency": [1.0, 1.5, 0.5],
            "predicted_cost_bps": [17.0, 18.0, 27.0],
        }
    else:
        raise StressInputError(f"model must be 'champion' or 'challenger', got {model!r}")
    return base.assign(**sched)
