"""Asset universe, daily volatility regimes and intraday market bars."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthetic.config import SynthConfig
from vocabulary import SESSION_MINUTES

__all__ = ["Universe", "draw_universe", "draw_regimes", "make_bars"]

_OPEN_UTC = pd.Timedelta(hours=14, minutes=30)


@dataclass(frozen=True)
class Universe:
    """Static description of the synthetic assets (one entry per asset)."""

    names: np.ndarray
    price: np.ndarray
    adv: np.ndarray
    sigma: np.ndarray
    spread_bps: np.ndarray
    turnover_inverse: np.ndarray


@dataclass(frozen=True)
class Regimes:
    """Per-day state: volatility multiplier per (day, asset) and impact multiplier per day."""

    volatile: np.ndarray
    vol_multiplier: np.ndarray
    impact_multiplier: np.ndarray
    session_open: pd.DatetimeIndex


def draw_universe(cfg: SynthConfig, rng: np.random.Generator) -> Universe:
    """Draw prices, ADV, volatility, spreads and shares outstanding for ``cfg.assets`` assets."""
    n = cfg.assets
    return Universe(
        names=np.array([f"A{i:03d}" for i in range(n)]),
        price=np.exp(rng.uniform(np.log(10.0), np.log(400.0), n)),
        adv=np.exp(rng.uniform(np.log(2e5), np.log(2e7), n)).round(),
        sigma=rng.uniform(0.012, 0.03, n),
        spread_bps=rng.uniform(1.0, 12.0, n),
        turnover_inverse=np.exp(rng.uniform(np.log(50.0), np.log(500.0), n)),
    )


def draw_regimes(cfg: SynthConfig, rng: np.random.Generator) -> Regimes:
    """Draw a two-state (calm/volatile) Markov chain of days, shared by all assets."""
    stay = 0.8
    p_enter = (1 - stay) * cfg.volatile_probability / max(1 - cfg.volatile_probability, 1e-9)
    volatile = np.zeros(cfg.days, dtype=bool)
    volatile[0] = rng.random() < cfg.volatile_probability
    for d in range(1, cfg.days):
        volatile[d] = rng.random() < (stay if volatile[d - 1] else min(p_enter, 1.0))
    vol_mult = np.where(volatile, cfg.volatile_multiplier, 1.0)
    impact_mult = np.ones(cfg.days)
    if cfg.shift_after_day is not None:
        vol_mult = np.where(
            np.arange(cfg.days) >= cfg.shift_after_day,
            vol_mult * cfg.shift_vol_multiplier,
            vol_mult,
        )
        impact_mult[cfg.shift_after_day :] = cfg.shift_impact_multiplier
    days = pd.bdate_range(cfg.start_date, periods=cfg.days, tz="UTC")
    return Regimes(volatile, vol_mult, impact_mult, days + _OPEN_UTC)


def _u_shaped_volume_curve(n_bars: int) -> np.ndarray:
    """Intraday share of daily volume per bar: high at the open and close, low at lunch."""
    x = (np.arange(n_bars) + 0.5) / n_bars
    curve = 1.0 + 2.5 * (x - 0.5) ** 2 * 4
    return curve / curve.sum()


def make_bars(
    cfg: SynthConfig, universe: Universe, regimes: Regimes, rng: np.random.Generator
) -> tuple[pd.DataFrame, np.ndarray]:
    """Simulate geometric-Brownian mid prices and build OHLC/volume/quote bars.

    Returns
    -------
    bars : DataFrame
        Columns ``ts, asset, open, high, low, close, volume, bid, ask, depth``,
        sorted by asset then time.
    mids : ndarray, shape (assets, days, bars_per_day + 1)
        Mid price at every bar boundary, used to set arrival prices of orders.
    """
    n_bars = SESSION_MINUTES // cfg.bar_minutes
    n_assets, n_days = cfg.assets, cfg.days
    dt = 1.0 / n_bars
    sig = universe.sigma[:, None, None] * regimes.vol_multiplier[None, :, None]
    shocks = rng.standard_normal((n_assets, n_days, n_bars)) * sig * np.sqrt(dt)
    log_ret = shocks - 0.5 * sig**2 * dt
    day_open = np.log(universe.price)[:, None] + np.concatenate(
        [np.zeros((n_assets, 1)), np.cumsum(log_ret.sum(axis=2), axis=1)[:, :-1]], axis=1
    )
    log_mid = day_open[:, :, None] + np.concatenate(
        [np.zeros((n_assets, n_days, 1)), np.cumsum(log_ret, axis=2)], axis=2
    )
    mids = np.exp(log_mid)
    opens, closes = mids[:, :, :-1], mids[:, :, 1:]
    wiggle = np.abs(rng.standard_normal((2, n_assets, n_days, n_bars))) * sig * np.sqrt(dt) * 0.5
    highs = np.maximum(opens, closes) * (1 + wiggle[0])
    lows = np.minimum(opens, closes) * (1 - wiggle[1])
    curve = _u_shaped_volume_curve(n_bars)
    noise = rng.lognormal(0.0, 0.3, (n_assets, n_days, n_bars))
    volume = np.round(universe.adv[:, None, None] * curve * noise)
    half_spread = (
        closes
        * universe.spread_bps[:, None, None]
        * 1e-4
        / 2
        * regimes.vol_multiplier[None, :, None] ** 0.5
    )
    depth = np.round(volume * rng.uniform(0.05, 0.2, volume.shape))
    bar_offsets = pd.to_timedelta(np.arange(n_bars) * cfg.bar_minutes, unit="min")
    ts = (
        regimes.session_open.tz_convert(None).to_numpy()[:, None] + bar_offsets.to_numpy()[None, :]
    ).ravel()
    bars = pd.DataFrame(
        {
            "ts": pd.DatetimeIndex(np.tile(ts, n_assets)).tz_localize("UTC"),
            "asset": np.repeat(universe.names, n_days * n_bars),
            "open": opens.ravel(),
            "high": highs.ravel(),
            "low": lows.ravel(),
            "close": closes.ravel(),
            "volume": volume.ravel(),
            "bid": (closes - half_spread).ravel(),
            "ask": (closes + half_spread).ravel(),
            "depth": depth.ravel(),
        }
    )
    return bars, mids
