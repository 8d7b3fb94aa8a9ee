"""Parent orders (executions) whose cost follows the Almgren et al. (2005) law.

How an order is made, in the order of the draws:

1. Asset, day and side, uniformly at random.
2. **Urgency** (``urgency``, in (0, 1), known before the order): the trader's
   ``logistic(N(0, 1) + URGENCY_VOL_LOADING * log(true_daily_vol / trailing))``, with
   ``trailing`` the trailing estimate of the news' volatility
   (:attr:`synthetic.market.News.trailing_vol`). Traders hurry when the news is more
   volatile than previous days said,
   so urgency carries information on the day's true volatility; ``daily_vol``, the desk's
   pre-trade estimate, recovers part of it from the tape before the order
   (:meth:`synthetic.market.MarketPath.pretrade_vol`), all of it never.
3. **Horizon** ``T`` on bar boundaries, 5 minutes to the whole session. A share
   ``cfg.exploration_share`` of orders (the desk's randomised schedules) gets a horizon
   log-uniform over that range whatever its urgency; every other order gets
   ``log T = log T_max - urgency * log(T_max / T_min) + N(0, HORIZON_DISCRETION**2)``
   (clipped to the range): urgent orders are traded faster. The horizon is therefore
   *confounded* with the day's true volatility through urgency: short horizons come with
   volatile days more often than chance. Since the assignment depends only on pre-trade
   observables (urgency) and independent noise, the effect of the horizon on cost is
   identified conditionally on urgency, and the exploration share guarantees overlap
   (every urgency level sees every horizon), so the counterfactual "what if this order
   were traded faster or slower" stays estimable. The start bar is uniform among those
   that fit the horizon into the session.
4. Planned participation ``X / (V T)`` log-uniform on [0.2 %, 50 %]; the quantity ``X`` is
   rounded to whole shares and the participation recomputed from it.
5. **Footprint**: the order's permanent impact ``I`` (:func:`synthetic.ground_truth.
   permanent_impact` at the true volatility) moves its asset's mid by ``I`` in its
   direction, evenly over the bars of its window, and the move stays (:func:`footprint`).
6. Realised shortfall (bps, positive is a cost for either side) = the temporary impact at
   the *true* volatility and the market volume its window actually traded (the bars'
   ``volume``), plus half the spread, plus the timing component read from the bar path,
   plus the within-bar residual, plus, with probability ``cfg.jump_probability``, a
   Laplace jump of scale 60 bps specific to the order (a fill event the bars do not show).
   Its expectation is :func:`synthetic.ground_truth.order_expected_cost_bps`: the
   temporary impact at the window's expected volume plus ``I / 2``, which the order's own
   footprint puts in the timing component (a linear schedule meets half its own ramp).

The **timing component** is ``side_sign * (twap_mid / arrival_mid - 1) * 1e4``, where
``twap_mid`` is the mean over the order's bars of ``(open + close) / 2`` in
``market_bars``: the mid a linear schedule meets, on the path every order of that asset
shares (news with market-wide, day and asset parts, and every order's footprint, see
:mod:`synthetic.market`); :func:`models.impact.market_move.market_move_bps` reads the market's
part of it from the bars. The **within-bar residual** is the
part of a linear schedule's timing noise inside bars that the bars cannot show (the mean
of a Brownian bridge over each bar): ``N(0, 1) * sigma * sqrt((1 - w) * dt_bar / (12 H))``
for ``H`` bars of ``dt_bar`` days, so that timing noise in total has the variance of a
continuous linear schedule, ``sigma**2 * T / 3`` for the intraday part.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthetic.config import SynthConfig
from synthetic.ground_truth import permanent_impact, temporary_impact
from synthetic.market import DAY_DRIFT_SHARE, MarketPath, News, Regimes, Universe
from vocabulary import SESSION_MINUTES

__all__ = [
    "HORIZON_DISCRETION",
    "URGENCY_VOL_LOADING",
    "Orders",
    "draw_orders",
    "footprint",
    "make_executions",
]

_MIN_HORIZON_MIN = 5
_JUMP_SCALE_BPS = 60.0
#: Logit of urgency per unit of ``log(true_daily_vol / trailing)``: a day twice as
#: volatile as the trailing estimate raises the logit by about 1.4.
URGENCY_VOL_LOADING = 2.0
#: Standard deviation of the trader's discretion around the urgency's horizon, in log
#: horizon (a factor of about 1.6 either way).
HORIZON_DISCRETION = 0.5


def _draw_urgency(
    rng: np.random.Generator, true_vol: np.ndarray, trailing_vol: np.ndarray
) -> np.ndarray:
    logit = rng.standard_normal(true_vol.size) + URGENCY_VOL_LOADING * np.log(
        true_vol / trailing_vol
    )
    return 1.0 / (1.0 + np.exp(-logit))


def _draw_schedule(
    cfg: SynthConfig, rng: np.random.Generator, urgency: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Draw each order's horizon and start, both on bar boundaries, inside one session."""
    n = urgency.size
    n_bars = SESSION_MINUTES // cfg.bar_minutes
    low, high = np.log(max(1, _MIN_HORIZON_MIN // cfg.bar_minutes)), np.log(n_bars)
    explored = rng.random(n) < cfg.exploration_share
    random_horizon = rng.uniform(low, high, n)
    chosen = high - urgency * (high - low) + rng.standard_normal(n) * HORIZON_DISCRETION
    log_horizon = np.where(explored, random_horizon, np.clip(chosen, low, high))
    horizon_bars = np.round(np.exp(log_horizon)).astype(np.int64)
    # A uniform fraction of the free bars rather than integers(0, free): the latter's
    # rejection sampling consumes a varying number of draws per bound, so a horizon changed
    # by a regime shift on a late day would reshuffle every later order's start.
    start_bar = np.floor(rng.random(n) * (n_bars - horizon_bars + 1)).astype(np.int64)
    return start_bar, horizon_bars


def _twap_mid(
    mids: np.ndarray, asset: np.ndarray, day: np.ndarray, start: np.ndarray, bars: np.ndarray
) -> np.ndarray:
    """Mean of ``(open + close) / 2`` over each order's bars (the trapezoid of the mids)."""
    zeros = np.zeros(mids.shape[:2] + (1,))
    cumulative = np.concatenate([zeros, np.cumsum(mids, axis=2)], axis=2)
    inside = cumulative[asset, day, start + bars + 1] - cumulative[asset, day, start]
    ends = mids[asset, day, start] + mids[asset, day, start + bars]
    return (inside - 0.5 * ends) / bars


@dataclass(frozen=True)
class Orders:
    """What the desk decided about each parent order, before the market trades it.

    Attributes
    ----------
    asset, day : ndarray of int
        Index of the order's asset and exported day.
    side : ndarray of int
        ``+1`` buy, ``-1`` sell.
    urgency : ndarray
        The trader's urgency, in (0, 1).
    start_bar, horizon_bars : ndarray of int
        First bar of the window and its length in bars.
    qty : ndarray
        Whole shares.
    sigma : ndarray
        The true volatility of the order's asset and day.
    """

    asset: np.ndarray
    day: np.ndarray
    side: np.ndarray
    urgency: np.ndarray
    start_bar: np.ndarray
    horizon_bars: np.ndarray
    qty: np.ndarray
    sigma: np.ndarray

    def permanent_impact(self, universe: Universe, regimes: Regimes) -> np.ndarray:
        """Each order's permanent impact ``I`` as a fraction of price (shift applied)."""
        adv = universe.adv[self.asset]
        return (
            permanent_impact(self.sigma, self.qty / adv, universe.turnover_inverse[self.asset])
            * regimes.impact_multiplier[self.day]
        )


def draw_orders(
    cfg: SynthConfig, universe: Universe, regimes: Regimes, news: News, rng: np.random.Generator
) -> Orders:
    """Draw ``cfg.orders`` parent orders: asset, day, side, urgency, window and size."""
    n = cfg.orders
    asset = rng.integers(0, cfg.assets, n)
    day = rng.integers(0, cfg.days, n)
    side = np.where(rng.random(n) < 0.5, 1, -1)
    sigma = universe.sigma[asset] * regimes.vol_multiplier[day]
    urgency = _draw_urgency(rng, sigma, news.trailing_vol[asset, day])
    start_bar, horizon_bars = _draw_schedule(cfg, rng, urgency)
    horizon_days = horizon_bars * cfg.bar_minutes / SESSION_MINUTES
    participation = np.exp(rng.uniform(np.log(0.002), np.log(0.5), n))
    qty = np.maximum(np.round(participation * universe.adv[asset] * horizon_days), 1.0)
    return Orders(asset, day, side, urgency, start_bar, horizon_bars, qty, sigma)


def footprint(cfg: SynthConfig, universe: Universe, regimes: Regimes, orders: Orders) -> np.ndarray:
    """Log return each bar of the exported days owes to the orders' permanent impact.

    Each order moves its asset's mid by ``side * I``, ``I / H`` in each of the ``H`` bars of
    its window; the move is permanent, so later bars carry it in their level.

    Returns
    -------
    ndarray, shape (assets, days, bars_per_day)
    """
    n_bars = SESSION_MINUTES // cfg.bar_minutes
    per_bar = orders.side * orders.permanent_impact(universe, regimes) / orders.horizon_bars
    steps = np.zeros((cfg.assets, cfg.days, n_bars + 1))
    np.add.at(steps, (orders.asset, orders.day, orders.start_bar), per_bar)
    np.add.at(steps, (orders.asset, orders.day, orders.start_bar + orders.horizon_bars), -per_bar)
    return np.cumsum(steps, axis=2)[:, :, :n_bars]


def _window_sum(
    values: np.ndarray, asset: np.ndarray, day: np.ndarray, start: np.ndarray, bars: np.ndarray
) -> np.ndarray:
    """Sum of ``values[asset, day, start : start + bars]`` for each order."""
    zeros = np.zeros(values.shape[:2] + (1,))
    cumulative = np.concatenate([zeros, np.cumsum(values, axis=2)], axis=2)
    return cumulative[asset, day, start + bars] - cumulative[asset, day, start]


def make_executions(
    cfg: SynthConfig,
    universe: Universe,
    regimes: Regimes,
    market: MarketPath,
    orders: Orders,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Price ``orders`` on the market they traded in: the executions table.

    See the module docstring for the mechanism.

    Returns
    -------
    DataFrame
        Ordered by ``start_ts``. Known before the order starts: ``order_id, asset, side,
        start_ts, end_ts`` (the planned end), ``qty, arrival_mid, adv,
        shares_outstanding, daily_vol`` (pre-trade estimate), ``spread_bps`` (quoted at
        arrival), ``participation`` (planned, ``qty / (adv * horizon)``) and ``urgency``.
        Known only afterwards: ``avg_fill_px, shortfall_bps``. Ground truth for tests,
        never a model input: ``regime``, ``true_daily_vol`` (the same-day volatility the
        cost was drawn with) and ``true_day_volume`` (the day's expected volume).
    """
    n = orders.qty.size
    asset, day, side = orders.asset, orders.day, orders.side
    start_bar, horizon_bars, sigma = orders.start_bar, orders.horizon_bars, orders.sigma
    bar_days = cfg.bar_minutes / SESSION_MINUTES
    adv = universe.adv[asset]
    spread = universe.spread_bps[asset] * regimes.vol_multiplier[day] ** 0.5
    window_volume = _window_sum(market.volume, asset, day, start_bar, horizon_bars)
    temporary = temporary_impact(sigma, orders.qty / np.maximum(window_volume, 1.0))
    arrival = market.mids[asset, day, start_bar]
    twap = _twap_mid(market.mids, asset, day, start_bar, horizon_bars)
    timing = side * (twap / arrival - 1.0) * 1e4
    within_bar = np.sqrt((1.0 - DAY_DRIFT_SHARE) * bar_days / (12.0 * horizon_bars))
    residual = rng.standard_normal(n) * sigma * within_bar * 1e4
    jumps = (rng.random(n) < cfg.jump_probability) * rng.laplace(0.0, _JUMP_SCALE_BPS, n)
    impact = 1e4 * temporary * regimes.impact_multiplier[day] + spread / 2.0
    shortfall = impact + timing + residual + jumps
    start = regimes.session_open[day] + pd.to_timedelta(start_bar * cfg.bar_minutes, unit="min")
    end = start + pd.to_timedelta(horizon_bars * cfg.bar_minutes, unit="min")
    frame = pd.DataFrame(
        {
            "asset": universe.names[asset],
            "side": np.where(side > 0, "buy", "sell"),
            "start_ts": start,
            "end_ts": end,
            "qty": orders.qty,
            "arrival_mid": arrival,
            "avg_fill_px": arrival * (1.0 + side * shortfall * 1e-4),
            "adv": adv,
            "shares_outstanding": universe.shares_outstanding[asset],
            "daily_vol": market.pretrade_vol(asset, day, start_bar),
            "spread_bps": spread,
            "participation": orders.qty / (adv * horizon_bars * bar_days),
            "urgency": orders.urgency,
            "shortfall_bps": shortfall,
            "regime": np.where(regimes.volatile[day], "volatile", "calm"),
            "true_daily_vol": sigma,
            "true_day_volume": adv * regimes.volume_multiplier[day],
        }
    )
    frame = frame.sort_values(["start_ts", "asset"], kind="stable").reset_index(drop=True)
    frame.insert(0, "order_id", [f"O{i:08d}" for i in range(n)])
    return frame
