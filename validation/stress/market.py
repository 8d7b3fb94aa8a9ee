"""Market model, risk controls and :func:`simulate`: one execution schedule on many paths.

Conventions (Almgren & Chriss 2000, section 2, generalised)
-----------------------------------------------------------
Time is in trading days (a day is ``session_minutes`` = 390 minutes). A schedule over
``horizon`` days is given by ``holdings = [x_0, ..., x_N]`` (shares still to trade after each of
the ``N`` steps of length ``tau = horizon / N``); ``n_k = x_{k-1} - x_k`` is the trade of step
``k``. In step ``k`` the trade fills at ``S~_k = S_{k-1} + side * h(n_k)`` (``side`` = -1 for a
sale, +1 for a purchase) and the mid then moves to
``S_k = S_{k-1} + sigma tau^0.5 xi_k + side * tau g(n_k / tau)`` (+ drift, jumps, scenario).

Impact laws:

* ``impact="linear"`` (Almgren & Chriss 2000), parameters in price units at ``s0``:
  ``h(v) = epsilon sign(v) + eta v`` and ``g(v) = gamma v`` with ``v = n / tau``. In the
  arithmetic model they are used as is; in the geometric model they scale with ``S_{k-1}/s0``.
  A scenario's liquidity multiplier ``L_k`` divides ``eta`` and ``gamma``.
* ``impact="power"`` (Almgren, Thum, Hauptmann & Li 2005), dimensionless ``eta``, ``gamma``:
  temporary cost per share ``Sref * (eps_k + eta sigma_k |n_k / m_k|^beta)`` where ``m_k`` is the
  market volume of the step (so ``n_k / m_k`` is the step's participation rate, the discrete
  form of ``X / (V T)``), and permanent move ``Sref * gamma sigma_k (n_k / (V L_k))
  (Theta / V)^delta`` per step, ``V`` the ADV, so that a whole order of ``X`` shares moves the
  price by ``gamma sigma (X / V) (Theta / V)^delta``. ``sigma_k`` is the relative daily volatility
  of the step, ``Sref`` the pre-trade mid (geometric) or ``s0`` (arithmetic).

Dynamics: ``"arithmetic"`` (Bachelier; ``sigma`` and ``drift`` in price units per day**0.5 and
per day) or ``"geometric"`` (log-normal, exact log-Euler step; ``sigma`` and ``drift``
relative). Market volume follows a flat or U-shaped intraday curve (``u(m) = c (1 + 2 ((m -
195) / 195)^2)`` over the session's minutes ``m``, ``c`` normalising the mean to 1; open and
close trade 3x midday), times the scenario's liquidity multiplier, times mean-one log-normal
noise with standard deviation ``volume_noise``.

Implementation shortfall (currency, per path) is Perold's: ``side * (sum_k n_k S~_k +
u S_T - X S0)`` where ``u`` is the unfilled remainder, marked at the mid ``S_T`` at the end of
the schedule. Without controls and with ``x_N = 0`` it is the paper's ``X S0 - sum n_k S~_k``
for a sale.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Literal

import numpy as np
from numba import typed
from numpy.typing import ArrayLike
from pydantic import Field, model_validator

from validation.stress import kernels as K
from validation.stress._base import StrictModel
from validation.stress.errors import StressInputError
from validation.stress.scenarios import Scenario

__all__ = [
    "SESSION_MINUTES",
    "U_SHAPE_CURVATURE",
    "MarketModel",
    "Controls",
    "KernelInputs",
    "SimulationResult",
    "PathTrace",
    "prepare_inputs",
    "make_generators",
    "simulate",
    "volume_curve_integral",
]

#: Minutes of a trading session (one unit of time).
SESSION_MINUTES = 390.0
#: Open/close volume is ``1 + U_SHAPE_CURVATURE`` times the midday volume.
U_SHAPE_CURVATURE = 2.0

Backend = Literal["numba", "numpy", "python"]


class MarketModel(StrictModel):
    """Parameters of the simulated market (see the module docstring for the equations).

    Parameters
    ----------
    s0
        Arrival (initial) mid price, > 0.
    sigma
        Daily volatility: price units per day**0.5 (arithmetic) or relative (geometric).
    drift
        Daily drift, same units as ``sigma`` per day**0.5 (price per day or relative).
    dynamics
        ``"arithmetic"`` or ``"geometric"``.
    impact
        ``"linear"`` (Almgren & Chriss 2000) or ``"power"`` (Almgren et al. 2005).
    eta, gamma
        Temporary and permanent impact coefficients (units depend on ``impact``).
    epsilon
        Fixed cost per share (half the spread plus fees), price units at ``s0``.
    beta
        Exponent of temporary impact in participation (``impact="power"``).
    delta, theta_over_v
        Permanent impact factor ``theta_over_v ** delta`` (shares outstanding over ADV).
    adv
        Market volume per day (shares); required by ``impact="power"``, participation
        limits and POV trading. ``None`` means unknown (infinite) volume.
    volume_profile
        ``"flat"`` or ``"u_shape"`` intraday volume curve.
    volume_noise
        Standard deviation of the log-normal noise of each step's market volume.
    jump_intensity, jump_mean, jump_std
        Jumps per day (at most one per step) and their relative size (mean upwards).
    """

    s0: float = Field(gt=0, allow_inf_nan=False)
    sigma: float = Field(ge=0, allow_inf_nan=False)
    drift: float = Field(0.0, allow_inf_nan=False)
    dynamics: Literal["arithmetic", "geometric"] = "arithmetic"
    impact: Literal["linear", "power"] = "linear"
    eta: float = Field(0.0, ge=0, allow_inf_nan=False)
    gamma: float = Field(0.0, ge=0, allow_inf_nan=False)
    epsilon: float = Field(0.0, ge=0, allow_inf_nan=False)
    beta: float = Field(0.6, gt=0, le=2, allow_inf_nan=False)
    delta: float = Field(0.25, ge=0, allow_inf_nan=False)
    theta_over_v: float = Field(1.0, gt=0, allow_inf_nan=False)
    adv: float | None = Field(None, gt=0, allow_inf_nan=False)
    volume_profile: Literal["flat", "u_shape"] = "flat"
    volume_noise: float = Field(0.0, ge=0, le=2, allow_inf_nan=False)
    jump_intensity: float = Field(0.0, ge=0, allow_inf_nan=False)
    jump_mean: float = Field(0.0, gt=-1, lt=1, allow_inf_nan=False)
    jump_std: float = Field(0.0, ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _check_power_needs_volume(self) -> MarketModel:
        if self.impact == "power" and self.adv is None:
            raise ValueError("impact='power' needs adv (market volume per day)")
        return self

    @property
    def relative_sigma(self) -> float:
        """Daily volatility as a fraction of the price."""
        return self.sigma if self.dynamics == "geometric" else self.sigma / self.s0


class Controls(StrictModel):
    """Risk controls applied inside the kernel; each can be switched off.

    Parameters
    ----------
    kill_switch, max_loss_bps
        Halt when the realised loss on fills vs arrival, ``side * sum n (P - S0)``, exceeds
        ``max_loss_bps`` of the order's notional ``X S0``.
    price_collar, collar_bps
        Do not trade in a step where the observed quote is more than ``collar_bps`` away from
        the arrival price (resume when back inside).
    participation_cap, max_participation
        Clip a step's trade to ``max_participation`` of the step's market volume.
    slippage_guard, slippage_tolerance_bps, vol_halflife_minutes, max_pause_steps
        Pause when the indicative slippage vs arrival of trading now exceeds a tolerance that
        tightens with realised volatility: ``tol * min(1, sigma_ref / sigma_hat)``, ``sigma_hat``
        an EWMA (half-life ``vol_halflife_minutes``) of squared quote returns, ``sigma_ref`` the
        pre-trade volatility. Resume when back within tolerance; halt after more than
        ``max_pause_steps`` consecutive paused steps.
    feed_guard, max_stale_steps, spike_bps
        Halt when the quote has not changed for ``max_stale_steps`` steps or its last change
        exceeds ``spike_bps``.
    """

    kill_switch: bool = True
    max_loss_bps: float = Field(150.0, gt=0, allow_inf_nan=False)
    price_collar: bool = True
    collar_bps: float = Field(500.0, gt=0, allow_inf_nan=False)
    participation_cap: bool = True
    max_participation: float = Field(0.25, gt=0, le=1)
    slippage_guard: bool = True
    slippage_tolerance_bps: float = Field(250.0, gt=0, allow_inf_nan=False)
    vol_halflife_minutes: float = Field(15.0, gt=0, allow_inf_nan=False)
    max_pause_steps: int = Field(60, ge=0)
    feed_guard: bool = True
    max_stale_steps: int = Field(5, ge=1)
    spike_bps: float = Field(500.0, gt=0, allow_inf_nan=False)

    @classmethod
    def none(cls) -> Controls:
        """Return controls with every control switched off."""
        return cls(
            kill_switch=False,
            price_collar=False,
            participation_cap=False,
            slippage_guard=False,
            feed_guard=False,
        )

    @classmethod
    def only(cls, *names: str, **params: float) -> Controls:
        """Return controls with only ``names`` switched on (and ``params`` overridden)."""
        switches = {
            "kill_switch",
            "price_collar",
            "participation_cap",
            "slippage_guard",
            "feed_guard",
        }
        unknown = set(names) - switches
        if unknown:
            raise StressInputError(
                f"unknown control(s) {sorted(unknown)}; expected some of {sorted(switches)}"
            )
        return cls(**{s: s in names for s in switches}, **params)


@dataclass(frozen=True)
class KernelInputs:
    """Everything the kernels need for one order, prepared and validated.

    Attributes
    ----------
    par, stp, tgt
        Scalar parameters, per-step inputs and target cumulative fill fractions
        (see :mod:`validation.stress.kernels`).
    n_paths, seed, stream
        Number of paths and what the random streams derive from.
    n_sched, n_window, tau
        Steps of the schedule, of the simulation window, and step length in days.
    minutes
        Minutes since the order's start at the start of each window step.
    """

    par: np.ndarray
    stp: np.ndarray
    tgt: np.ndarray
    n_paths: int
    seed: int
    stream: str | int | None
    n_sched: int
    n_window: int
    tau: float
    minutes: np.ndarray


@dataclass(frozen=True)
class PathTrace:
    """One simulated path with the state the controls saw and where they fired.

    Attributes
    ----------
    path
        Index of the path.
    minutes
        Minutes since the order's start at the start of each step of the schedule.
    columns
        Per-step arrays, named as :data:`validation.stress.kernels.TRACE_NAMES`: ``mid`` (true
        mid at the start of the step), ``quote`` (what the controls saw), ``remaining`` (shares
        left at the start), ``target_filled`` (schedule's cumulative target at the end),
        ``desired`` (trade requested before the participation cap), ``trade``, ``price`` (fill
        price, NaN without a trade), ``market_volume``, ``flags`` (bit ``c`` set when control
        ``c`` of :data:`~validation.stress.kernels.CONTROL_NAMES` had its condition met),
        ``tolerance`` and ``slippage`` (slippage guard; NaN when not evaluated), ``sigma_hat``
        (realised-volatility estimate), ``loss`` (realised loss at the start), ``shock`` (the
        price shock ``z_price``), ``live``, ``stale_run``, ``abs_return`` (last quote change)
        and ``mid_end`` (mid after the step).
    side, quantity, s0
        The order.
    events
        Control name -> steps at which its condition was met.
    halt_step
        Step at which trading was halted, or -1.
    cost
        Implementation shortfall of the path (currency).
    """

    path: int
    minutes: np.ndarray
    columns: dict[str, np.ndarray]
    side: float
    quantity: float
    s0: float
    events: dict[str, np.ndarray]
    halt_step: int
    cost: float

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]


@dataclass
class SimulationResult:
    """Per-path results of :func:`simulate`.

    Attributes
    ----------
    cost
        Implementation shortfall per path (currency; positive = cost), the sum of
        ``execution_cost`` (fills vs arrival, ``side * sum n (P - S0)``) and
        ``opportunity_cost`` (unfilled shares marked at the end, ``side * u (S_T - S0)``).
    filled, unfilled
        Shares filled and left unfilled per path.
    avg_price, mark
        Average fill price (NaN when nothing filled) and mid at the end of the schedule.
    slippage
        Realised slippage vs arrival, ``side (avg_price - S0) / S0`` (fraction).
    impact_cost
        Market impact cost, ``side sum n (P - M_before) / sum n M_before`` (fraction): what
        the fills paid over the mid just before each trade (half spread + temporary impact).
    max_participation
        Maximum over 5-minute windows (``participation_window_minutes``) of our volume over
        market volume (NaN when market volume is unknown).
    fill_var, fill_var_ref
        Fill-weighted variance of fill prices and its expected value under the pre-trade
        ("historical") volatility with no impact and no spread, for the same fill times and
        sizes: ``(sigma_ref S0)^2 (sum w_k t_k - sum_jk w_j w_k min(t_j, t_k))``.
    leak_moments
        Per-path sums (count, x, y, x^2, y^2, xy) of participation ``x`` and adverse mid move
        ``y`` over live steps, pooled into the information-leakage score.
    control_counts, first_fire
        Steps at which each control's condition was met, and the first such step (-1 never),
        columns in :data:`validation.stress.kernels.CONTROL_NAMES` order.
    halt_step
        Step at which trading halted (-1 never).
    """

    cost: np.ndarray
    execution_cost: np.ndarray
    opportunity_cost: np.ndarray
    filled: np.ndarray
    unfilled: np.ndarray
    avg_price: np.ndarray
    mark: np.ndarray
    slippage: np.ndarray
    impact_cost: np.ndarray
    max_participation: np.ndarray
    fill_var: np.ndarray
    fill_var_ref: np.ndarray
    leak_moments: np.ndarray
    control_counts: np.ndarray
    first_fire: np.ndarray
    halt_step: np.ndarray
    side: float
    quantity: float
    s0: float
    n_steps: int
    tau: float
    trace: PathTrace | None = None
    raw: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_paths(self) -> int:
        """Number of simulated paths."""
        return int(self.cost.shape[0])

    @property
    def notional(self) -> float:
        """Order notional at arrival, ``X S0``."""
        return self.quantity * self.s0

    @property
    def cost_bps(self) -> np.ndarray:
        """Implementation shortfall per path in basis points of the notional."""
        return self.cost / self.notional * 1e4

    @property
    def fill_var_ratio(self) -> np.ndarray:
        """Intra-trade fill-price variance over its no-impact historical level."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.fill_var_ref > 0, self.fill_var / self.fill_var_ref, np.nan)

    def control_rates(self) -> dict[str, float]:
        """Fraction of paths on which each control fired at least once."""
        fired = (self.control_counts > 0).mean(axis=0)
        return {name: float(v) for name, v in zip(K.CONTROL_NAMES, fired, strict=True)}


# --- volume curve -----------------------------------------------------------------------------
def volume_curve_integral(
    minutes: np.ndarray, profile: str = "u_shape", session_minutes: float = SESSION_MINUTES
) -> np.ndarray:
    """Cumulative relative market volume from the open to ``minutes`` of session time.

    The intraday curve has mean 1 over a session, so the integral over a whole session is
    ``session_minutes``; it repeats every session for multi-day horizons.

    Parameters
    ----------
    minutes
        Session minutes since the first open (may exceed one session).
    profile
        ``"flat"`` or ``"u_shape"``.
    session_minutes
        Length of a session.

    Returns
    -------
    numpy.ndarray
        ``int_0^minutes u(m) dm``.
    """
    minutes = np.asarray(minutes, dtype=float)
    if profile == "flat":
        return minutes.copy()
    a = U_SHAPE_CURVATURE
    half = session_minutes / 2.0
    c = 1.0 / (1.0 + a / 3.0)
    days = np.floor(minutes / session_minutes)
    x = minutes - days * session_minutes
    within = c * (x + a * half / 3.0 * (((x - half) / half) ** 3 + 1.0))
    return days * session_minutes + within


def _stream_key(stream: str | int) -> int:
    digest = hashlib.sha256(str(stream).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little")


def make_generators(
    seed: int, n_paths: int, stream: str | int | None = None
) -> list[np.random.Generator]:
    """Two PCG64 generators per chunk of :data:`~validation.stress.kernels.CHUNK_SIZE` paths.

    Parameters
    ----------
    seed
        Non-negative integer seed.
    n_paths
        Number of paths (decides the number of chunks).
    stream
        Optional key (e.g. an order id) giving an independent family of streams for the same
        seed: ``SeedSequence(seed, spawn_key=(sha256(key),))``.

    Returns
    -------
    list of numpy.random.Generator
        ``[market_0, event_0, market_1, event_1, ...]``: chunk ``c``'s streams come from
        ``SeedSequence(...).spawn(n_chunks)[c].spawn(2)``.
    """
    n_chunks = -(-n_paths // K.CHUNK_SIZE)
    if stream is None:
        root = np.random.SeedSequence(seed)
    else:
        root = np.random.SeedSequence(seed, spawn_key=(_stream_key(stream),))
    return [
        np.random.Generator(np.random.PCG64(s))
        for child in root.spawn(n_chunks)
        for s in child.spawn(2)
    ]


# --- validation helpers -----------------------------------------------------------------------
def _finite_number(
    name: str, value: object, *, low: float | None = None, strict: bool = False
) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise StressInputError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise StressInputError(f"{name} must be finite, got {number}")
    if low is not None and (number <= low if strict else number < low):
        raise StressInputError(f"{name} must be {'>' if strict else '>='} {low:g}, got {number:g}")
    return number


def _integer(name: str, value: object, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise StressInputError(f"{name} must be an integer, got {value!r}")
    if value < low:
        raise StressInputError(f"{name} must be >= {low}, got {value}")
    return int(value)


def _check_holdings(holdings: ArrayLike) -> np.ndarray:
    try:
        x = np.asarray(holdings, dtype=float)
    except (TypeError, ValueError):
        raise StressInputError(f"holdings must be an array of numbers, got {holdings!r}") from None
    if x.ndim != 1 or x.size < 2:
        raise StressInputError(
            f"holdings must be a 1-D array [x_0, ..., x_N] with N >= 1, got shape {x.shape}"
        )
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise StressInputError(
            f"holdings must be finite, got {x[bad[0]]} at index {bad[0]} ({bad.size} values)"
        )
    if x[0] <= 0:
        raise StressInputError(f"holdings[0] (the order size) must be > 0, got {x[0]:g}")
    if x[-1] < 0:
        raise StressInputError(f"holdings[-1] must be >= 0, got {x[-1]:g}")
    up = np.flatnonzero(np.diff(x) > 0)
    if up.size:
        i = int(up[0])
        raise StressInputError(
            "holdings must be non-increasing (trading in one direction), got an increase at "
            f"index {i + 1} ({x[i]:g} -> {x[i + 1]:g})"
        )
    return x


def _side(side: str | int) -> float:
    mapping = {"sell": -1.0, "s": -1.0, "-1": -1.0, "buy": 1.0, "b": 1.0, "1": 1.0, "+1": 1.0}
    key = str(side).strip().lower()
    if key not in mapping:
        raise StressInputError(f"side must be 'buy' or 'sell' (or +1/-1), got {side!r}")
    return mapping[key]


def _inv_cdf(p: float) -> float:
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    return NormalDist().inv_cdf(p)


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
    session_minutes: float = SESSION_MINUTES,
    participation_window_minutes: float = 5.0,
) -> KernelInputs:
    """Validate the arguments of :func:`simulate` and build the kernels' inputs.

    Parameters are those of :func:`simulate`.

    Returns
    -------
    KernelInputs
        Arrays and scalars for :func:`validation.stress.kernels.simulate_chunks`.
    """
    if not isinstance(market, MarketModel):
        raise StressInputError(f"market must be a MarketModel, got {type(market).__name__}")
    x = _check_holdings(holdings)
    horizon = _finite_number("horizon", horizon, low=0.0, strict=True)
    n_paths = _integer("n_paths", n_paths, low=1)
    seed = _integer("seed", seed, low=0)
    sgn = _side(side)
    pov_rate = _finite_number("pov_rate", pov_rate, low=0.0)
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
    start_minute = _finite_number("start_minute", start_minute, low=0.0)
    session_minutes = _finite_number("session_minutes", session_minutes, low=0.0, strict=True)
    pw_minutes = _finite_number(
        "participation_window_minutes", participation_window_minutes, low=0.0, strict=True
    )
    if stream is not None and not isinstance(stream, str | int):
        raise StressInputError(f"stream must be a str, an int or None, got {stream!r}")

    qty = float(x[0])
    n_sched = x.size - 1
    tau = horizon / n_sched
    if window is None:
        n_window = n_sched
    else:
        window = _finite_number("window", window, low=0.0, strict=True)
        n_window = int(round(window / tau))
        if abs(n_window * tau - window) > 1e-9 * max(window, 1.0):
            raise StressInputError(
                f"window must be a whole number of steps of {tau:g} days, got {window:g}"
            )
        if n_window < n_sched:
            raise StressInputError(f"window must be >= horizon ({horizon:g}), got {window:g}")

    rel_sigma = market.relative_sigma
    sigma_ref = rel_sigma if reference_vol is None else reference_vol
    sigma_ref = _finite_number("reference_vol", sigma_ref, low=0.0)
    if controls.slippage_guard and sigma_ref <= 0:
        raise StressInputError(
            "reference_vol must be > 0 when the slippage guard is on (the market's sigma is 0; "
            f"pass reference_vol), got {sigma_ref:g}"
        )
    needs_volume = pov_rate > 0 or controls.participation_cap
    if needs_volume and market.adv is None:
        what = "pov_rate > 0" if pov_rate > 0 else "the participation cap"
        raise StressInputError(f"{what} needs market.adv (market volume per day), got None")

    # --- grid ----------------------------------------------------------------------------
    # Snap the grid to 1e-9 minute so that e.g. 100/390/100*390 is exactly 1 minute and
    # scenario events fall on the intended steps.
    step_minutes = round(tau * session_minutes, 9)
    k = np.arange(n_window, dtype=float)
    rel_start = np.round(k * step_minutes, 9)
    rel_end = np.round(rel_start + step_minutes, 9)
    rel_mid = rel_start + 0.5 * step_minutes

    geometric = market.dynamics == "geometric"
    if scenario is not None:
        sig_k = scenario.daily_volatility(rel_mid, rel_sigma)
        liq_k = scenario.liquidity_at(rel_mid)
        spr_k = scenario.spread_at(rel_mid)
        move = scenario.adverse_at(np.append(rel_start, rel_end[-1]))
    else:
        sig_k = np.full(n_window, rel_sigma)
        liq_k = np.ones(n_window)
        spr_k = np.ones(n_window)
        move = np.zeros(n_window + 1)
    if np.any(1.0 + sgn * move <= 0):
        raise StressInputError("scenario adverse_move would take the price to <= 0")

    stp = np.zeros((n_window, K.N_STEP))
    if geometric:
        stp[:, K.S_VOL] = sig_k * math.sqrt(tau)
        det = (market.drift - 0.5 * sig_k**2) * tau
        det += np.log((1.0 + sgn * move[1:]) / (1.0 + sgn * move[:-1]))
    else:
        stp[:, K.S_VOL] = sig_k * market.s0 * math.sqrt(tau)
        det = market.drift * tau + sgn * market.s0 * np.diff(move)
    stp[:, K.S_DET] = det
    stp[:, K.S_EPS] = market.epsilon / market.s0 * spr_k
    if market.adv is not None:
        session_start = start_minute + rel_start
        u_bar = (
            np.diff(
                volume_curve_integral(
                    np.append(session_start, session_start[-1] + step_minutes),
                    market.volume_profile,
                    session_minutes,
                )
            )
            / step_minutes
        )
        stp[:, K.S_MVOL] = market.adv * tau * u_bar * liq_k
    else:
        stp[:, K.S_MVOL] = np.inf
    if market.impact == "linear":
        stp[:, K.S_TEMP] = market.eta / (tau * market.s0) / liq_k
        stp[:, K.S_PERM] = market.gamma / market.s0 / liq_k
    else:
        assert market.adv is not None
        stp[:, K.S_TEMP] = market.eta * sig_k
        stp[:, K.S_PERM] = (
            market.gamma * sig_k * market.theta_over_v**market.delta / (market.adv * liq_k)
        )
    if scenario is not None and scenario.jumps is not None:
        intensity = scenario.jumps.intensity_per_day
        jmean, jstd = sgn * scenario.jumps.mean, scenario.jumps.std
    else:
        intensity, jmean, jstd = market.jump_intensity, market.jump_mean, market.jump_std
    stp[:, K.S_JTHR] = _inv_cdf(1.0 - math.exp(-intensity * tau))

    stale_z, spike_z, spike_size = -math.inf, math.inf, 0.0
    feed = scenario.feed if scenario is not None else None
    if feed is not None:
        for a, b in feed.stale:
            stp[(rel_start >= a) & (rel_start < b), K.S_STALE] = 1.0
        for minute, size in feed.spikes:
            i = int(np.searchsorted(rel_start, minute - 1e-9))
            if i < n_window:
                stp[i, K.S_SPIKE] = size
        stale_z = _inv_cdf(feed.stale_probability)
        spike_z = _inv_cdf(1.0 - feed.spike_probability) if feed.spike_probability > 0 else math.inf
        spike_size = feed.spike_size
    stp[0, K.S_STALE] = 0.0  # the arrival quote is the arrival price
    stp[0, K.S_SPIKE] = 0.0

    tgt = np.zeros(n_window)
    tgt[:n_sched] = (qty - x[1:]) / qty

    par = np.zeros(K.N_PAR)
    par[K.P_S0] = market.s0
    par[K.P_SIDE] = sgn
    par[K.P_QTY] = qty
    par[K.P_GEOM] = 1.0 if geometric else 0.0
    par[K.P_POWER] = 1.0 if market.impact == "power" else 0.0
    par[K.P_BETA] = market.beta
    par[K.P_TAU] = tau
    par[K.P_JMEAN] = jmean
    par[K.P_JSTD] = jstd
    par[K.P_VNOISE] = market.volume_noise if market.adv is not None else 0.0
    par[K.P_STALE_Z] = stale_z
    par[K.P_SPIKE_Z] = spike_z
    par[K.P_SPIKE_SIZE] = spike_size
    par[K.P_POV] = pov_rate
    par[K.P_NSCHED] = n_sched
    par[K.P_WSTEPS] = max(1, int(round(pw_minutes / step_minutes)))
    par[K.P_SIGREF] = sigma_ref
    par[K.P_LAMBDA] = 0.5 ** (step_minutes / controls.vol_halflife_minutes)
    par[K.P_HASVOL] = 1.0 if market.adv is not None else 0.0
    par[K.P_KILL_ON] = float(controls.kill_switch)
    par[K.P_MAXLOSS] = controls.max_loss_bps * 1e-4 * qty * market.s0
    par[K.P_FEED_ON] = float(controls.feed_guard)
    par[K.P_MAXSTALE] = controls.max_stale_steps
    par[K.P_SPIKE_THR] = controls.spike_bps * 1e-4
    par[K.P_COLLAR_ON] = float(controls.price_collar)
    par[K.P_COLLAR] = controls.collar_bps * 1e-4
    par[K.P_SLIP_ON] = float(controls.slippage_guard)
    par[K.P_SLIP_TOL] = controls.slippage_tolerance_bps * 1e-4
    par[K.P_MAXPAUSE] = controls.max_pause_steps
    par[K.P_PCAP_ON] = float(controls.participation_cap)
    par[K.P_PCAP] = controls.max_participation
    random_feed = feed is not None and (feed.stale_probability > 0 or feed.spike_probability > 0)
    par[K.P_EVENTS] = 1.0 if (intensity > 0 or random_feed) else 0.0
    return KernelInputs(
        par=par,
        stp=np.ascontiguousarray(stp),
        tgt=tgt,
        n_paths=n_paths,
        seed=seed,
        stream=stream,
        n_sched=n_sched,
        n_window=n_window,
        tau=tau,
        minutes=rel_start,
    )


def run_kernel(
    inputs: KernelInputs, *, backend: Backend = "numba", trace_path: int = -1
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run prepared inputs on a backend.

    Parameters
    ----------
    inputs
        From :func:`prepare_inputs`.
    backend
        ``"numba"`` (parallel, SIMD block kernel), ``"numpy"`` (vectorised over paths) or
        ``"python"`` (the scalar kernel's source run by the interpreter).
    trace_path
        Path to trace or -1 (not supported by the numpy backend).

    Returns
    -------
    tuple of numpy.ndarray
        ``out`` (n_paths, N_OUT), ``fires`` and ``first_fire`` (n_paths, N_CONTROLS) and the
        trace (n_window, N_TRACE).
    """
    n = inputs.n_paths
    out = np.zeros((n, K.N_OUT))
    fires = np.zeros((n, K.N_CONTROLS), dtype=np.int64)
    first = np.full((n, K.N_CONTROLS), -1, dtype=np.int64)
    trace = np.full((inputs.n_window, K.N_TRACE), np.nan)
    gens = make_generators(inputs.seed, n, inputs.stream)
    if backend == "numba":
        K.simulate_chunks(
            typed.List(gens),
            n,
            K.CHUNK_SIZE,
            inputs.par,
            inputs.stp,
            inputs.tgt,
            out,
            fires,
            first,
            trace_path,
            trace,
        )
    elif backend == "numpy":
        if trace_path >= 0:
            raise StressInputError("trace_path is not supported by the numpy backend")
        from validation.stress.reference import simulate_numpy

        simulate_numpy(gens, n, K.CHUNK_SIZE, inputs.par, inputs.stp, inputs.tgt, out, fires, first)
    elif backend == "python":
        par, tgt = inputs.par.tolist(), inputs.tgt.tolist()
        stp = {
            (k, j): value
            for k, row in enumerate(inputs.stp.tolist())
            for j, value in enumerate(row)
        }
        for c in range(len(gens) // 2):
            lo = c * K.CHUNK_SIZE
            hi = min(lo + K.CHUNK_SIZE, n)
            K.simulate_chunk.py_func(
                gens[2 * c],
                gens[2 * c + 1],
                lo,
                hi,
                par,
                stp,
                tgt,
                out,
                fires,
                first,
                trace_path,
                trace,
            )
    else:
        raise StressInputError(f"backend must be 'numba', 'numpy' or 'python', got {backend!r}")
    return out, fires, first, trace


def _result(
    inputs: KernelInputs,
    out: np.ndarray,
    fires: np.ndarray,
    first: np.ndarray,
    trace: np.ndarray,
    trace_path: int,
) -> SimulationResult:
    par = inputs.par
    side, qty, s0 = float(par[K.P_SIDE]), float(par[K.P_QTY]), float(par[K.P_S0])
    filled = out[:, K.O_FILLED]
    value = out[:, K.O_VALUE]
    premid = out[:, K.O_PREMID]
    with np.errstate(divide="ignore", invalid="ignore"):
        avg = np.where(filled > 0, value / filled, np.nan)
        impact = np.where(premid > 0, side * (value - premid) / premid, np.nan)
    unfilled = np.maximum(qty - filled, 0.0)
    execution = side * (value - filled * s0)
    result = SimulationResult(
        cost=out[:, K.O_COST].copy(),
        execution_cost=execution,
        opportunity_cost=side * unfilled * (out[:, K.O_MARK] - s0),
        filled=filled.copy(),
        unfilled=unfilled,
        avg_price=avg,
        mark=out[:, K.O_MARK].copy(),
        slippage=side * (avg - s0) / s0,
        impact_cost=impact,
        max_participation=out[:, K.O_MAXPART].copy(),
        fill_var=out[:, K.O_FVAR].copy(),
        fill_var_ref=out[:, K.O_FVAR_REF].copy(),
        leak_moments=out[:, K.O_LN : K.O_LXY + 1].copy(),
        control_counts=fires,
        first_fire=first,
        halt_step=out[:, K.O_HALT].astype(np.int64),
        side=side,
        quantity=qty,
        s0=s0,
        n_steps=inputs.n_sched,
        tau=inputs.tau,
        raw=out,
    )
    if trace_path >= 0:
        rows = trace[: inputs.n_sched]
        columns = {name: rows[:, i].copy() for i, name in enumerate(K.TRACE_NAMES)}
        flags = np.nan_to_num(columns["flags"], nan=0.0).astype(np.int64)
        columns["flags"] = flags
        events = {name: np.flatnonzero(flags & (1 << c)) for c, name in enumerate(K.CONTROL_NAMES)}
        result.trace = PathTrace(
            path=trace_path,
            minutes=inputs.minutes[: inputs.n_sched].copy(),
            columns=columns,
            side=side,
            quantity=qty,
            s0=s0,
            events=events,
            halt_step=int(out[trace_path, K.O_HALT]),
            cost=float(out[trace_path, K.O_COST]),
        )
    return result


def simulate(
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
    trace_path: int | None = None,
    backend: Backend = "numba",
    session_minutes: float = SESSION_MINUTES,
    participation_window_minutes: float = 5.0,
) -> SimulationResult:
    """Execute one schedule on ``n_paths`` simulated market paths.

    With the defaults (a sale, no controls, no scenario) and ``impact="linear"``,
    ``dynamics="arithmetic"``, ``drift=0`` this is exactly the discrete model of Almgren &
    Chriss (2000), section 2.

    Parameters
    ----------
    market
        The market model.
    holdings
        ``[x_0, ..., x_N]``: shares left after each step; ``x_0`` is the order size. Must be
        non-increasing. The engine trades to catch up with this trajectory (so a blocked step
        is made up later); ``x_N > 0`` leaves a planned remainder.
    horizon
        Length of the schedule in trading days; ``tau = horizon / N``.
    n_paths
        Number of simulated paths.
    seed
        Seed of the random streams (see :func:`make_generators`).
    side
        ``"sell"`` (default) or ``"buy"``.
    pov_rate
        If > 0, also trade at least this fraction of each step's market volume (POV);
        pure POV is ``holdings = [X] * (N + 1)``.
    controls
        Risk controls; ``None`` switches all off.
    scenario
        Stress scenario applied over minutes since the start.
    start_minute
        Session minute at which the order starts (places it on the U-shaped volume curve).
    window
        Simulated length in days, >= ``horizon``, a whole number of steps. Schedules of
        different horizons compared on common random numbers must share the window.
    reference_vol
        Pre-trade ("historical") relative daily volatility used by the slippage guard and the
        fill-price variance reference; defaults to the market's.
    stream
        Key of an independent family of random streams (e.g. the order id).
    trace_path
        Index of a path whose trajectory and control events to return in ``result.trace``.
    backend
        ``"numba"`` (default), ``"numpy"`` or ``"python"``; all give the same results.
    session_minutes
        Minutes per trading day, the unit of time of scenarios and the volume curve.
    participation_window_minutes
        Window of the maximum-participation metric.

    Returns
    -------
    SimulationResult
        Per-path costs (``result.cost``), fills, risk metrics, control firings and the trace.

    Raises
    ------
    StressInputError
        When an argument is out of range, naming what was expected and what was got.

    Examples
    --------
    >>> market = MarketModel(s0=50.0, sigma=0.95, eta=2.5e-6, gamma=2.5e-7, epsilon=0.0625)
    >>> x = np.linspace(1e6, 0.0, 6)
    >>> result = simulate(market, holdings=x, horizon=5.0, n_paths=1000, seed=7)
    >>> result.cost.shape
    (1000,)
    """
    inputs = prepare_inputs(
        market,
        holdings,
        horizon,
        n_paths,
        seed,
        side=side,
        pov_rate=pov_rate,
        controls=controls,
        scenario=scenario,
        start_minute=start_minute,
        window=window,
        reference_vol=reference_vol,
        stream=stream,
        session_minutes=session_minutes,
        participation_window_minutes=participation_window_minutes,
    )
    tp = -1
    if trace_path is not None:
        tp = _integer("trace_path", trace_path, low=0)
        if tp >= inputs.n_paths:
            raise StressInputError(f"trace_path must be < n_paths ({inputs.n_paths}), got {tp}")
    out, fires, first, trace = run_kernel(inputs, backend=backend, trace_path=tp)
    return _result(inputs, out, fires, first, trace, tp)
