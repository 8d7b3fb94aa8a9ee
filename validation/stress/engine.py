"""Run one execution schedule on many simulated market paths: :func:`simulate`.

:func:`~validation.stress.inputs.prepare_inputs` validates the arguments and lays them out for
the numba kernels, :func:`run_kernel` runs :func:`validation.stress.kernels.simulate_chunks`
on the order's random streams, and :func:`collect_result` turns the kernel's arrays into a
:class:`~validation.stress.results.SimulationResult`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numba import typed
from numpy.typing import ArrayLike

import validation.stress.kernels as K
from validation.stress.arguments import integer
from validation.stress.controls import Controls
from validation.stress.errors import StressInputError
from validation.stress.inputs import KernelInputs, prepare_inputs
from validation.stress.market_model import MarketModel
from validation.stress.results import PathTrace, SimulationResult
from validation.stress.scenarios import Scenario
from validation.stress.streams import make_generators
from vocabulary import SESSION_MINUTES

__all__ = [
    "KernelOutputs",
    "allocate_outputs",
    "collect_result",
    "run_kernel",
    "schedule_plan",
    "simulate",
]

#: ``out``, ``fires``, ``first_fire`` and ``trace``: what a kernel run writes.
KernelOutputs = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def allocate_outputs(inputs: KernelInputs) -> KernelOutputs:
    """The arrays a kernel run writes, initialised as the kernels expect them.

    Returns
    -------
    tuple of numpy.ndarray
        ``out`` (N_OUT, n_paths) of zeros, ``fires`` (n_paths, N_CONTROLS) of zeros,
        ``first_fire`` (n_paths, N_CONTROLS) of -1 and the trace (n_window, N_TRACE) of NaN.
    """
    n = inputs.n_paths
    return (
        np.zeros((K.N_OUT, n)),
        np.zeros((n, K.N_CONTROLS), dtype=np.int64),
        np.full((n, K.N_CONTROLS), -1, dtype=np.int64),
        np.full((inputs.n_window, K.N_TRACE), np.nan),
    )


def run_kernel(inputs: KernelInputs, *, trace_path: int = -1) -> KernelOutputs:
    """Run prepared inputs on the numba kernels, on the streams of ``inputs``' seed and key.

    A run in which every path trades the same shares
    (:func:`~validation.stress.kernels.is_schedule_only`: no control, no monitor, no volume
    noise, no events, no reaction of others, one onset, no market-wide factor) goes to the
    schedule-only kernel, which takes the trades from one traced
    path and computes only prices per step; its outputs are the general kernel's to the last
    bit. A run with a traced path always takes the general kernel.

    Parameters
    ----------
    inputs
        From :func:`~validation.stress.inputs.prepare_inputs`.
    trace_path
        Path to trace or -1.

    Returns
    -------
    tuple of numpy.ndarray
        ``out`` (N_OUT, n_paths), ``fires`` and ``first_fire`` (n_paths, N_CONTROLS) and the
        trace (n_window, N_TRACE).
    """
    out, fires, first, trace = allocate_outputs(inputs)
    gens = typed.List(make_generators(inputs.seed, inputs.n_paths, inputs.stream))
    run = (gens, inputs.n_paths, K.CHUNK_SIZE, inputs.par, inputs.stp, inputs.base)
    if trace_path < 0 and K.is_schedule_only(inputs.par):
        K.simulate_schedule_chunks(*run, *schedule_plan(inputs), out)
    else:
        K.simulate_chunks(*run, inputs.tgt, out, fires, first, trace_path, trace)
    return out, fires, first, trace


def schedule_plan(inputs: KernelInputs) -> tuple[np.ndarray, np.ndarray]:
    """What the schedule-only kernel reads besides the run: ``steps`` and ``plan``.

    The first path of the run, traced by the general kernel, gives the trades of every path:
    ``steps`` from :func:`~validation.stress.kernels.schedule_steps`, and ``plan``, that path's
    outputs, for the columns that do not depend on prices.
    """
    one = KernelInputs(**{**inputs.__dict__, "n_paths": 1})
    out, _fires, _first, trace = run_kernel(one, trace_path=0)
    return K.schedule_steps(inputs.par, inputs.stp, trace), out[:, 0]


def collect_result(
    inputs: KernelInputs,
    out: np.ndarray,
    fires: np.ndarray,
    first: np.ndarray,
    trace: np.ndarray,
    trace_path: int,
) -> SimulationResult:
    """Turn the kernel's output arrays into a :class:`SimulationResult`.

    Parameters
    ----------
    inputs
        What the kernel was run on.
    out, fires, first, trace
        The arrays :func:`run_kernel` returns.
    trace_path
        The traced path, or -1.

    Returns
    -------
    SimulationResult
        Costs, fills and risk metrics per path; the trace of ``trace_path`` when >= 0.
    """
    par = inputs.par
    side, qty, s0 = float(par[K.P_SIDE]), float(par[K.P_QTY]), float(par[K.P_S0])
    # Rows of ``out`` are contiguous over paths: the per-path fields are views of them.
    filled = out[K.O_FILLED]
    completed = out[K.O_COMPLETED]
    value = out[K.O_VALUE] + out[K.O_CVALUE]
    premid = out[K.O_PREMID] + out[K.O_CMID]
    with np.errstate(divide="ignore", invalid="ignore"):
        avg = value / qty
        vwap = out[K.O_VWAP_VALUE] / out[K.O_VWAP_VOLUME]
        impact = side * (value - premid) / premid
    result = SimulationResult(
        cost=out[K.O_COST],
        execution_cost=side * (out[K.O_VALUE] - filled * s0),
        completion_cost=side * (out[K.O_CVALUE] - completed * s0),
        filled=filled,
        completed=completed,
        overrun=out[K.O_OVERRUN],
        avg_price=avg,
        mark=out[K.O_MARK],
        interval_vwap=vwap,
        slippage=side * (avg - vwap) / vwap,
        impact_cost=impact,
        max_participation=out[K.O_MAXPART],
        max_requested_participation=out[K.O_MAXREQ],
        fill_var=out[K.O_FVAR],
        fill_var_ref=out[K.O_FVAR_REF],
        leak_moments=out[K.O_LN : K.O_LXY + 1].T,
        control_counts=fires,
        first_fire=first,
        kill_step=out[K.O_KILL].astype(np.int64),
        max_loss_bps=float(par[K.P_MAXLOSS]) / (qty * s0) * 1e4,
        half_spread=float(par[K.P_EPS0]),
        side=side,
        quantity=qty,
        s0=s0,
        n_steps=inputs.n_sched,
        tau=inputs.tau,
        raw=out,
    )
    if trace_path >= 0:
        result.trace = _path_trace(inputs, out, trace, trace_path)
    return result


def _path_trace(
    inputs: KernelInputs, out: np.ndarray, trace: np.ndarray, trace_path: int
) -> PathTrace:
    rows = trace[: inputs.n_window]
    columns = {name: rows[:, i].copy() for i, name in enumerate(K.TRACE_NAMES)}
    flags = np.nan_to_num(columns["flags"], nan=0.0).astype(np.int64)
    columns["flags"] = flags
    events = {name: np.flatnonzero(flags & (1 << c)) for c, name in enumerate(K.CONTROL_NAMES)}
    return PathTrace(
        path=trace_path,
        minutes=inputs.minutes[: inputs.n_window].copy(),
        columns=columns,
        side=float(inputs.par[K.P_SIDE]),
        quantity=float(inputs.par[K.P_QTY]),
        s0=float(inputs.par[K.P_S0]),
        events=events,
        kill_step=int(out[K.O_KILL, trace_path]),
        cost=float(out[K.O_COST, trace_path]),
    )


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
    session_minutes: float = float(SESSION_MINUTES),
    participation_window_minutes: float = 5.0,
    completion_minutes: float = 30.0,
    overrun_participation: float = 0.10,
    risk_levels: Mapping[str, tuple[float, float]] | None = None,
    market_share: float = 0.0,
) -> SimulationResult:
    """Execute one schedule on ``n_paths`` simulated market paths.

    The market's equations are those of :mod:`validation.stress.market_model`, the step mechanics
    those of :mod:`validation.stress.kernels`. With the defaults (a sale, no controls, no
    scenario) and ``impact="linear"``, ``dynamics="arithmetic"``, ``drift=0`` and a schedule that
    ends flat (``x_N = 0``) this is exactly the discrete model of Almgren & Chriss (2000),
    section 2.

    Parameters
    ----------
    market
        The market model.
    holdings
        ``[x_0, ..., x_N]``: shares left after each step; ``x_0`` is the order size. Must be
        non-increasing. The engine trades to catch up with this trajectory (so a blocked step
        is made up later); a remainder (``x_N > 0``, or what controls held back) is worked
        after the horizon and completed at the end of the window, at a cost.
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
        Key of an independent family of the order's own random streams (e.g. the order
        id); the onset and the market-wide factor come from the seed alone.
    trace_path
        Index of a path whose trajectory and control events to return in ``result.trace``.
    session_minutes
        Minutes per trading day, the unit of time of scenarios and the volume curve.
    participation_window_minutes
        Window of the rolling participation metrics.
    completion_minutes
        Whatever is left at the end of the window, or when the kill switch or the risk
        monitor hands an order off, is completed as if worked over this many minutes at the
        market's expected volume (kernel steps 7 and 8).
    overrun_participation
        Participation at which the algorithm keeps working a remainder after the schedule's
        horizon, until the end of the window (kernel step 4; needs ``market.adv``).
    risk_levels
        Alert and action level of each risk metric, for the risk monitor (kernel step 8);
        the background essay's when ``None``.
    market_share
        Share of the price variance that comes from a market-wide factor, one shock per
        session step drawn from the seed alone, so that orders simulated with the same seed
        (a book) move together on each path (kernel step 0). 0 (default): each order's own.
        Needs steps that divide the session and a window that ends by the close.

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
        completion_minutes=completion_minutes,
        overrun_participation=overrun_participation,
        risk_levels=risk_levels,
        market_share=market_share,
    )
    tp = -1
    if trace_path is not None:
        tp = integer("trace_path", trace_path, low=0)
        if tp >= inputs.n_paths:
            raise StressInputError(f"trace_path must be < n_paths ({inputs.n_paths}), got {tp}")
    out, fires, first, trace = run_kernel(inputs, trace_path=tp)
    return collect_result(inputs, out, fires, first, trace, tp)
