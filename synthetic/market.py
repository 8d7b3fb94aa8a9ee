"""Asset universe, daily volatility regimes and the intraday mid-price path with its bars.

The mid-price path is what every order's timing noise is read from (see
:mod:`synthetic.executions`), so the market bars and the executions tell one story.
It is the market's news plus the desk's own footprint. The news part of each bar's log
return of asset ``a`` on day ``d`` is, with ``s = sigma[a, d]`` the day's true volatility
(daily, fraction) and ``dt`` the bar's share of the session,

``r = s * sqrt(1 - w) * sqrt(dt) * (sqrt(rho) * f[d, b] + sqrt(1 - rho) * e[a, d, b])``
``  + s * sqrt(w) * dt * (sqrt(rho) * g[d] + sqrt(1 - rho) * h[a, d]) - s**2 * dt / 2``

with independent standard normals ``f`` (market-wide, per bar), ``e`` (the asset's own,
per bar), ``g`` (market-wide drift of the day) and ``h`` (the asset's drift of the
day). ``rho`` = :data:`MARKET_SHARE` is the share of variance the market factor explains
and ``w`` = :data:`DAY_DRIFT_SHARE` the share of a full day's variance that comes from
the day's drift, so a whole session's news has variance ``s**2``. Orders of the same day
and asset (and, through ``f`` and ``g``, of the same day in other assets) therefore share
part of their timing noise. The footprint is every order's permanent impact, spread evenly
over the bars of its window and kept afterwards (:func:`synthetic.executions.footprint`):
the bars of an asset move with the orders traded in it, so a benchmark read from the
asset's own bars contains the order's own impact. The orders' volume is not added to the
bars' volume: the generator's orders are a sample of hypothetical parent orders (about
three days of volume per asset and day in the demo), not one desk's trading.

Bar volume is the asset's ADV times the day's volume multiplier (volatile days trade more,
:data:`synthetic.ground_truth.VOLUME_VOL_ELASTICITY`) times the intraday curve's share of
the bar (:func:`synthetic.ground_truth.window_volume_share`) times a mean-one log-normal
noise of :data:`BAR_VOLUME_NOISE`.

``daily_vol`` as the executions table exports it is *not* ``sigma[a, d]``: a desk only
knows what happened before the order. It starts from a trailing estimate, the
exponentially weighted mean (decay :data:`VOL_EWMA_DECAY`) of the asset's realised
variance on previous days (the sum of its squared bar log returns, footprint included),
seeded by the mean of :data:`HISTORY_DAYS` days of history simulated before the first
exported day; an order that starts after the open gets it scaled by the day's regime as
every asset's bars so far show it (:meth:`MarketPath.pretrade_vol`). A trailing estimate
alone lags a volatile spell by a day or two, and a model fitted on it misreads the lag as
impact (``bench/law.py``). The true ``sigma[a, d]`` is exported as ``true_daily_vol``, for
tests only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthetic.config import SynthConfig
from synthetic.ground_truth import SESSION_OPEN_UTC, VOLUME_VOL_ELASTICITY, window_volume_share
from vocabulary import SESSION_MINUTES

__all__ = [
    "BAR_VOLUME_NOISE",
    "DAY_DRIFT_SHARE",
    "HISTORY_DAYS",
    "MARKET_SHARE",
    "PRIOR_SESSION_SHARE",
    "VOL_EWMA_DECAY",
    "MarketPath",
    "News",
    "Regimes",
    "Universe",
    "draw_news",
    "draw_regimes",
    "draw_universe",
    "make_market",
]

#: Share of each asset's return variance explained by the market-wide factor (a typical
#: single-stock R-squared against its index).
MARKET_SHARE = 0.3
#: Share of a full session's return variance that comes from the day's drift (the rest is
#: intraday Brownian noise); it makes orders of one day err in the same direction.
DAY_DRIFT_SHARE = 0.15
#: Decay of the exponentially weighted trailing variance behind ``daily_vol``: a half-life
#: of about 3.3 days, short enough to follow a volatile spell (5 days on average) with a
#: lag of a day or two, long enough to average a few days of realised variance.
VOL_EWMA_DECAY = 0.8
#: Weight of the trailing estimate in the pre-trade volatility, as a share of a session of
#: today's bars (see :meth:`MarketPath.pretrade_vol`).
PRIOR_SESSION_SHARE = 0.5
#: Days of price history simulated before the first exported day, so that ``daily_vol``
#: is a trailing estimate from day one (their mean realised variance seeds the average).
HISTORY_DAYS = 20
#: Standard deviation of the log-normal noise of each bar's volume around the curve.
BAR_VOLUME_NOISE = 0.3


@dataclass(frozen=True)
class Universe:
    """Static description of the synthetic assets (one entry per asset).

    Attributes
    ----------
    names : ndarray of str
        ``A000``, ``A001``, ...
    price : ndarray
        Mid price at the start of the history.
    adv : ndarray
        Average daily volume ``V`` in shares.
    sigma : ndarray
        Calm-regime daily volatility (fraction).
    spread_bps : ndarray
        Calm-regime quoted spread in basis points.
    shares_outstanding : ndarray
        ``Theta``, shares in issue (whole shares).
    turnover_inverse : ndarray
        ``Theta / V`` exactly as the cost law uses it (``shares_outstanding / adv``).
    """

    names: np.ndarray
    price: np.ndarray
    adv: np.ndarray
    sigma: np.ndarray
    spread_bps: np.ndarray
    shares_outstanding: np.ndarray
    turnover_inverse: np.ndarray


@dataclass(frozen=True)
class Regimes:
    """Per-day state of the exported days, and the volatility of the history before them.

    Attributes
    ----------
    volatile : ndarray of bool, shape (days,)
        Whether each exported day is in the volatile regime.
    vol_multiplier : ndarray, shape (days,)
        Volatility multiplier of each exported day (regime and regime shift).
    impact_multiplier : ndarray, shape (days,)
        Impact multiplier of each exported day (the regime-shift knob).
    session_open : DatetimeIndex
        Opening time (UTC) of each exported day.
    history_vol_multiplier : ndarray, shape (HISTORY_DAYS,)
        Volatility multiplier of the history days that seed ``daily_vol``.
    """

    volatile: np.ndarray
    vol_multiplier: np.ndarray
    impact_multiplier: np.ndarray
    session_open: pd.DatetimeIndex
    history_vol_multiplier: np.ndarray

    @property
    def volume_multiplier(self) -> np.ndarray:
        """The expected volume of each exported day, as a multiple of the ADV."""
        return self.vol_multiplier**VOLUME_VOL_ELASTICITY


@dataclass(frozen=True)
class News:
    """The market's news: the price path before any order's footprint.

    Attributes
    ----------
    log_returns : ndarray, shape (assets, HISTORY_DAYS + days, bars_per_day)
        News log return of every bar of the history and the exported days.
    trailing_vol : ndarray, shape (assets, days)
        EWMA of the news' realised variance on previous days, as volatility: what a
        trader's sense of a normal day is made of (:mod:`synthetic.executions` reads it).
    """

    log_returns: np.ndarray
    trailing_vol: np.ndarray


@dataclass(frozen=True)
class MarketPath:
    """The simulated market of the exported days.

    Attributes
    ----------
    bars : DataFrame
        The ``market_bars`` table (see :func:`make_bars`).
    mids : ndarray, shape (assets, days, bars_per_day + 1)
        Mid price at every bar boundary; bar ``b`` opens at ``mids[..., b]`` and closes at
        ``mids[..., b + 1]``.
    volume : ndarray, shape (assets, days, bars_per_day)
        Market volume of every bar (the ``volume`` column).
    trailing_vol : ndarray, shape (assets, days)
        The EWMA estimate of each asset and day's volatility from previous days' bars.
    realised_so_far : ndarray, shape (assets, days, bars_per_day + 1)
        Realised variance of the day up to every bar boundary (sum of the squared bar log
        returns before it): the day's tape a desk has seen when an order starts there.
    """

    bars: pd.DataFrame
    mids: np.ndarray
    volume: np.ndarray
    trailing_vol: np.ndarray
    realised_so_far: np.ndarray

    def pretrade_vol(self, asset: np.ndarray, day: np.ndarray, start_bar: np.ndarray) -> np.ndarray:
        """The volatility estimate a desk has when an order starts at ``start_bar``.

        The asset's trailing estimate scaled by the market's volatility today relative to
        its own trailing estimates, read from every asset's tape before the order: each
        asset-bar seen is one observation of that ratio (``n * r**2 / trailing**2`` for a
        session of ``n`` bars), pooled with a prior ratio of 1 worth
        :data:`PRIOR_SESSION_SHARE` of one asset's session. Regimes are market-wide, so a
        few bars of the whole tape tell the day's regime; an order at the open gets the
        trailing estimate.
        """
        n_assets, _, edges = self.realised_so_far.shape
        n_bars = edges - 1
        prior = PRIOR_SESSION_SHARE * n_bars
        ratio_seen = (self.realised_so_far * n_bars / self.trailing_vol[:, :, None] ** 2).sum(
            axis=0
        )
        ratio = (prior + ratio_seen[day, start_bar]) / (prior + n_assets * start_bar)
        return self.trailing_vol[asset, day] * np.sqrt(ratio)


def draw_universe(cfg: SynthConfig, rng: np.random.Generator) -> Universe:
    """Draw prices, ADV, volatility, spreads and shares outstanding for ``cfg.assets`` assets.

    ``Theta / V`` is log-uniform on [50, 500] (a daily turnover of 0.2 % to 2 % of the
    shares in issue); ``Theta`` is rounded to whole shares and ``Theta / V`` recomputed
    from it, so that the exported columns give the law's input exactly.
    """
    n = cfg.assets
    price = np.exp(rng.uniform(np.log(10.0), np.log(400.0), n))
    adv = np.exp(rng.uniform(np.log(2e5), np.log(2e7), n)).round()
    sigma = rng.uniform(0.012, 0.03, n)
    spread_bps = rng.uniform(1.0, 12.0, n)
    shares_outstanding = np.round(adv * np.exp(rng.uniform(np.log(50.0), np.log(500.0), n)))
    return Universe(
        names=np.array([f"A{i:03d}" for i in range(n)]),
        price=price,
        adv=adv,
        sigma=sigma,
        spread_bps=spread_bps,
        shares_outstanding=shares_outstanding,
        turnover_inverse=shares_outstanding / adv,
    )


def draw_regimes(cfg: SynthConfig, rng: np.random.Generator) -> Regimes:
    """Draw a two-state (calm/volatile) Markov chain of days, shared by all assets.

    The chain runs over :data:`HISTORY_DAYS` days of history, then the exported days; a
    regime shift (``cfg.shift_after_day``) applies to exported days only.
    """
    stay = 0.8
    p_enter = (1 - stay) * cfg.volatile_probability / max(1 - cfg.volatile_probability, 1e-9)
    total = HISTORY_DAYS + cfg.days
    chain = np.zeros(total, dtype=bool)
    chain[0] = rng.random() < cfg.volatile_probability
    for d in range(1, total):
        chain[d] = rng.random() < (stay if chain[d - 1] else min(p_enter, 1.0))
    history, volatile = chain[:HISTORY_DAYS], chain[HISTORY_DAYS:]
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
    return Regimes(
        volatile=volatile,
        vol_multiplier=vol_mult,
        impact_multiplier=impact_mult,
        session_open=days + SESSION_OPEN_UTC,
        history_vol_multiplier=np.where(history, cfg.volatile_multiplier, 1.0),
    )


def _log_returns(sig: np.ndarray, n_bars: int, rng: np.random.Generator) -> np.ndarray:
    """Bar log returns of shape ``sig.shape + (n_bars,)`` from the factor model above."""
    n_assets, n_days = sig.shape
    dt = 1.0 / n_bars
    market, own = np.sqrt(MARKET_SHARE), np.sqrt(1.0 - MARKET_SHARE)
    intraday = (
        market * rng.standard_normal((1, n_days, n_bars))
        + own * rng.standard_normal((n_assets, n_days, n_bars))
    ) * np.sqrt(dt * (1.0 - DAY_DRIFT_SHARE))
    drift = (
        market * rng.standard_normal((1, n_days, 1))
        + own * rng.standard_normal((n_assets, n_days, 1))
    ) * (np.sqrt(DAY_DRIFT_SHARE) * dt)
    s = sig[:, :, None]
    return s * (intraday + drift) - 0.5 * s**2 * dt


def _trailing_vol(log_ret: np.ndarray, n_history: int) -> np.ndarray:
    """EWMA of previous days' realised variance, as volatility, for each exported day.

    ``log_ret`` covers the history days then the exported days; the estimate of day ``d``
    uses realised variance of days before ``d`` only.
    """
    realised = np.sum(log_ret**2, axis=2)
    variance = np.empty((realised.shape[0], realised.shape[1] - n_history))
    level = realised[:, :n_history].mean(axis=1)
    for d in range(variance.shape[1]):
        variance[:, d] = level
        level = VOL_EWMA_DECAY * level + (1.0 - VOL_EWMA_DECAY) * realised[:, n_history + d]
    return np.sqrt(variance)


def draw_news(
    cfg: SynthConfig, universe: Universe, regimes: Regimes, rng: np.random.Generator
) -> News:
    """Draw the news part of the price path, history days first, and its trailing estimate."""
    n_bars = SESSION_MINUTES // cfg.bar_minutes
    multiplier = np.concatenate([regimes.history_vol_multiplier, regimes.vol_multiplier])
    log_returns = _log_returns(universe.sigma[:, None] * multiplier[None, :], n_bars, rng)
    return News(log_returns=log_returns, trailing_vol=_trailing_vol(log_returns, HISTORY_DAYS))


def _bar_volume(
    cfg: SynthConfig, universe: Universe, regimes: Regimes, rng: np.random.Generator
) -> np.ndarray:
    """Volume of every exported bar: ADV x the day's multiplier x the curve x noise."""
    n_bars = SESSION_MINUTES // cfg.bar_minutes
    curve = window_volume_share(np.arange(n_bars) / n_bars, 1.0 / n_bars)
    day = universe.adv[:, None] * regimes.volume_multiplier[None, :]
    shape = (cfg.assets, cfg.days, n_bars)
    noise = rng.lognormal(-0.5 * BAR_VOLUME_NOISE**2, BAR_VOLUME_NOISE, shape)
    return np.round(day[:, :, None] * curve * noise)


