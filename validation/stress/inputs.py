"""From a market, a schedule and a scenario to the arrays the kernels read.

:func:`prepare_inputs` validates the arguments of :func:`~validation.stress.engine.simulate`
and lays the order out on the simulation grid: scalar parameters ``par``, per-step inputs
``stp`` and the schedule's cumulative target ``tgt``, indexed by the constants of
:mod:`validation.stress.kernels`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike

import validation.stress.kernels as K
from validation.stress.arguments import check_holdings, finite_number, integer, side_sign
from validation.stress.conditions import FeedCorruption
from validation.stress.controls import Controls
from validation.stress.errors import StressInputError
from validation.stress.market_model import MarketModel, volume_curve_integral
from validation.stress.metrics import ESSAY_RISK_LEVELS
from validation.stress.scenarios import Scenario
from vocabulary import SESSION_MINUTES

__all__ = ["KernelInputs", "prepare_inputs"]


@dataclass(frozen=True)
class KernelInputs:
    """Everything the kernels need for one order, prepared and validated.

    Attributes
    ----------
    par, stp, base, tgt
        Scalar parameters, the scenario's timeline, the session's expected volume per step
        and target cumulative fill fractions (see :mod:`validation.stress.kernels`).
    n_paths, seed, stream
        Number of paths and what the random streams derive from.
    n_sched, n_window, tau
        Steps of the schedule, of the simulation window, and step length in days.
    minutes
        Minutes since the order's start at the start of each window step.
    """

    par: np.ndarray
    stp: np.ndarray
    base: np.ndarray
    tgt: np.ndarray
    n_paths: int
    seed: int
    stream: str | int | None
    n_sched: int
    n_window: int
    tau: float
    minutes: np.ndarray


@dataclass(frozen=True)
class _Grid:
    """The simulation window in minutes since the order's start, one entry per step."""

    step_minutes: float
    start: np.ndarray
    end: np.ndarray
    mid: np.ndarray

    @classmethod
    def of(cls, tau: float, session_minutes: float, n_steps: int, first: float = 0.0) -> _Grid:
        # Snap the grid to 1e-9 minute so that e.g. 100/390/100*390 is exactly 1 minute and
        # scenario events fall on the intended steps.
        step_minutes = round(tau * session_minutes, 9)
        k = np.arange(n_steps, dtype=float)
        start = np.round(first + k * step_minutes, 9)
        end = np.round(start + step_minutes, 9)
        return cls(step_minutes, start, end, start + 0.5 * step_minutes)


def _scenario_grid(
    scenario: Scenario | None, grid: _Grid, start_minute: float
) -> tuple[_Grid, int]:
    """The scenario's timeline, in its own minutes, and the number of possible onsets.

    Without a randomised onset the scenario's minutes are the order's (row ``k`` is step
    ``k``). With one, they count from the onset, drawn per path among ``n_onsets`` session
    minutes ``earliest, earliest + step, ..., latest``; row ``m`` is what a path with the
    earliest onset sees at step ``m - (n_onsets - 1)``.
    """
    onset = scenario.onset if scenario is not None else None
    if onset is None:
        return grid, 1
    step = grid.step_minutes
    n_onsets = int(math.floor((onset.latest - onset.earliest) / step + 1e-9)) + 1
    first = start_minute - onset.earliest - (n_onsets - 1) * step
    n_rows = grid.start.size + n_onsets - 1
    return _Grid.of(step, 1.0, n_rows, first), n_onsets


@dataclass(frozen=True)
class _Path:
    """What a scenario makes of the market over the window (the market's own without one)."""

    sigma: np.ndarray
    liquidity: np.ndarray
    spread: np.ndarray
    move: np.ndarray  # the market's cumulative move at the n_window + 1 step boundaries


def _inv_cdf(p: float) -> float:
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    return NormalDist().inv_cdf(p)


def _window_steps(window: float | None, tau: float, n_sched: int, horizon: float) -> int:
    if window is None:
        return n_sched
    window = finite_number("window", window, low=0.0, strict=True)
    n_window = int(round(window / tau))
    if abs(n_window * tau - window) > 1e-9 * max(window, 1.0):
        raise StressInputError(
            f"window must be a whole number of steps of {tau:g} days, got {window:g}"
        )
    if n_window < n_sched:
        raise StressInputError(f"window must be >= horizon ({horizon:g}), got {window:g}")
    return n_window


def _reference_vol(market: MarketModel, reference_vol: float | None, controls: Controls) -> float:
    sigma_ref = market.relative_sigma if reference_vol is None else reference_vol
    sigma_ref = finite_number("reference_vol", sigma_ref, low=0.0)
    if controls.slippage_guard and sigma_ref <= 0:
        raise StressInputError(
            "reference_vol must be > 0 when the slippage guard is on (the market's sigma is 0; "
            f"pass reference_vol), got {sigma_ref:g}"
        )
    return sigma_ref


