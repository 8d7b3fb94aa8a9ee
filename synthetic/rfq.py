"""RFQ events: which dealer was asked, what it quoted, and whether it filled."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic.config import SynthConfig
from synthetic.market import Regimes, Universe
from vocabulary import SESSION_MINUTES

__all__ = ["make_rfq", "DEALERS"]

DEALERS = ("D01", "D02", "D03", "D04", "D05", "D06", "D07", "D08")
_DEALER_SKILL = np.array([1.2, 0.9, 0.6, 0.3, 0.0, -0.3, -0.6, -1.0])


def make_rfq(
    cfg: SynthConfig, universe: Universe, regimes: Regimes, rng: np.random.Generator
) -> pd.DataFrame:
    """Draw RFQ events, about one per ten parent orders, five dealers asked per request.

    A dealer's fill probability is ``logistic(skill - 8 * size / ADV + 0.08 * spread_bps)``:
    skilled dealers fill more, large requests fill less, wider quotes fill more.

    Returns
    -------
    DataFrame
        Columns ``rfq_id, ts, asset, side, dealer, size, quoted_spread_bps, response_ms,
        filled``.
    """
    n_requests = max(cfg.orders // 10, 10)
    per_request = 5
    asset = np.repeat(rng.integers(0, cfg.assets, n_requests), per_request)
    day = np.repeat(rng.integers(0, cfg.days, n_requests), per_request)
    minute = np.repeat(rng.integers(0, SESSION_MINUTES, n_requests), per_request)
    side = np.repeat(np.where(rng.random(n_requests) < 0.5, "buy", "sell"), per_request)
    dealer = np.concatenate(
        [rng.choice(len(DEALERS), per_request, replace=False) for _ in range(n_requests)]
    )
    size_frac = np.repeat(np.exp(rng.uniform(np.log(1e-3), np.log(0.1), n_requests)), per_request)
    size = np.round(size_frac * universe.adv[asset])
    spread = (
        universe.spread_bps[asset] * regimes.vol_multiplier[day] * rng.uniform(0.8, 2.5, asset.size)
    )
    logit = _DEALER_SKILL[dealer] - 8.0 * size_frac + 0.08 * spread
    filled = rng.random(asset.size) < 1.0 / (1.0 + np.exp(-logit))
    ts = regimes.session_open[day] + pd.to_timedelta(minute, unit="min")
    return pd.DataFrame(
        {
            "rfq_id": np.repeat([f"R{i:07d}" for i in range(n_requests)], per_request),
            "ts": ts,
            "asset": universe.names[asset],
            "side": side,
            "dealer": np.array(DEALERS)[dealer],
            "size": size,
            "quoted_spread_bps": spread,
            "response_ms": rng.gamma(2.0, 150.0, asset.size) * np.exp(-0.2 * _DEALER_SKILL[dealer]),
            "filled": filled,
        }
    )