def make_market(
    cfg: SynthConfig,
    universe: Universe,
    regimes: Regimes,
    news: News,
    footprint: np.ndarray,
    rng: np.random.Generator,
) -> MarketPath:
    """The exported days' price path (news plus the orders' footprint) and its bars.

    Prices are continuous overnight: each day opens at the previous day's close. Bars of
    the history days are not exported; they only feed the trailing volatility estimate.

    Parameters
    ----------
    footprint : ndarray, shape (assets, days, bars_per_day)
        Log return every bar of the exported days owes to the orders' permanent impact.

    Returns
    -------
    MarketPath
        ``bars`` with columns ``ts, asset, open, high, low, close, volume, bid, ask,
        depth`` sorted by asset then time, the mids at every bar boundary, the bars'
        volume and the trailing volatility estimate of every exported asset-day.
    """
    n_bars = SESSION_MINUTES // cfg.bar_minutes
    n_assets, n_days = cfg.assets, cfg.days
    dt = 1.0 / n_bars
    all_ret = news.log_returns.copy()
    all_ret[:, HISTORY_DAYS:] += footprint
    trailing = _trailing_vol(all_ret, HISTORY_DAYS)
    day_close = np.log(universe.price)[:, None] + np.cumsum(all_ret.sum(axis=2), axis=1)
    day_open = np.concatenate([np.log(universe.price)[:, None], day_close[:, :-1]], axis=1)
    log_ret, day_open = all_ret[:, HISTORY_DAYS:], day_open[:, HISTORY_DAYS:]
    sig = universe.sigma[:, None, None] * regimes.vol_multiplier[None, :, None]
    log_mid = day_open[:, :, None] + np.concatenate(
        [np.zeros((n_assets, n_days, 1)), np.cumsum(log_ret, axis=2)], axis=2
    )
    mids = np.exp(log_mid)
    opens, closes = mids[:, :, :-1], mids[:, :, 1:]
    wiggle = np.abs(rng.standard_normal((2, n_assets, n_days, n_bars))) * sig * np.sqrt(dt) * 0.5
    highs = np.maximum(opens, closes) * (1 + wiggle[0])
    lows = np.minimum(opens, closes) * (1 - wiggle[1])
    volume = _bar_volume(cfg, universe, regimes, rng)
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
    zeros = np.zeros((n_assets, n_days, 1))
    so_far = np.concatenate([zeros, np.cumsum(log_ret**2, axis=2)], axis=2)
    return MarketPath(
        bars=bars, mids=mids, volume=volume, trailing_vol=trailing, realised_so_far=so_far
    )
