"""From a model to a stress test of the execution it drives.

A *stress book* is a handful of orders spanning the sizes the desk trades, taken from
the holdout. Each model's policy (:meth:`models.ModelFamily.decide`) chooses every
order's horizon; the stress engine then executes those schedules under each scenario.
Both models get the same ``order_id`` and start minute, so the engine gives them the
same market paths (common random numbers) and their difference is paired.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models import ModelFamily, Predictor
from validation.stress import StressReport

__all__ = ["GATE_STATISTICS", "gate_table", "schedule_book", "stress_book"]

_SIZE_QUANTILES = (0.5, 0.75, 0.9, 0.95, 0.99)

#: Which statistic of each stress metric the gates read: column of ``StressReport.wide()``.
GATE_STATISTICS = {
    "cvar95_shortfall_bps": "shortfall_bps/cvar95",
    "kill_switch_rate": "control_rate/kill_switch",
    "realised_slippage": "realised_slippage/mean",
    "market_impact": "market_impact_cost/mean",
    "participation_5min": "max_participation_5min/p95",
    "fill_price_variance_ratio": "fill_price_variance_ratio/mean",
    "information_leakage": "information_leakage/score",
}


def stress_book(holdout: pd.DataFrame) -> pd.DataFrame:
    """Pick stress orders at high quantiles of size relative to ADV from the holdout.

    Returns
    -------
    DataFrame
        ``order_id, side, qty, adv, daily_vol, spread_bps, arrival_mid``, one row per
        quantile in ``(0.5, 0.75, 0.9, 0.95, 0.99)`` of ``qty / adv``: the desk's
        typical to large blocks.
    """
    size = (holdout["qty"] / holdout["adv"]).to_numpy()
    order = np.argsort(size)
    picks = order[np.minimum((np.array(_SIZE_QUANTILES) * len(order)).astype(int), len(order) - 1)]
    book = holdout.iloc[picks][
        ["side", "qty", "adv", "daily_vol", "spread_bps", "arrival_mid"]
    ].reset_index(drop=True)
    book.insert(0, "order_id", [f"stress-q{int(q * 1000):03d}" for q in _SIZE_QUANTILES])
    return book


def schedule_book(family: ModelFamily, model: Predictor, book: pd.DataFrame) -> pd.DataFrame:
    """Let ``model``'s policy choose each order's horizon; return the engine's orders table."""
    decision = family.decide(model, book)
    return pd.DataFrame(
        {
            "order_id": book["order_id"],
            "side": book["side"],
            "quantity": book["qty"],
            "arrival_price": book["arrival_mid"],
            "adv": book["adv"],
            "daily_vol": book["daily_vol"],
            "spread_bps": book["spread_bps"],
            "horizon_minutes": decision["horizon_minutes"],
            "predicted_cost_bps": decision["predicted_cost_bps"],
            "start_minute": 0.0,
            "style": "vwap",
        }
    )


def gate_table(report: StressReport) -> pd.DataFrame:
    """One row per scenario and model with the statistics the gates judge.

    Returns
    -------
    DataFrame
        ``scenario, model`` and the keys of :data:`GATE_STATISTICS`.
    """
    wide = report.wide()
    table = pd.DataFrame({name: wide[column] for name, column in GATE_STATISTICS.items()})
    return table.reset_index()