def _require_volume(market: MarketModel, pov_rate: float, controls: Controls) -> None:
    if (pov_rate > 0 or controls.participation_cap) and market.adv is None:
        what = "pov_rate > 0" if pov_rate > 0 else "the participation cap"
        raise StressInputError(f"{what} needs market.adv (market volume per day), got None")


def _scenario_path(scenario: Scenario | None, market: MarketModel, grid: _Grid) -> _Path:
    n_window = grid.start.size
    if scenario is None:
        path = _Path(
            np.full(n_window, market.relative_sigma),
            np.ones(n_window),
            np.ones(n_window),
            np.zeros(n_window + 1),
        )
    else:
        path = _Path(
            scenario.daily_volatility(grid.mid, market.relative_sigma),
            scenario.liquidity_at(grid.mid),
            scenario.spread_at(grid.mid),
            scenario.market_move_at(np.append(grid.start, grid.end[-1])),
        )
    return path


def _price_steps(stp: np.ndarray, market: MarketModel, path: _Path, tau: float) -> None:
    """Diffusion scale and deterministic increment (drift and scenario move) of each step."""
    move = path.move
    if market.dynamics == "geometric":
        stp[:, K.S_VOL] = path.sigma * math.sqrt(tau)
        det = (market.drift - 0.5 * path.sigma**2) * tau
        det += np.log((1.0 + move[1:]) / (1.0 + move[:-1]))
    else:
        stp[:, K.S_VOL] = path.sigma * market.s0 * math.sqrt(tau)
        det = market.drift * tau + market.s0 * np.diff(move)
    stp[:, K.S_DET] = det


def _session_volume(
    market: MarketModel, grid: _Grid, *, tau: float, start_minute: float, session_minutes: float
) -> np.ndarray:
    """Expected market volume of each step on the session's intraday curve (inf if unknown)."""
    if market.adv is None:
        return np.full(grid.start.size, np.inf)
    session_start = start_minute + grid.start
    edges = np.append(session_start, session_start[-1] + grid.step_minutes)
    curve = volume_curve_integral(edges, market.volume_profile, session_minutes)
    return market.adv * tau * np.diff(curve) / grid.step_minutes


def _liquidity_steps(stp: np.ndarray, market: MarketModel, path: _Path, tau: float) -> None:
    """Spread, liquidity multiplier and impact coefficients along the scenario's timeline."""
    stp[:, K.S_EPS] = market.epsilon / market.s0 * path.spread
    stp[:, K.S_LIQ] = path.liquidity
    if market.impact == "linear":
        stp[:, K.S_TEMP] = market.eta / (tau * market.s0) / path.liquidity
        stp[:, K.S_PERM] = market.gamma / market.s0 / path.liquidity
    else:
        assert market.adv is not None  # MarketModel refuses the power law without it
        stp[:, K.S_TEMP] = market.eta * path.sigma
        stp[:, K.S_PERM] = (market.gamma * path.sigma * market.theta_over_v**market.delta) / (
            market.adv * path.liquidity
        )


def _jumps(market: MarketModel, scenario: Scenario | None) -> tuple[float, float, float]:
    """Jump intensity per day, mean (of the mid, up > 0) and std: the scenario's first."""
    if scenario is not None and scenario.jumps is not None:
        return scenario.jumps.intensity_per_day, scenario.jumps.mean, scenario.jumps.std
    return market.jump_intensity, market.jump_mean, market.jump_std


def _feed_steps(
    stp: np.ndarray, feed: FeedCorruption | None, grid: _Grid
) -> tuple[float, float, float]:
    """Mark forced stale and spiked quotes; return the random feed's thresholds and size."""
    stale_z, spike_z, spike_size = -math.inf, math.inf, 0.0
    if feed is not None:
        for a, b in feed.stale:
            stp[(grid.start >= a) & (grid.start < b), K.S_STALE] = 1.0
        for minute, size in feed.spikes:
            i = int(np.searchsorted(grid.start, minute - 1e-9))
            if i < grid.start.size:
                stp[i, K.S_SPIKE] = size
        stale_z = _inv_cdf(feed.stale_probability)
        spike_z = _inv_cdf(1.0 - feed.spike_probability) if feed.spike_probability > 0 else math.inf
        spike_size = feed.spike_size
    return stale_z, spike_z, spike_size


