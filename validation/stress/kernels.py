"""Numba kernels of the stress engine: one order executed on many simulated market paths.

The kernels take only NumPy arrays, scalars and NumPy random ``Generator`` objects (numba
supports them in nopython mode). Inputs are prepared and validated by
:func:`validation.stress.inputs.prepare_inputs` for :func:`validation.stress.engine.simulate`;
nothing here checks its arguments.

Reproducibility contract
------------------------
Paths are cut into chunks of :data:`CHUNK_SIZE` paths (a constant, never the thread count).
Chunk ``c`` owns :data:`STREAMS_PER_CHUNK` generators: the order's *market* and *event*
streams, spawned from child ``c`` of the order's ``np.random.SeedSequence``, and the *book*
stream, child ``c`` of a sequence that depends on the seed only, so that every order of a
book run with that seed reads the same book stream; it simulates its paths one after the
other. Each path draws, first, from the book stream: its scenario onset (one uniform, used
when the onset is randomised) and, when the market has a market-wide factor, one shock per
step of the whole session. Then, at every step of the simulation *window* (whatever the schedule
or the controls do), ``z_price`` (the order's own diffusion shock) and, when the market
volume is noisy, ``z_volume`` from the market stream; and, when the run has jumps or random
feed corruption, ``z_jump``, ``z_size`` and ``z_feed`` from the event stream. What is drawn
depends on the market and the scenario only, so:

* results do not depend on the number of threads (a chunk is always run by one thread);
* path ``p`` sees the same shocks whatever ``n_paths`` is, as long as it is in the run;
* two schedules of the same order in the same scenario see identical market shocks (common
  random numbers), whatever their horizons, as long as they share the window;
* every order of a book on path ``p`` sees the scenario begin at the same session minute and
  the same market-wide shock in each session step: a market-wide event hits the whole book
  at once, and the book's tail is not diversified away across orders that would in fact
  move together.

Step mechanics (step ``k`` covers ``[k tau, (k+1) tau)``; ``side`` is +1 buy, -1 sell)
--------------------------------------------------------------------------------------
0. A scenario with a randomised onset draws, first, the path's onset ``d`` (one uniform from the
   book stream): the scenario's events happen ``d`` steps later on this path than on a path
   with the earliest onset. The market's own intraday curve stays on the session clock. With
   a market-wide factor of variance share ``rho``, the diffusion shock of step ``k`` is
   ``sqrt(1 - rho) z_price + sqrt(rho) f_(o + k)``, ``f`` the path's market-wide shocks of
   the session and ``o`` the order's first step on the session clock.
1. Market volume of the step ``m_k = mvol_k exp(s z_volume - s^2/2)``, ``mvol_k`` the session's
   curve times the scenario's liquidity multiplier.
2. The order is *live* while it is not done and shares remain. The quote ``Q`` the controls see
   is *bad* when the feed guard is on and it has been stale for ``max_stale`` steps or its last
   change exceeds ``spike_threshold``; otherwise it becomes the last good quote ``G``.
3. Kill switch: when the mark-to-market loss ``side (value + remaining G - X S0)`` (fills plus
   the unfilled position marked at the last good quote) exceeds ``max_loss``, the algorithm
   stops and the remainder is handed to the backstop (7.).
4. Within the schedule's horizon the request is ``max(target_k X - filled, pov m_k)`` clipped
   to ``[0, remaining]`` (the engine catches up with its schedule after a pause); after it, the
   algorithm keeps working what is left at the overrun participation ``r``, ``r m_k / (1 -
   r)``, until the window (the close) ends. The *requested* participation the metrics see is
   the schedule's own plan for the step (its increment, or the overrun rate), not the backlog.
   The trade is not sent while the feed is bad (feed
   guard: pause, resume when the quote is sound) or while ``|Q / S0 - 1| > collar`` (price
   collar); it is clipped to ``cap m_k / (1 - cap)`` (participation cap: ours over market plus
   ours at most ``cap``); and the slippage guard turns it into a limit order: the indicative
   cost against the current quote beyond the order's arrival half spread, ``eps_k - eps_0 +
   h(n)``, may not exceed the tolerance ``tol min(1, sigma_ref / sigma_hat)``, which contracts
   as the realised volatility ``sigma_hat`` rises, so the trade is cut to the largest size
   within it (none when the widening of the spread alone exceeds it).
5. A trade ``n`` fills at ``P = M + side max(0, side (Q - M)) + side Mref (eps_k + h(n))``
   against the true mid ``M``: the spread and temporary impact ``h(n) = c_k n`` (linear) or
   ``c_k (n / m_k)^beta`` (power law), plus what a quote worse than the market gives away (a
   child order priced off a stale or spiked quote is picked off; one priced better than the
   market does not get a better price). ``Mref = M`` (geometric) or ``S0`` (arithmetic).
6. The mid moves: arithmetic ``M += d_k + v_k z_price + S0 (J + side g_k n) + side R``;
   geometric ``M *= exp(d_k + v_k z_price + J + side (g_k n + R))``; ``J`` is the jump, ``g_k n``
   the permanent impact, ``d_k`` the drift and scenario move, and ``R = leak v_k max(0, x - x0)
   / x0`` the reaction of other participants who trade ahead once our participation ``x = n /
   (m_k + n)`` stands out of the flow (above ``x0``); ``leak`` is the scenario's strength.
   The quote of the next step is the new mid, or the old quote (stale), or a spiked mid; the
   realised-volatility estimate is an EWMA of the squared quote returns.
7. Completion: every path ends flat. What the kill switch or the risk monitor hands over
   (``u`` shares) a backstop works from the next step on, ``u / completion_steps`` a step
   at the market's expected volume, each trade at ``M + side Mref (eps_k + h)`` with that
   step's mid, spread and impact, and moving the mid as any trade does (diffusion, jumps,
   scenario move and the trade's permanent impact): the position's price risk and the
   backstop's own footprint are carried until it is flat. Whatever is left at the end of
   the window (the close), the backstop's unworked part included, completes at the last
   mid with ``completion_steps`` steps' worth of impact. The cost of the order
   (implementation shortfall) includes it, and the overrun's fills.
8. The risk monitor (``monitor_on``), at the end of each live step, watches the background
   essay's metrics and takes its actions: realised slippage against the interval VWAP so far,
   beyond the arrival half spread, above its action level pauses the strategy for one
   participation window (re-checked after it); a rolling
   participation above its action level halts trading and hands the rest to the backstop;
   the fill-price standard deviation above its action level times its historical level
   records a review (trading goes on); a leakage correlation above its action level, over
   at least two windows of steps, re-routes the rest to the backstop. Market impact's
   action, reducing size, is the slippage guard's limit (4.).

Every control's condition is counted in ``fires[p, c]`` at each live step where it bound, and
its first step in ``first_fire[p, c]`` (-1 when it never did). Per path, the kernel also keeps
what the risk metrics need: the interval VWAP (market volume at the mid plus our fills and the
completion), the largest rolling ``window_steps`` participation, realised (ours over market plus
ours) and *requested* (what the schedule asked for before any control), the fill-price variance
of the algorithm's fills and its historical reference, and the moments of ``(x, adverse mid
move)`` over live steps for the information-leakage correlation (zero without a volume model,
where participation is undefined).

Formulation
-----------
One path at a time, its state in local variables, in a plain loop over steps: the kernel is
its own specification (``simulate_path.py_func`` is the same source interpreted by Python, the
oracle and baseline of the tests and ``bench/stress.py``). A control that is off, or a feature
the scenario does not use (volume noise, events, leakage), is a branch on a run constant and
costs nothing per step. No ``fastmath``: results are the same whatever the thread count.

Schedule-only runs (:func:`is_schedule_only`: no control, no monitor, no volume noise, no
random events, no reaction of others, one onset, no market-wide factor) trade the same shares
at the same steps on every path. :func:`simulate_schedule_chunks` takes those trades from one
path traced by the general kernel and computes per step only what moves: the mid, the fill
price and their sums, with the same operations in the same order as :func:`simulate_path`, so
that its outputs are the general kernel's to the last bit. In both, the mid's change is
computed before it is added, so that the dependency from one step to the next is a single
addition.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from validation.stress.controls import CONTROL_NAMES

__all__ = [
    "CHUNK_SIZE",
    "CONTROL_NAMES",
    "N_CONTROLS",
    "OUT_NAMES",
    "PAR_NAMES",
    "STEP_NAMES",
    "SCHEDULE_STEP_NAMES",
    "STREAMS_PER_CHUNK",
    "TRACE_NAMES",
    "is_schedule_only",
    "schedule_steps",
    "simulate_chunks",
    "simulate_path",
    "simulate_schedule_chunks",
    "simulate_schedule_path",
]

#: Paths per random stream. Part of the reproducibility contract: changing it changes results.
CHUNK_SIZE = 256
#: Random streams per chunk: the order's market and event streams and the book's.
STREAMS_PER_CHUNK = 3

# --- controls ---------------------------------------------------------------------------------
C_KILL = 0
C_FEED = 1
C_COLLAR = 2
C_SLIP = 3
C_PCAP = 4
C_PAUSE = 5
C_HALT = 6
C_REVIEW = 7
C_REROUTE = 8
N_CONTROLS = len(CONTROL_NAMES)

# --- scalar parameters (par) ------------------------------------------------------------------
PAR_NAMES = (
    "s0",
    "side",
    "quantity",
    "geometric",
    "power_law",
    "beta",
    "tau",
    "jump_mean",
    "jump_std",
    "volume_noise",
    "stale_z",
    "spike_z",
    "spike_size",
    "pov_rate",
    "n_sched",
    "window_steps",
    "sigma_ref",
    "ewma_lambda",
    "has_volume",
    "kill_on",
    "max_loss",
    "feed_on",
    "max_stale",
    "spike_threshold",
    "collar_on",
    "collar",
    "slippage_on",
    "slippage_tolerance",
    "pcap_on",
    "max_participation",
    "event_stream",
    "completion_steps",
    "leak_strength",
    "leak_threshold",
    "overrun_participation",
    "n_onsets",
    "arrival_half_spread",
    "monitor_on",
    "slippage_action",
    "participation_action",
    "dispersion_action",
    "leakage_action",
    "feed_corrupt",
    "market_share",
    "session_offset",
    "session_steps",
)
(
    P_S0,
    P_SIDE,
    P_QTY,
    P_GEOM,
    P_POWER,
    P_BETA,
    P_TAU,
    P_JMEAN,
    P_JSTD,
    P_VNOISE,
    P_STALE_Z,
    P_SPIKE_Z,
    P_SPIKE_SIZE,
    P_POV,
    P_NSCHED,
    P_WSTEPS,
    P_SIGREF,
    P_LAMBDA,
    P_HASVOL,
    P_KILL_ON,
    P_MAXLOSS,
    P_FEED_ON,
    P_MAXSTALE,
    P_SPIKE_THR,
    P_COLLAR_ON,
    P_COLLAR,
    P_SLIP_ON,
    P_SLIP_TOL,
    P_PCAP_ON,
    P_PCAP,
    P_EVENTS,
    P_COMPLETION,
    P_LEAK,
    P_LEAK_THR,
    P_OVERRUN,
    P_ONSETS,
    P_EPS0,
    P_MONITOR,
    P_MON_SLIP,
    P_MON_PART,
    P_MON_VAR,
    P_MON_LEAK,
    P_FEED_CORRUPT,
    P_MSHARE,
    P_SOFFSET,
    P_SSTEPS,
) = range(len(PAR_NAMES))
N_PAR = len(PAR_NAMES)

# --- per-step inputs of the scenario's timeline (stp[k - d + n_onsets - 1, :]) ---------------
STEP_NAMES = (
    "vol",  # diffusion scale of the step, natural units (sigma_k sqrt(tau))
    "det",  # deterministic increment (log for geometric, price for arithmetic)
    "eps",  # half spread / fixed cost, as a fraction of Mref
    "temp_coef",  # temporary impact coefficient c_k
    "perm_coef",  # permanent impact coefficient g_k (fraction of Mref per share)
    "liquidity",  # the scenario's market-volume multiplier
    "jump_threshold",  # jump threshold on z_jump, -inf for no jumps
    "stale",  # 1 when the quote at the start of this step is forced stale
    "spike",  # relative spike of the quote at the start of this step (0 = none)
)
S_VOL, S_DET, S_EPS, S_TEMP, S_PERM, S_LIQ, S_JTHR, S_STALE, S_SPIKE = range(len(STEP_NAMES))
N_STEP = len(STEP_NAMES)

# --- per-path outputs (out[:, p]: a row per output, contiguous over paths) --------------------
OUT_NAMES = (
    "cost",  # implementation shortfall, completion included (currency)
    "filled",  # shares the algorithm filled
    "value",  # sum n P of the algorithm's fills
    "premid_value",  # sum n M of the algorithm's fills (mid just before each trade)
    "mark",  # mid when the order ended (completion or end of schedule)
    "completed",  # shares the backstop completed
    "completion_value",  # u P_c
    "completion_mid",  # u M at completion
    "max_participation",  # largest rolling realised participation, ours / (market + ours)
    "max_requested",  # largest rolling requested participation, before any control
    "fill_var",
    "fill_var_ref",
    "leak_n",
    "leak_x",
    "leak_y",
    "leak_xx",
    "leak_yy",
    "leak_xy",
    "kill_step",  # step at which the kill switch flattened the order, -1 never
    "vwap_value",  # interval VWAP numerator: market volume at the mid, our fills, completion
    "vwap_volume",  # its denominator
    "overrun",  # shares the algorithm filled after the schedule's horizon
)
(
    O_COST,
    O_FILLED,
    O_VALUE,
    O_PREMID,
    O_MARK,
    O_COMPLETED,
    O_CVALUE,
    O_CMID,
    O_MAXPART,
    O_MAXREQ,
    O_FVAR,
    O_FVAR_REF,
    O_LN,
    O_LX,
    O_LY,
    O_LXX,
    O_LYY,
    O_LXY,
    O_KILL,
    O_VWAP_VALUE,
    O_VWAP_VOLUME,
    O_OVERRUN,
) = range(len(OUT_NAMES))
N_OUT = len(OUT_NAMES)

# --- trace of one path (trace[k, :]) ----------------------------------------------------------
TRACE_NAMES = (
    "mid",
    "quote",
    "remaining",
    "target_filled",
    "desired",
    "trade",
    "price",
    "market_volume",
    "flags",
    "tolerance",
    "slippage",
    "sigma_hat",
    "loss",
    "shock",
    "stale_run",
    "abs_return",
    "mid_end",
)
(
    T_MID,
    T_QUOTE,
    T_REMAIN,
    T_TARGET,
    T_DESIRED,
    T_TRADE,
    T_PRICE,
    T_MVOL,
    T_FLAGS,
    T_TOL,
    T_SLIP,
    T_SIGHAT,
    T_LOSS,
    T_Z,
    T_STALE_RUN,
    T_ABSRET,
    T_MID_END,
) = range(len(TRACE_NAMES))
N_TRACE = len(TRACE_NAMES)

# --- per-step inputs of the schedule-only kernel (steps[k, :], one row per live step) --------
SCHEDULE_STEP_NAMES = (
    "trade",  # shares traded at the step, the same on every path
    "vol",  # as S_VOL
    "det",  # as S_DET
    "price_coef",  # eps_k + h(n_k): the fill's spread and temporary impact, fraction of Mref
    "push",  # the trade's permanent impact term of the mid move (kernel step 6)
    "market_volume",  # m_k, the same on every path
    "x",  # our share of the step's volume, n / (m_k + n), 0 without a volume model
)
L_TRADE, L_VOL, L_DET, L_COEF, L_PUSH, L_MVOL, L_X = range(len(SCHEDULE_STEP_NAMES))
N_SCHEDULE_STEP = len(SCHEDULE_STEP_NAMES)


@njit(cache=True, inline="always")
def temporary_impact(n, m_k, temp_coef, power, beta):
    """Temporary impact per share of trading ``n`` in a step of market volume ``m_k``.

    A fraction of ``Mref``: ``c n`` (linear) or ``c (n / m_k)^beta`` (power law).
    """
    if n <= 0.0:
        return 0.0
    if power:
        return temp_coef * math.pow(n / m_k, beta)
    return temp_coef * n


@njit(cache=True, inline="always")
def largest_trade_within(tolerance, spread_cost, m_k, temp_coef, power, beta):
    """Largest trade whose ``spread_cost`` plus temporary impact stays within ``tolerance``."""
    room = tolerance - spread_cost
    if room <= 0.0:
        return 0.0
    if temp_coef <= 0.0:
        return math.inf
    if power:
        return m_k * math.pow(room / temp_coef, 1.0 / beta)
    return room / temp_coef


@njit(cache=True, inline="always")
def completion_price(mid, side, mref, eps, volume, remaining, steps, temp_coef, power, beta):
    """Price per share at which the backstop completes ``remaining`` over ``steps`` steps."""
    h = temporary_impact(remaining / steps, volume, temp_coef, power, beta)
    return mid + side * mref * (eps + h)


@njit(cache=True, inline="always")
def _correlation(c, sx, sy, sxx, syy, sxy):
    """Pearson correlation from sums; 0 when either variable has no variance."""
    mx = sx / c
    my = sy / c
    vx = sxx / c - mx * mx
    vy = syy / c - my * my
    # No variance, or participation constant up to rounding: no correlation to speak of.
    if vx <= 1e-300 or vy <= 1e-300 or vx <= 1e-12 * (sxx / c):
        return 0.0
    return (sxy / c - mx * my) / math.sqrt(vx * vy)


@njit(cache=True, inline="always")
def fill_dispersion(s_n, s_1, s_2, t_1, t_2, sig_abs):
    """Fill-weighted variance of fill prices and its no-impact historical reference.

    From the sums of ``n``, ``n d``, ``n d^2`` (``d`` the fill price less ``S0``) and the
    fill-time sums ``t_1``, ``t_2``: the reference is ``sig_abs^2 (sum w_k t_k - sum_jk w_j
    w_k min(t_j, t_k))`` with weights ``w = n / s_n``.
    """
    reference = sig_abs * sig_abs * (-t_1 / s_n - t_2 / (s_n * s_n))
    return fill_variance(s_n, s_1, s_2), reference


@njit(cache=True, inline="always")
def fill_variance(s_n, s_1, s_2):
    """Fill-weighted variance of fill prices from the sums of ``n``, ``n d`` and ``n d^2``."""
    mean_d = s_1 / s_n
    return max(s_2 / s_n - mean_d * mean_d, 0.0)


@njit(cache=True, inline="always")
def _record(fires, first_fire, p, c, k):
    fires[p, c] += 1
    if first_fire[p, c] < 0:
        first_fire[p, c] = k


@njit(cache=True, error_model="numpy")
def simulate_path(
    gen,
    gen_evt,
    gen_book,
    p,
    par,
    stp,
    base,
    tgt,
    out,
    fires,
    first_fire,
    trace,
    tracing,
    ring,
    common,
):
    """Simulate path ``p`` of one order (the step mechanics of the module docstring).

    Parameters
    ----------
    gen, gen_evt, gen_book : numpy.random.Generator
        The chunk's market, event and book streams, positioned at this path's first draw.
    p : int
        Global path index (column of ``out``, row of ``fires`` and ``first_fire``).
    par, stp, base, tgt, out, fires, first_fire, trace
        As in :func:`simulate_chunks`.
    tracing : bool
        Write this path's per-step state to ``trace``.
    ring : ndarray, shape (3, window_steps)
        Work array of the calling thread: our, market and requested volume of the last
        ``window_steps`` live steps.
    common : ndarray, shape (session_steps,)
        Work array of the calling thread: the path's market-wide shocks of the session.
    """
    s0 = par[P_S0]
    side = par[P_SIDE]
    qty = par[P_QTY]
    geom = par[P_GEOM] > 0.5
    power = par[P_POWER] > 0.5
    beta = par[P_BETA]
    tau = par[P_TAU]
    jmean = par[P_JMEAN]
    jstd = par[P_JSTD]
    vnoise = par[P_VNOISE]
    vshift = 0.5 * vnoise * vnoise
    stale_z = par[P_STALE_Z]
    spike_z = par[P_SPIKE_Z]
    spike_mult = 1.0 + par[P_SPIKE_SIZE]
    pov = par[P_POV]
    n_sched = int(par[P_NSCHED])
    wsteps = int(par[P_WSTEPS])
    sig_ref = par[P_SIGREF]
    lam = par[P_LAMBDA]
    has_vol = par[P_HASVOL] > 0.5
    kill_on = par[P_KILL_ON] > 0.5
    max_loss = par[P_MAXLOSS]
    feed_on = par[P_FEED_ON] > 0.5
    max_stale = par[P_MAXSTALE]
    spike_thr = par[P_SPIKE_THR]
    collar_on = par[P_COLLAR_ON] > 0.5
    collar = par[P_COLLAR]
    slip_on = par[P_SLIP_ON] > 0.5
    slip_tol = par[P_SLIP_TOL]
    eps0 = par[P_EPS0]
    monitor = par[P_MONITOR] > 0.5
    mon_slip = par[P_MON_SLIP]
    mon_part = par[P_MON_PART]
    mon_var = par[P_MON_VAR]
    mon_leak = par[P_MON_LEAK]
    sig_abs = sig_ref * s0
    pcap_on = par[P_PCAP_ON] > 0.5
    pcap_scale = par[P_PCAP] / (1.0 - par[P_PCAP]) if par[P_PCAP] < 1.0 else math.inf
    events = par[P_EVENTS] > 0.5
    feed_corrupt = par[P_FEED_CORRUPT] > 0.5
    watch_quote = feed_on or slip_on or tracing
    inv_s0 = 1.0 / s0
    completion_steps = par[P_COMPLETION]
    overrun_scale = par[P_OVERRUN] / (1.0 - par[P_OVERRUN])
    leak = par[P_LEAK]
    leak_thr = par[P_LEAK_THR]
    n_window = base.shape[0]
    n_onsets = int(par[P_ONSETS])
    tiny = qty * 1e-12
    # The path's scenario onset: row k + lag of stp is the scenario at step k.
    # Drawn in every scenario, so that the market-wide shocks after it are every scenario's.
    u_onset = gen_book.random()
    lag = n_onsets - 1 - min(int(u_onset * n_onsets), n_onsets - 1)
    market_share = par[P_MSHARE]
    market_load = math.sqrt(market_share)
    own_load = math.sqrt(1.0 - market_share)
    offset = int(par[P_SOFFSET])
    if market_share > 0.0:
        for j in range(int(par[P_SSTEPS])):
            common[j] = gen_book.standard_normal()

    mid = s0
    quote = s0
    good_quote = s0
    stale_run = 0.0
    abs_ret = 0.0
    var_e = sig_ref * sig_ref * tau
    filled = 0.0
    value = 0.0
    premid = 0.0
    done = False
    handed = 0.0  # shares the kill switch or the monitor handed to the backstop, not yet worked
    handed_rate = 0.0
    kill_step = -1.0
    completed = 0.0
    overrun = 0.0
    cvalue = 0.0
    cmid = 0.0
    s_n = 0.0
    s_1 = 0.0
    s_2 = 0.0
    t_1 = 0.0
    t_2 = 0.0
    vw_value = 0.0
    vw_volume = 0.0
    max_part = 0.0
    max_req = 0.0
    l_c = 0.0
    l_x = 0.0
    l_y = 0.0
    l_xx = 0.0
    l_yy = 0.0
    l_xy = 0.0
    for j in range(wsteps):
        ring[0, j] = 0.0
        ring[1, j] = 0.0
        ring[2, j] = 0.0
    w_n = 0.0
    w_m = 0.0
    w_r = 0.0
    n_live = 0
    n_fills = 0
    pause_left = 0

    for k in range(n_window):
        z_price = gen.standard_normal()
        if market_share > 0.0:
            z_price = own_load * z_price + market_load * common[offset + k]
        z_volume = gen.standard_normal() if vnoise > 0.0 else 0.0
        z_jump = 0.0
        z_size = 0.0
        z_feed = 0.0
        if events:
            z_jump = gen_evt.standard_normal()
            z_size = gen_evt.standard_normal()
            z_feed = gen_evt.standard_normal()
        if done or qty - filled <= tiny:
            # The draws keep paths aligned across schedules; the backstop works what it
            # was handed through the same market, moving the mid as any trade does.
            if handed > tiny:
                e = k + lag
                n = min(handed_rate, handed)
                price_c = completion_price(
                    mid,
                    side,
                    mid if geom else s0,
                    stp[e, S_EPS],
                    base[k] * stp[e, S_LIQ],
                    n,
                    1.0,
                    stp[e, S_TEMP],
                    power,
                    beta,
                )
                completed += n
                cvalue += n * price_c
                cmid += n * mid
                handed -= n
                jump = jmean + jstd * z_size if z_jump < stp[e, S_JTHR] else 0.0
                push = side * stp[e, S_PERM] * n
                vol = stp[e, S_VOL]
                if geom:
                    mid = mid * math.exp(stp[e, S_DET] + vol * z_price + jump + push)
                else:
                    mid = mid + stp[e, S_DET] + vol * z_price + s0 * (jump + push)
            continue
        in_schedule = k < n_sched

        e = k + lag
        eps = stp[e, S_EPS]
        tco = stp[e, S_TEMP]
        expected_volume = base[k] * stp[e, S_LIQ]
        m_k = expected_volume
        if vnoise > 0.0:
            m_k = m_k * math.exp(vnoise * z_volume - vshift)
        mref = mid if geom else s0
        remaining = qty - filled
        flags = 0
        requested = 0.0
        n = 0.0
        price = math.nan
        tol = math.nan
        slip = math.nan
        feed_bad = feed_on and (stale_run >= max_stale or abs_ret > spike_thr)
        if feed_bad:
            flags |= 1 << C_FEED
        else:
            good_quote = quote
        loss = side * (value + remaining * good_quote - qty * s0)
        if kill_on and loss > max_loss:
            flags |= 1 << C_KILL
            handed = remaining
            handed_rate = remaining / completion_steps
            done = True
            kill_step = float(k)
        else:
            if in_schedule:
                planned = (tgt[k] - (tgt[k - 1] if k > 0 else 0.0)) * qty
                n = tgt[k] * qty - filled
                if pov > 0.0:
                    planned = max(planned, pov * m_k)
                    n = max(n, pov * m_k)
            else:
                planned = overrun_scale * m_k if overrun_scale > 0.0 else 0.0
                n = planned
            requested = min(max(planned, 0.0), remaining)
            n = min(max(n, 0.0), remaining)
            if pause_left > 0:  # the risk monitor paused the strategy
                pause_left -= 1
                n = 0.0
            if n > 0.0 and feed_bad:
                n = 0.0
            if n > 0.0 and collar_on and abs(quote / s0 - 1.0) > collar:
                flags |= 1 << C_COLLAR
                n = 0.0
            if n > 0.0 and pcap_on and n > pcap_scale * m_k:
                flags |= 1 << C_PCAP
                n = pcap_scale * m_k
            if n > 0.0 and slip_on:
                sig_hat = math.sqrt(var_e / tau)
                tol = slip_tol
                if sig_hat > sig_ref:
                    tol = slip_tol * sig_ref / sig_hat
                slip = eps - eps0 + temporary_impact(n, m_k, tco, power, beta)
                if slip > tol:
                    flags |= 1 << C_SLIP
                    room = largest_trade_within(tol, eps - eps0, m_k, tco, power, beta)
                    n = min(n, room)

        h = temporary_impact(n, m_k, tco, power, beta)
        if n > 0.0 and not in_schedule:
            overrun += n
        if n > 0.0:
            price = mid + side * max(0.0, side * (quote - mid)) + side * mref * (eps + h)
            d = price - s0
            t_k = k * tau
            s_n += n
            s_1 += n * d
            s_2 += n * d * d
            t_1 += n * t_k
            t_2 += n * t_k * (n - 2.0 * (filled + n))
            filled += n
            value += n * price
            premid += n * mid
            n_fills += 1
        x = 0.0
        part_now = -1.0
        if has_vol:
            vw_value += m_k * mid + (n * price if n > 0.0 else 0.0)
            vw_volume += m_k + n
            x = n / (m_k + n)
            slot = n_live % wsteps
            w_n += n - ring[0, slot]
            w_m += m_k - ring[1, slot]
            w_r += requested - ring[2, slot]
            ring[0, slot] = n
            ring[1, slot] = m_k
            ring[2, slot] = requested
            n_live += 1
            if n_live >= wsteps or k == n_window - 1 or qty - filled <= tiny or done:
                part_now = w_n / (w_m + w_n)
                max_part = max(max_part, part_now)
                max_req = max(max_req, w_r / (w_m + w_r))

        # Mid move.
        vol = stp[e, S_VOL]
        jump = 0.0
        if z_jump < stp[e, S_JTHR]:
            jump = jmean + jstd * z_size
        react = 0.0
        if leak > 0.0 and x > leak_thr:
            react = leak * vol * (x - leak_thr) / leak_thr
        perm = stp[e, S_PERM] * n
        if geom:
            growth = math.exp(stp[e, S_DET] + vol * z_price + jump + side * (perm + react))
            new_mid = mid * growth
            move = side * (growth - 1.0)
        else:
            # The increment first: the mid's chain from step to step is one addition.
            change = stp[e, S_DET] + vol * z_price + s0 * (jump + side * perm) + side * react
            new_mid = mid + change
            move = side * change * inv_s0  # a price-unit move, in units of S0
        l_c += 1.0
        if has_vol:  # participation, and so leakage, needs the market's volume
            l_x += x
            l_y += move
            l_xx += x * x
            l_yy += move * move
            l_xy += x * move

        # The risk monitor, at the end of the step, with the essay's actions.
        if monitor and not done:
            if has_vol and filled > 0.0 and pause_left == 0:
                vwap = vw_value / vw_volume
                if side * (value / filled - vwap) / vwap - eps0 > mon_slip:
                    flags |= 1 << C_PAUSE  # pause the strategy for one window
                    pause_left = wsteps
            if n_fills >= 2:
                fill_var, ref = fill_dispersion(s_n, s_1, s_2, t_1, t_2, sig_abs)
                if ref > 0.0 and math.sqrt(fill_var / ref) > mon_var:
                    flags |= 1 << C_REVIEW  # a review: recorded, trading goes on
            handoff = False
            if part_now > mon_part:
                flags |= 1 << C_HALT  # halt trading
                handoff = True
            if l_c >= 2 * wsteps and _correlation(l_c, l_x, l_y, l_xx, l_yy, l_xy) > mon_leak:
                flags |= 1 << C_REROUTE  # re-route the rest away from the lit market
                handoff = True
            left = qty - filled
            if handoff and left > tiny:
                handed = left
                handed_rate = left / completion_steps
                done = True
        if flags != 0:
            for c in range(N_CONTROLS):
                if (flags >> c) & 1:
                    _record(fires, first_fire, p, c, k)

        if tracing:
            trace[k, T_MID] = mid
            trace[k, T_QUOTE] = quote
            trace[k, T_REMAIN] = remaining
            trace[k, T_TARGET] = tgt[k] * qty
            trace[k, T_SIGHAT] = math.sqrt(var_e / tau)
            trace[k, T_LOSS] = loss
            trace[k, T_Z] = z_price
            trace[k, T_STALE_RUN] = stale_run
            trace[k, T_ABSRET] = abs_ret
            trace[k, T_DESIRED] = requested
            trace[k, T_TRADE] = n
            trace[k, T_PRICE] = price
            trace[k, T_MVOL] = m_k
            trace[k, T_FLAGS] = flags
            trace[k, T_TOL] = tol
            trace[k, T_SLIP] = slip
            trace[k, T_MID_END] = new_mid

        # Quote the controls see at the start of the next step.
        if k + 1 < n_window:
            new_quote = new_mid
            if feed_corrupt:
                if stp[e + 1, S_STALE] > 0.5 or z_feed < stale_z:
                    new_quote = quote
                elif stp[e + 1, S_SPIKE] != 0.0:
                    new_quote = new_mid * (1.0 + stp[e + 1, S_SPIKE])
                elif z_feed > spike_z:
                    new_quote = new_mid * spike_mult
            if watch_quote:  # only the feed and slippage guards read its changes
                stale_run = stale_run + 1.0 if new_quote == quote else 0.0
                ret = (new_quote - quote) / quote
                abs_ret = abs(ret)
                var_e = lam * var_e + (1.0 - lam) * ret * ret
            quote = new_quote
        mid = new_mid

    # Completion at the close of what is still left (the backstop's unworked part too), at
    # the mid after the last step.
    remaining = qty - filled - completed
    if remaining > tiny:
        e = n_window - 1 + lag
        price_c = completion_price(
            mid,
            side,
            mid if geom else s0,
            stp[e, S_EPS],
            base[n_window - 1] * stp[e, S_LIQ],
            remaining,
            completion_steps,
            stp[e, S_TEMP],
            power,
            beta,
        )
        completed += remaining
        cvalue += remaining * price_c
        cmid += remaining * mid
    if completed > 0.0 and has_vol:
        vw_value += cvalue
        vw_volume += completed

    out[O_COST, p] = side * (value + cvalue - qty * s0)
    out[O_FILLED, p] = filled
    out[O_VALUE, p] = value
    out[O_PREMID, p] = premid
    out[O_MARK, p] = cmid / completed if completed > 0.0 else mid
    out[O_COMPLETED, p] = completed
    out[O_OVERRUN, p] = overrun
    out[O_CVALUE, p] = cvalue
    out[O_CMID, p] = cmid
    out[O_MAXPART, p] = max_part if has_vol else math.nan
    out[O_MAXREQ, p] = max_req if has_vol else math.nan
    if s_n > 0.0:
        out[O_FVAR, p], out[O_FVAR_REF, p] = fill_dispersion(s_n, s_1, s_2, t_1, t_2, sig_abs)
    else:
        out[O_FVAR, p] = math.nan
        out[O_FVAR_REF, p] = math.nan
    out[O_LN, p] = l_c
    out[O_LX, p] = l_x
    out[O_LY, p] = l_y
    out[O_LXX, p] = l_xx
    out[O_LYY, p] = l_yy
    out[O_LXY, p] = l_xy
    out[O_KILL, p] = kill_step
    out[O_VWAP_VALUE, p] = vw_value
    out[O_VWAP_VOLUME, p] = vw_volume


@njit(cache=True, parallel=True)
def simulate_chunks(
    gens, n_paths, chunk_size, par, stp, base, tgt, out, fires, first_fire, trace_path, trace
):
    """Simulate ``n_paths`` paths in parallel over chunks, one set of generators per chunk.

    Parameters
    ----------
    gens : numba.typed.List of numpy.random.Generator
        :data:`STREAMS_PER_CHUNK` generators per chunk (the order's market and event
        streams, the book's), ``STREAMS_PER_CHUNK * ceil(n_paths / chunk_size)``.
    n_paths, chunk_size : int
        Number of paths and the fixed chunk size (:data:`CHUNK_SIZE`).
    par : ndarray, shape (N_PAR,)
        Scalar parameters, indexed by the ``P_*`` constants.
    stp : ndarray, shape (n_window + n_onsets - 1, N_STEP)
        The scenario's timeline, indexed by the ``S_*`` constants: a path whose scenario
        starts ``d`` steps after the earliest onset reads row ``k + n_onsets - 1 - d`` at
        step ``k`` (row ``k`` when the onset is fixed).
    base : ndarray, shape (n_window,)
        Expected market volume of each step before the scenario's liquidity multiplier
        (shares; inf when unknown): the session's intraday curve, on the session clock.
    tgt : ndarray, shape (n_window,)
        Target cumulative filled fraction at the end of each step of the schedule.
    out : ndarray, shape (N_OUT, n_paths)
        Per-path outputs, written in place.
    fires, first_fire : ndarray of int64, shape (n_paths, N_CONTROLS)
        Counts of steps at which each control bound and its first such step (-1 never);
        ``fires`` zeros and ``first_fire`` -1 on entry.
    trace_path : int
        Global index of the path to trace, or -1.
    trace : ndarray, shape (n_window, N_TRACE)
        Trace of ``trace_path``, written in place.
    """
    n_chunks = (n_paths + chunk_size - 1) // chunk_size
    wsteps = int(par[P_WSTEPS])
    for c in prange(n_chunks):
        ring = np.empty((3, wsteps))
        common = np.empty(int(par[P_SSTEPS]))
        gen = gens[np.int64(STREAMS_PER_CHUNK * c)]
        gen_evt = gens[np.int64(STREAMS_PER_CHUNK * c + 1)]
        gen_book = gens[np.int64(STREAMS_PER_CHUNK * c + 2)]
        for p in range(c * chunk_size, min((c + 1) * chunk_size, n_paths)):
            simulate_path(
                gen,
                gen_evt,
                gen_book,
                p,
                par,
                stp,
                base,
                tgt,
                out,
                fires,
                first_fire,
                trace,
                p == trace_path,
                ring,
                common,
            )


# --- schedule-only runs -------------------------------------------------------------------------
#: Switches that make a path's trades depend on its prices or volumes; all off in a
#: schedule-only run.
_PATH_DEPENDENT = (
    P_KILL_ON,
    P_FEED_ON,
    P_COLLAR_ON,
    P_SLIP_ON,
    P_PCAP_ON,
    P_MONITOR,
    P_EVENTS,
    P_FEED_CORRUPT,
)


def is_schedule_only(par: np.ndarray) -> bool:
    """Whether every path of a run trades the same shares at the same steps.

    True with no control, no risk monitor, no random events or feed corruption, no
    market-volume noise, no reaction of other participants and one scenario onset: the
    schedule alone then decides the trades, and :func:`simulate_schedule_chunks` gives the
    outputs of :func:`simulate_chunks` without re-deciding them on every path (it also
    leaves out the market-wide factor: a run with one is not schedule-only).
    """
    return (
        all(par[i] < 0.5 for i in _PATH_DEPENDENT)
        and par[P_VNOISE] == 0.0
        and par[P_LEAK] == 0.0
        and par[P_ONSETS] == 1.0
        and par[P_MSHARE] == 0.0
    )


@njit(cache=True)
def schedule_steps(par, stp, trace):
    """The schedule-only kernel's per-step inputs, from the trace of one path of the run.

    Parameters
    ----------
    par, stp
        As in :func:`simulate_chunks`, for a run where :func:`is_schedule_only` holds.
    trace : ndarray, shape (n_window, N_TRACE)
        One path of that run traced by :func:`simulate_chunks`: its trades and market
        volumes are every path's. Rows after the order is flat are NaN.

    Returns
    -------
    ndarray, shape (live steps, N_SCHEDULE_STEP)
        Indexed by the ``L_*`` constants, each computed as :func:`simulate_path` computes it,
        so that the two kernels agree to the last bit.
    """
    s0 = par[P_S0]
    side = par[P_SIDE]
    geom = par[P_GEOM] > 0.5
    power = par[P_POWER] > 0.5
    has_vol = par[P_HASVOL] > 0.5
    n_live = 0
    while n_live < trace.shape[0] and not math.isnan(trace[n_live, T_TRADE]):
        n_live += 1
    steps = np.empty((n_live, N_SCHEDULE_STEP))
    for k in range(n_live):
        n = trace[k, T_TRADE]
        m_k = trace[k, T_MVOL]
        perm = stp[k, S_PERM] * n
        steps[k, L_TRADE] = n
        steps[k, L_VOL] = stp[k, S_VOL]
        steps[k, L_DET] = stp[k, S_DET]
        steps[k, L_COEF] = stp[k, S_EPS] + temporary_impact(
            n, m_k, stp[k, S_TEMP], power, par[P_BETA]
        )
        # The general kernel's expressions with no jump and no reaction of others.
        steps[k, L_PUSH] = side * (perm + 0.0) if geom else s0 * (0.0 + side * perm)
        steps[k, L_MVOL] = m_k
        steps[k, L_X] = n / (m_k + n) if has_vol else 0.0
    return steps


@njit(cache=True, inline="always")
def _schedule_prices(gen, steps, s0, side, geom, has_vol):
    """The price path of a schedule-only run and the sums its outputs need (kernel steps 5-6).

    Returns the final mid and the sums of ``n P``, ``n M``, ``n d``, ``n d^2``, the interval
    VWAP numerator, and ``y``, ``y^2``, ``x y`` of the leakage moments.
    """
    inv_s0 = 1.0 / s0
    mid = s0
    value = 0.0
    premid = 0.0
    s_1 = 0.0
    s_2 = 0.0
    vw_value = 0.0
    l_y = 0.0
    l_yy = 0.0
    l_xy = 0.0
    for k in range(steps.shape[0]):
        z_price = gen.standard_normal()
        n = steps[k, L_TRADE]
        mref = mid if geom else s0
        price = mid + side * mref * steps[k, L_COEF]
        d = price - s0
        s_1 += n * d
        s_2 += n * d * d
        value += n * price
        premid += n * mid
        if geom:
            growth = math.exp(steps[k, L_DET] + steps[k, L_VOL] * z_price + steps[k, L_PUSH])
            new_mid = mid * growth
            move = side * (growth - 1.0)
        else:
            change = steps[k, L_DET] + steps[k, L_VOL] * z_price + steps[k, L_PUSH]
            new_mid = mid + change
            move = side * change * inv_s0
        if has_vol:
            vw_value += steps[k, L_MVOL] * mid + n * price
            l_y += move
            l_yy += move * move
            l_xy += steps[k, L_X] * move
        mid = new_mid
    return mid, value, premid, s_1, s_2, vw_value, l_y, l_yy, l_xy


@njit(cache=True, error_model="numpy")
def simulate_schedule_path(gen, p, par, stp, base, steps, plan, out):
    """Path ``p`` of a schedule-only run: what :func:`simulate_path` computes, less what repeats.

    The trades, fill times, participation, completion size and the other columns that do not
    depend on prices are the ``plan``'s (a traced path of the same run); per step only the
    mid, the fill price and their sums are computed. The path draws what
    :func:`simulate_path` draws (one ``z_price`` per window step, even after the order is
    flat), so paths, chunks and thread counts line up with it.

    Parameters
    ----------
    gen : numpy.random.Generator
        The chunk's market stream, positioned at this path's first draw.
    p : int
        Global path index (column of ``out``).
    par, stp, base
        As in :func:`simulate_chunks`.
    steps : ndarray, shape (live steps, N_SCHEDULE_STEP)
        From :func:`schedule_steps`.
    plan : ndarray, shape (N_OUT,)
        Outputs of the traced path.
    out : ndarray, shape (N_OUT, n_paths)
        Per-path outputs, written in place.
    """
    s0 = par[P_S0]
    side = par[P_SIDE]
    qty = par[P_QTY]
    geom = par[P_GEOM] > 0.5
    has_vol = par[P_HASVOL] > 0.5
    n_window = base.shape[0]
    # Literal flags, so that each of the four loops is compiled without the other's branches.
    if geom:
        if has_vol:
            sums = _schedule_prices(gen, steps, s0, side, True, True)
        else:
            sums = _schedule_prices(gen, steps, s0, side, True, False)
    elif has_vol:
        sums = _schedule_prices(gen, steps, s0, side, False, True)
    else:
        sums = _schedule_prices(gen, steps, s0, side, False, False)
    mid, value, premid, s_1, s_2, vw_value, l_y, l_yy, l_xy = sums
    for _ in range(steps.shape[0], n_window):
        gen.standard_normal()  # the flat order's draws, as simulate_path makes them

    out[:, p] = plan
    filled = plan[O_FILLED]
    remaining = qty - filled  # nothing was handed off before the close
    completed = 0.0
    cvalue = 0.0
    cmid = 0.0
    if remaining > qty * 1e-12:
        e = n_window - 1
        price_c = completion_price(
            mid,
            side,
            mid if geom else s0,
            stp[e, S_EPS],
            base[e] * stp[e, S_LIQ],
            remaining,
            par[P_COMPLETION],
            stp[e, S_TEMP],
            par[P_POWER] > 0.5,
            par[P_BETA],
        )
        completed = remaining
        cvalue = remaining * price_c
        cmid = remaining * mid
        if has_vol:
            vw_value += cvalue
    out[O_COST, p] = side * (value + cvalue - qty * s0)
    out[O_VALUE, p] = value
    out[O_PREMID, p] = premid
    out[O_MARK, p] = cmid / completed if completed > 0.0 else mid
    out[O_CVALUE, p] = cvalue
    out[O_CMID, p] = cmid
    if filled > 0.0:
        out[O_FVAR, p] = fill_variance(filled, s_1, s_2)
    out[O_LY, p] = l_y
    out[O_LYY, p] = l_yy
    out[O_LXY, p] = l_xy
    out[O_VWAP_VALUE, p] = vw_value


@njit(cache=True, parallel=True)
def simulate_schedule_chunks(gens, n_paths, chunk_size, par, stp, base, steps, plan, out):
    """:func:`simulate_chunks` for a schedule-only run (:func:`is_schedule_only`).

    Same streams, same chunks, same outputs to the last bit; no control fires, so ``fires``
    and ``first_fire`` stay as allocated.

    Parameters
    ----------
    gens, n_paths, chunk_size, par, stp, base, out
        As in :func:`simulate_chunks` (only the market streams are read).
    steps, plan
        As in :func:`simulate_schedule_path`.
    """
    n_chunks = (n_paths + chunk_size - 1) // chunk_size
    for c in prange(n_chunks):
        gen = gens[np.int64(STREAMS_PER_CHUNK * c)]
        for p in range(c * chunk_size, min((c + 1) * chunk_size, n_paths)):
            simulate_schedule_path(gen, p, par, stp, base, steps, plan, out)
