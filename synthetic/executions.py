"""Parent orders (executions) whose cost follows the Almgren et al. (2005) law."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic.config import SynthConfig
from synthetic.ground_truth import expected_cost_bps
from synthetic.market import Regimes, Universe
from vocabulary import SESSION_MINUTES

__all__ = ["make_executions"]

_MIN_HORIZON_MIN = 5
_JUMP_SCALE_BPS = 60.0


def _draw_schedule(
    cfg: SynthConfig, rng: np.random.Generator, n: int, bar_minutes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Draw each order's horizon and start, both on bar boundaries, inside one session."""
    n_bars = SESSION_MINUTES // bar_minutes
    min_bars = max(1, _MIN_HORIZON_MIN // bar_minutes)
    horizon_bars = np.round(np.exp(rng.uniform(np.log(min_bars), np.log(n_bars), n))).astype(
        np.int64
    )
    start_bar = rng.integers(0, n_bars - horizon_bars + 1)
    return start_bar, horizon_bars


def make_executions(
    cfg: SynthConfig,
    universe: Universe,
    regimes: Regimes,
    mids: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Draw ``cfg.orders`` parent orders and their realised implementation shortfall.

    Each order picks an asset, a side, a day, a start bar and a horizon ``T``; its
    participation ``X / (V T)`` is log-uniform on [0.2 %, 50 %]. The realised
    shortfall (bps, positive is a cost for either side) is the expected cost of
    :func:`synthetic.ground_truth.expected_cost_bps`, plus arrival-price timing noise
    ``sigma * sqrt(T / 3)`` (the risk of a linear schedule) and, with probability
    ``cfg.jump_probability``, a Laplace jump of scale 60 bps.

    Returns
    -------
    DataFrame
        Columns ``order_id, asset, side, start_ts, end_ts, qty, arrival_mid, avg_fill_px,
        adv, daily_vol, spread_bps, participation, shortfall_bps, regime``, ordered by
        ``start_ts``.
    """
    n = cfg.orders
    asset = rng.integers(0, cfg.assets, n)
    day = rng.integers(0, cfg.days, n)
    side = np.where(rng.random(n) < 0.5, 1, -1)
    start_bar, horizon_bars = _draw_schedule(cfg, rng, n, cfg.bar_minutes)
    horizon_days = horizon_bars * cfg.bar_minutes / SESSION_MINUTES
    participation = np.exp(rng.uniform(np.log(0.002), np.log(0.5), n))
    adv = universe.adv[asset]
    qty = np.maximum(np.round(participation * adv * horizon_days), 1.0)
    participation = qty / (adv * horizon_days)
    sigma = universe.sigma[asset] * regimes.vol_multiplier[day]
    spread = universe.spread_bps[asset] * regimes.vol_multiplier[day] ** 0.5
    cost = expected_cost_bps(
        sigma,
        participation,
        horizon_days,
        universe.turnover_inverse[asset],
        spread,
        regimes.impact_multiplier[day],
    )
    timing = rng.standard_normal(n) * sigma * np.sqrt(horizon_days / 3.0) * 1e4
    jumps = (rng.random(n) < cfg.jump_probability) * rng.laplace(0.0, _JUMP_SCALE_BPS, n)
    shortfall = cost + timing + jumps
    arrival = mids[asset, day, start_bar]
    start = regimes.session_open[day] + pd.to_timedelta(start_bar * cfg.bar_minutes, unit="min")
    end = start + pd.to_timedelta(horizon_bars * cfg.bar_minutes, unit="min")
    frame = pd.DataFrame(
        {
            "asset": universe.names[asset],
            "side": np.where(side > 0, "buy", "sell"),
            "start_ts": start,
            "end_ts": end,
            "qty": qty,
            "arrival_mid": arrival,
            "avg_fill_px": arrival * (1.0 + side * shortfall * 1e-4),
            "adv": adv,
            "daily_vol": sigma,
            "spread_bps": spread,
            "participation": participation,
            "shortfall_bps": shortfall,
            "regime": np.where(regimes.volatile[day], "volatile", "calm"),
        }
    )
    frame = frame.sort_values(["start_ts", "asset"], kind="stable").reset_index(drop=True)
    frame.insert(0, "order_id", [f"O{i:08d}" for i in range(n)])
    return frame