def _market_params(
    par: np.ndarray, market: MarketModel, *, side: float, qty: float, tau: float
) -> None:
    par[K.P_S0] = market.s0
    par[K.P_SIDE] = side
    par[K.P_QTY] = qty
    par[K.P_GEOM] = 1.0 if market.dynamics == "geometric" else 0.0
    par[K.P_POWER] = 1.0 if market.impact == "power" else 0.0
    par[K.P_BETA] = market.beta
    par[K.P_TAU] = tau
    par[K.P_VNOISE] = market.volume_noise if market.adv is not None else 0.0
    par[K.P_HASVOL] = 1.0 if market.adv is not None else 0.0


def _event_params(
    par: np.ndarray,
    jumps: tuple[float, float, float],
    feed_params: tuple[float, float, float],
    feed: FeedCorruption | None,
) -> None:
    """Jump and random-feed parameters; the event stream is drawn only when they are used."""
    intensity, par[K.P_JMEAN], par[K.P_JSTD] = jumps
    par[K.P_STALE_Z], par[K.P_SPIKE_Z], par[K.P_SPIKE_SIZE] = feed_params
    random_feed = feed is not None and (feed.stale_probability > 0 or feed.spike_probability > 0)
    par[K.P_EVENTS] = 1.0 if (intensity > 0 or random_feed) else 0.0
    par[K.P_FEED_CORRUPT] = 1.0 if feed is not None else 0.0


def _control_params(par: np.ndarray, controls: Controls, qty: float, s0: float) -> None:
    par[K.P_KILL_ON] = float(controls.kill_switch)
    par[K.P_MAXLOSS] = controls.max_loss_bps * 1e-4 * qty * s0
    par[K.P_FEED_ON] = float(controls.feed_guard)
    par[K.P_MAXSTALE] = controls.max_stale_steps
    par[K.P_SPIKE_THR] = controls.spike_bps * 1e-4
    par[K.P_COLLAR_ON] = float(controls.price_collar)
    par[K.P_COLLAR] = controls.collar_bps * 1e-4
    par[K.P_SLIP_ON] = float(controls.slippage_guard)
    par[K.P_SLIP_TOL] = controls.slippage_tolerance_bps * 1e-4
    par[K.P_PCAP_ON] = float(controls.participation_cap)
    par[K.P_PCAP] = controls.max_participation


def _monitor_params(
    par: np.ndarray, controls: Controls, levels: Mapping[str, tuple[float, float]]
) -> None:
    """The risk monitor's switch and the action level of each metric it acts on."""
    par[K.P_MONITOR] = float(controls.risk_monitor)
    par[K.P_MON_SLIP] = levels["realised_slippage"][1]
    par[K.P_MON_PART] = levels["participation_5min"][1]
    par[K.P_MON_VAR] = levels["fill_price_dispersion"][1]
    par[K.P_MON_LEAK] = levels["information_leakage"][1]


def _session_clock(
    market_share: float, grid: _Grid, start_minute: float, session_minutes: float, n_window: int
) -> tuple[int, int]:
    """The order's first step on the session clock and the session's steps.

    A market-wide factor is one shock per session step shared by every order of the book, so
    it needs steps that divide the session and a window that ends by the close.
    """
    if market_share == 0.0:
        return 0, 1
    per_session = session_minutes / grid.step_minutes
    n_session = int(round(per_session))
    offset = int(math.floor(start_minute / grid.step_minutes + 1e-9))
    if abs(per_session - n_session) > 1e-6:
        raise StressInputError(
            "market_share > 0 needs steps that divide the session, got steps of "
            f"{grid.step_minutes:g} minutes in a {session_minutes:g}-minute session"
        )
    if offset + n_window > n_session:
        raise StressInputError(
            "market_share > 0 needs the window to end by the close: it starts at step "
            f"{offset} and lasts {n_window} steps, the session has {n_session}"
        )
    return offset, n_session


def prepare_inputs(
    market: MarketModel,
    holdings: ArrayLike,
    horizon: float,
    n_paths: int,
    seed: int,
    *,
    side: str | int = "sell",
    pov_rate: float = 0.0,
    controls: Controls | None = None,
    scenario: Scenario | None = None,
    start_minute: float = 0.0,
    window: float | None = None,
    reference_vol: float | None = None,
    stream: str | int | None = None,
    session_minutes: float = float(SESSION_MINUTES),
    participation_window_minutes: float = 5.0,
    completion_minutes: float = 30.0,
    overrun_participation: float = 0.10,
    risk_levels: Mapping[str, tuple[float, float]] | None = None,
    market_share: float = 0.0,
) -> KernelInputs:
    """Validate the arguments of :func:`~validation.stress.engine.simulate`; build the inputs.

    Parameters are those of :func:`~validation.stress.engine.simulate`.

    Returns
    -------
    KernelInputs
        Arrays and scalars for :func:`validation.stress.kernels.simulate_chunks`.

    Raises
    ------
    StressInputError
        When an argument is out of range, naming what was expected and what was got.
    """
    if not isinstance(market, MarketModel):
        raise StressInputError(f"market must be a MarketModel, got {type(market).__name__}")
    x = check_holdings(holdings)
    horizon = finite_number("horizon", horizon, low=0.0, strict=True)
    n_paths = integer("n_paths", n_paths, low=1)
    seed = integer("seed", seed, low=0)
    sgn = side_sign(side)
    pov_rate = finite_number("pov_rate", pov_rate, low=0.0)
    if pov_rate > 1.0:
        raise StressInputError(f"pov_rate must be <= 1, got {pov_rate:g}")
    if controls is None:
        controls = Controls.none()
    if not isinstance(controls, Controls):
        raise StressInputError(f"controls must be Controls or None, got {type(controls).__name__}")
    if scenario is not None and not isinstance(scenario, Scenario):
        raise StressInputError(
            f"scenario must be a Scenario or None, got {type(scenario).__name__}"
        )
    start_minute = finite_number("start_minute", start_minute, low=0.0)
    session_minutes = finite_number("session_minutes", session_minutes, low=0.0, strict=True)
    pw_minutes = finite_number(
        "participation_window_minutes", participation_window_minutes, low=0.0, strict=True
    )
    completion_minutes = finite_number(
        "completion_minutes", completion_minutes, low=0.0, strict=True
    )
    overrun_participation = finite_number("overrun_participation", overrun_participation, low=0.0)
    if overrun_participation >= 1.0:
        raise StressInputError(f"overrun_participation must be < 1, got {overrun_participation:g}")
    if stream is not None and not isinstance(stream, str | int):
        raise StressInputError(f"stream must be a str, an int or None, got {stream!r}")
    market_share = finite_number("market_share", market_share, low=0.0)
    if market_share > 1.0:
        raise StressInputError(f"market_share must be <= 1, got {market_share:g}")

    qty = float(x[0])
    n_sched = x.size - 1
    tau = horizon / n_sched
    n_window = _window_steps(window, tau, n_sched, horizon)
    sigma_ref = _reference_vol(market, reference_vol, controls)
    _require_volume(market, pov_rate, controls)

    grid = _Grid.of(tau, session_minutes, n_window)
    timeline, n_onsets = _scenario_grid(scenario, grid, start_minute)
    path = _scenario_path(scenario, market, timeline)
    stp = np.zeros((timeline.start.size, K.N_STEP))
    _price_steps(stp, market, path, tau)
    _liquidity_steps(stp, market, path, tau)
    base = _session_volume(
        market, grid, tau=tau, start_minute=start_minute, session_minutes=session_minutes
    )
    jumps = _jumps(market, scenario)
    stp[:, K.S_JTHR] = _inv_cdf(1.0 - math.exp(-jumps[0] * tau))
    feed = scenario.feed if scenario is not None else None
    feed_params = _feed_steps(stp, feed, timeline)

    tgt = np.zeros(n_window)
    tgt[:n_sched] = (qty - x[1:]) / qty
    tgt[n_sched:] = tgt[n_sched - 1]  # the schedule's last target holds through the overrun

    par = np.zeros(K.N_PAR)
    _market_params(par, market, side=sgn, qty=qty, tau=tau)
    _event_params(par, jumps, feed_params, feed)
    par[K.P_POV] = pov_rate
    par[K.P_NSCHED] = n_sched
    par[K.P_WSTEPS] = max(1, int(round(pw_minutes / grid.step_minutes)))
    par[K.P_SIGREF] = sigma_ref
    par[K.P_LAMBDA] = 0.5 ** (grid.step_minutes / controls.vol_halflife_minutes)
    par[K.P_COMPLETION] = completion_minutes / grid.step_minutes
    par[K.P_OVERRUN] = overrun_participation if market.adv is not None else 0.0
    leakage = scenario.leakage if scenario is not None else None
    if leakage is not None:
        par[K.P_LEAK], par[K.P_LEAK_THR] = leakage.strength, leakage.threshold
    par[K.P_ONSETS] = n_onsets
    par[K.P_EPS0] = market.epsilon / market.s0
    par[K.P_MSHARE] = market_share
    par[K.P_SOFFSET], par[K.P_SSTEPS] = _session_clock(
        market_share, grid, start_minute, session_minutes, n_window
    )
    _monitor_params(par, controls, ESSAY_RISK_LEVELS if risk_levels is None else risk_levels)
    _control_params(par, controls, qty, market.s0)
    return KernelInputs(
        par=par,
        stp=np.ascontiguousarray(stp),
        base=base,
        tgt=tgt,
        n_paths=n_paths,
        seed=seed,
        stream=stream,
        n_sched=n_sched,
        n_window=n_window,
        tau=tau,
        minutes=grid.start,
    )
