"""Numba kernels of the stress engine: one order executed on many simulated market paths.

The kernels take only NumPy arrays, scalars and NumPy random ``Generator`` objects (numba
supports them in nopython mode). Inputs are prepared and validated by
:func:`validation.stress.market.simulate`; nothing here checks its arguments.

Reproducibility contract
------------------------
Paths are cut into chunks of :data:`CHUNK_SIZE` paths (a constant, never the thread count).
Chunk ``c`` owns two generators, a *market* and an *event* stream, spawned from child ``c`` of
one ``np.random.SeedSequence``; it processes its paths in order. Each path draws, at every step
of the simulation window and whatever the schedule or the controls do, :data:`N_MARKET_DRAWS`
normals from the market stream (``z_price``, the diffusion shock; ``z_volume``, the log-normal
market-volume noise) and, when the run has jumps or random feed corruption,
:data:`N_EVENT_DRAWS` from the event stream (``z_jump``: a jump occurs when it is below the
per-step threshold ``Phi^-1(p_jump)``; ``z_size``: the jump size; ``z_feed``: a stale quote when
below one threshold, a spike when above another). Hence:

* results do not depend on the number of threads (a chunk is always run by one thread);
* path ``p`` sees the same shocks whatever ``n_paths`` is, as long as it is in the run;
* two schedules run with the same seed see identical market shocks (common random numbers),
  and so do two scenarios: price and volume shocks never depend on the scenario.

Step mechanics (step ``k`` covers ``[k tau, (k+1) tau)``; ``side`` is +1 buy, -1 sell)
--------------------------------------------------------------------------------------
0. The path's normals for the whole window are drawn first (``(n_window, 2)`` from the market
   stream, ``(n_window, 3)`` from the event stream when used).
1. Market volume of the step ``m_k = mvol_k exp(s z_volume - s^2/2)``.
2. If the order is live (not halted, not complete, ``k`` inside the schedule), the halting
   controls are evaluated: kill switch (realised loss so far > limit) and feed guard (the quote
   has been stale for ``max_stale`` steps or its last change exceeds ``spike_threshold``).
3. Otherwise the desired trade is ``max(target_k X - filled, pov m_k)`` clipped to
   ``[0, remaining]``; if positive, the price collar (``|Q/S0 - 1| > collar``, blocks), the
   participation cap (``desired > cap m_k``, clips) and the dynamic slippage guard
   (indicative slippage ``side (Q + side Qref (eps_k + h(desired)) - S0) / S0`` above a
   tolerance ``tol min(1, sigma_ref / sigma_hat)``, pauses; more than ``max_pause``
   consecutive pauses halt) are evaluated on the *observed* quote ``Q``.
4. A trade ``n`` fills at ``P = M + side Mref (eps_k + h(n))`` against the *true* mid ``M``
   at the start of the step (``Mref = M`` for geometric, ``S0`` for arithmetic dynamics), with
   ``h(n) = c_k n`` (linear) or ``c_k (n / m_k)^beta`` (power law, as ``exp(beta log(n / m_k))``).
5. The mid moves: arithmetic ``M += d_k + v_k z_price + S0 (J + side g_k n)``; geometric
   ``M *= exp(d_k + v_k z_price + J + side g_k n)``; ``J`` is the jump, ``g_k n`` the
   permanent impact, ``d_k`` the deterministic drift/scenario move.
6. The quote of the next step is the new mid, or the old quote (stale), or a spiked mid.
   The realised-volatility estimate is an EWMA of the squared quote returns.

Every control's condition is counted in ``fires[p, c]`` at each live step where it is met, and
its first step in ``first_fire[p, c]`` (-1 when it never fired).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

__all__ = [
    "CHUNK_SIZE",
    "N_MARKET_DRAWS",
    "N_EVENT_DRAWS",
    "CONTROL_NAMES",
    "N_CONTROLS",
    "PAR_NAMES",
    "STEP_NAMES",
    "OUT_NAMES",
    "TRACE_NAMES",
    "simulate_chunk",
    "simulate_chunks",
]

#: Paths per random stream. Part of the reproducibility contract: changing it changes results.
CHUNK_SIZE = 256
#: Standard normals drawn from the market stream per path and step (price, volume).
N_MARKET_DRAWS = 2
#: Standard normals drawn from the event stream per path and step (jump, size, feed), when used.
N_EVENT_DRAWS = 3

# --- controls ---------------------------------------------------------------------------------
C_KILL = 0
C_FEED = 1
C_COLLAR = 2
C_SLIP_PAUSE = 3
C_SLIP_HALT = 4
C_PCAP = 5
N_CONTROLS = 6
CONTROL_NAMES = (
    "kill_switch",
    "feed_guard",
    "price_collar",
    "slippage_pause",
    "slippage_halt",
    "participation_cap",
)

# --- scalar parameters (par) ------------------------------------------------------------------
P_S0 = 0
P_SIDE = 1
P_QTY = 2
P_GEOM = 3
P_POWER = 4
P_BETA = 5
P_TAU = 6
P_JMEAN = 7
P_JSTD = 8
P_VNOISE = 9
P_STALE_Z = 10
P_SPIKE_Z = 11
P_SPIKE_SIZE = 12
P_POV = 13
P_NSCHED = 14
P_WSTEPS = 15
P_SIGREF = 16
P_LAMBDA = 17
P_HASVOL = 18
P_KILL_ON = 19
P_MAXLOSS = 20
P_FEED_ON = 21
P_MAXSTALE = 22
P_SPIKE_THR = 23
P_COLLAR_ON = 24
P_COLLAR = 25
P_SLIP_ON = 26
P_SLIP_TOL = 27
P_MAXPAUSE = 28
P_PCAP_ON = 29
P_PCAP = 30
P_EVENTS = 31
N_PAR = 32
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
    "max_pause",
    "pcap_on",
    "max_participation",
    "event_stream",
)

# --- per-step inputs (stp[k, :]) --------------------------------------------------------------
S_VOL = 0  # diffusion scale of the step, natural units (sigma_k sqrt(tau))
S_DET = 1  # deterministic increment (log for geometric, price for arithmetic)
S_EPS = 2  # half spread / fixed cost, as a fraction of Mref
S_TEMP = 3  # temporary impact coefficient c_k
S_PERM = 4  # permanent impact coefficient g_k (fraction of Mref per share)
S_MVOL = 5  # expected market volume of the step (shares), inf when unknown
S_JTHR = 6  # jump threshold on z_jump, -inf for no jumps
S_STALE = 7  # 1 when the quote at the start of this step is forced stale
S_SPIKE = 8  # relative spike of the quote at the start of this step (0 = none)
N_STEP = 9
STEP_NAMES = (
    "vol",
    "det",
    "eps",
    "temp_coef",
    "perm_coef",
    "market_volume",
    "jump_threshold",
    "stale",
    "spike",
)

# --- per-path outputs (out[p, :]) -------------------------------------------------------------
O_COST = 0
O_FILLED = 1
O_VALUE = 2
O_PREMID = 3
O_MARK = 4
O_MAXPART = 5
O_FVAR = 6
O_FVAR_REF = 7
O_LN = 8
O_LX = 9
O_LY = 10
O_LXX = 11
O_LYY = 12
O_LXY = 13
O_HALT = 14
N_OUT = 15
OUT_NAMES = (
    "cost",
    "filled",
    "value",
    "premid_value",
    "mark",
    "max_participation",
    "fill_var",
    "fill_var_ref",
    "leak_n",
    "leak_x",
    "leak_y",
    "leak_xx",
    "leak_yy",
    "leak_xy",
    "halt_step",
)

# --- trace of one path (trace[k, :]) ----------------------------------------------------------
T_MID = 0
T_QUOTE = 1
T_REMAIN = 2
T_TARGET = 3
T_DESIRED = 4
T_TRADE = 5
T_PRICE = 6
T_MVOL = 7
T_FLAGS = 8
T_TOL = 9
T_SLIP = 10
T_SIGHAT = 11
T_LOSS = 12
T_Z = 13
T_LIVE = 14
T_STALE_RUN = 15
T_ABSRET = 16
T_MID_END = 17
N_TRACE = 18
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
    "live",
    "stale_run",
    "abs_return",
    "mid_end",
)


@njit(cache=True)
def simulate_chunk(
    gen, gen_evt, first, last, par, stp, tgt, out, fires, first_fire, trace_path, trace
):
    """Simulate paths ``first .. last-1`` of one chunk with its two random generators.

    Parameters
    ----------
    gen, gen_evt : numpy.random.Generator
        The chunk's market and event streams, at their start.
    first, last : int
        Global indices of the chunk's first path and one past its last path.
    par : ndarray, shape (N_PAR,)
        Scalar parameters, indexed by the ``P_*`` constants.
    stp : ndarray, shape (n_window, N_STEP)
        Per-step inputs, indexed by the ``S_*`` constants.
    tgt : ndarray, shape (n_window,)
        Target cumulative filled fraction at the end of each step of the schedule.
    out : ndarray, shape (n_paths, N_OUT)
        Per-path outputs, written in place.
    fires, first_fire : ndarray of int64, shape (n_paths, N_CONTROLS)
        Firing counts and first firing step per control, written in place.
    trace_path : int
        Global index of the path to trace, or -1.
    trace : ndarray, shape (n_window, N_TRACE)
        Trace of ``trace_path``, written in place when that path is in the chunk.

    Notes
    -----
    The function body is plain Python on purpose: ``simulate_chunk.py_func`` runs the same
    code in the interpreter (the pure-Python benchmark), given a list for ``par`` and ``tgt``
    and a ``{(k, j): value}`` dict for ``stp``. Per-step inputs are read as ``stp[k, j]``, never
    through a row view: a view costs reference counting on the shared array in numba, which
    also makes threads contend.
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
    spike_size = par[P_SPIKE_SIZE]
    pov = par[P_POV]
    n_sched = int(par[P_NSCHED])
    wsteps = int(par[P_WSTEPS])
    sig_ref = par[P_SIGREF]
    sig_ref2 = sig_ref * sig_ref
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
    max_pause = par[P_MAXPAUSE]
    pcap_on = par[P_PCAP_ON] > 0.5
    pcap = par[P_PCAP]
    events = par[P_EVENTS] > 0.5
    n_window = len(tgt)
    tiny = qty * 1e-12
    inv_s0 = 1.0 / s0
    inv_tau = 1.0 / tau
    sig_abs2 = (sig_ref * s0) * (sig_ref * s0)

    ze = np.zeros((n_window, N_EVENT_DRAWS))  # event draws stay 0 without an event stream
    for p in range(first, last):
        tracing = p == trace_path
        mid = s0
        quote = s0
        stale_run = 0.0
        abs_ret = 0.0
        var_e = sig_ref2 * tau
        filled = 0.0
        value = 0.0
        premid = 0.0
        loss = 0.0
        halted = False
        halt_step = -1.0
        pause_run = 0.0
        s_n = 0.0
        s_1 = 0.0
        s_2 = 0.0
        t_1 = 0.0
        t_2 = 0.0
        w_n = 0.0
        w_m = 0.0
        max_part = 0.0
        l_c = 0.0
        l_x = 0.0
        l_y = 0.0
        l_xx = 0.0
        l_yy = 0.0
        l_xy = 0.0
        # All draws of the path's window first (same stream order as step-by-step draws).
        zm = gen.standard_normal((n_window, N_MARKET_DRAWS))
        if events:
            ze = gen_evt.standard_normal((n_window, N_EVENT_DRAWS))
        for k in range(n_sched):
            z_price = zm[k, 0]
            z_volume = zm[k, 1]
            z_jump = ze[k, 0]
            z_size = ze[k, 1]
            z_feed = ze[k, 2]
            m_k = stp[k, S_MVOL]
            if vnoise > 0.0:
                m_k = m_k * math.exp(vnoise * z_volume - vshift)
            inv_m = 1.0 / m_k
            eps = stp[k, S_EPS]
            tco = stp[k, S_TEMP]
            remaining = qty - filled
            live = (not halted) and remaining > tiny
            flags = 0
            n = 0.0
            desired = 0.0
            requested = 0.0
            tol = math.nan
            slip = math.nan
            h = 0.0
            loss_start = loss
            if live:
                if kill_on and loss > max_loss:
                    flags |= 1 << C_KILL
                if feed_on and (stale_run >= max_stale or abs_ret > spike_thr):
                    flags |= 1 << C_FEED
                if flags != 0:
                    halted = True
                    halt_step = k
                else:
                    desired = tgt[k] * qty - filled
                    if pov > 0.0:
                        desired = max(desired, pov * m_k)
                    desired = min(max(desired, 0.0), remaining)
                    requested = desired
                    if desired > 0.0:
                        blocked = False
                        if collar_on and abs(quote * inv_s0 - 1.0) > collar:
                            flags |= 1 << C_COLLAR
                            blocked = True
                        if pcap_on and desired > pcap * m_k:
                            flags |= 1 << C_PCAP
                            desired = pcap * m_k
                        if slip_on:
                            qref = quote if geom else s0
                            if power:
                                x_rate = desired * inv_m
                                h = tco * math.exp(beta * math.log(x_rate)) if x_rate > 0.0 else 0.0
                            else:
                                h = tco * desired
                            est = quote + side * qref * (eps + h)
                            slip = side * (est - s0) * inv_s0
                            sig2 = var_e * inv_tau
                            tol = slip_tol
                            if sig2 > sig_ref2:
                                tol = slip_tol * sig_ref / math.sqrt(sig2)
                            if slip > tol:
                                flags |= 1 << C_SLIP_PAUSE
                                blocked = True
                                pause_run += 1.0
                                if pause_run > max_pause:
                                    flags |= 1 << C_SLIP_HALT
                                    halted = True
                                    halt_step = k
                            else:
                                pause_run = 0.0
                        if not blocked:
                            n = desired
                if flags != 0:
                    for c in range(N_CONTROLS):
                        if flags & (1 << c):
                            fires[p, c] += 1
                            if first_fire[p, c] < 0:
                                first_fire[p, c] = k
            mref = mid if geom else s0
            price = math.nan
            if n > 0.0:
                if not slip_on:  # else h was computed for the same quantity by the guard
                    if power:
                        x_rate = n * inv_m
                        h = tco * math.exp(beta * math.log(x_rate)) if x_rate > 0.0 else 0.0
                    else:
                        h = tco * n
                price = mid + side * mref * (eps + h)
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
                loss += side * n * d
            if has_vol:
                w_n += n
                w_m += m_k
                if (k + 1) % wsteps == 0 or k == n_sched - 1:
                    if w_m > 0.0:
                        part = w_n / w_m
                        if part > max_part:
                            max_part = part
                    w_n = 0.0
                    w_m = 0.0
            jump = 0.0
            if z_jump < stp[k, S_JTHR]:
                jump = jmean + jstd * z_size
            if geom:
                growth = math.exp(
                    stp[k, S_DET] + stp[k, S_VOL] * z_price + jump + side * stp[k, S_PERM] * n
                )
                new_mid = mid * growth
                move = side * (growth - 1.0)
            else:
                new_mid = (
                    mid
                    + stp[k, S_DET]
                    + stp[k, S_VOL] * z_price
                    + s0 * (jump + side * stp[k, S_PERM] * n)
                )
                move = side * (new_mid - mid) * inv_s0
            if live:
                x = n * inv_m if has_vol else n
                y = move
                l_c += 1.0
                l_x += x
                l_y += y
                l_xx += x * x
                l_yy += y * y
                l_xy += x * y
            if tracing:
                trace[k, T_MID] = mid
                trace[k, T_QUOTE] = quote
                trace[k, T_REMAIN] = remaining
                trace[k, T_TARGET] = tgt[k] * qty
                trace[k, T_DESIRED] = requested
                trace[k, T_TRADE] = n
                trace[k, T_PRICE] = price
                trace[k, T_MVOL] = m_k
                trace[k, T_FLAGS] = flags
                trace[k, T_TOL] = tol
                trace[k, T_SLIP] = slip
                trace[k, T_SIGHAT] = math.sqrt(var_e * inv_tau)
                trace[k, T_LOSS] = loss_start
                trace[k, T_Z] = z_price
                trace[k, T_LIVE] = 1.0 if live else 0.0
                trace[k, T_STALE_RUN] = stale_run
                trace[k, T_ABSRET] = abs_ret
                trace[k, T_MID_END] = new_mid
            mid = new_mid
            if k + 1 < n_sched:
                if stp[k + 1, S_STALE] > 0.5 or z_feed < stale_z:
                    new_quote = quote
                elif stp[k + 1, S_SPIKE] != 0.0:
                    new_quote = mid * (1.0 + stp[k + 1, S_SPIKE])
                elif z_feed > spike_z:
                    new_quote = mid * (1.0 + spike_size)
                else:
                    new_quote = mid
                if new_quote == quote:
                    stale_run += 1.0
                else:
                    stale_run = 0.0
                qd = quote if quote > 0.0 else s0
                ret = (new_quote - quote) / qd
                abs_ret = abs(ret)
                var_e = lam * var_e + (1.0 - lam) * ret * ret
                quote = new_quote
        unfilled = qty - filled
        if unfilled < 0.0:
            unfilled = 0.0
        out[p, O_COST] = side * (value + unfilled * mid - qty * s0)
        out[p, O_FILLED] = filled
        out[p, O_VALUE] = value
        out[p, O_PREMID] = premid
        out[p, O_MARK] = mid
        out[p, O_MAXPART] = max_part if has_vol else math.nan
        if s_n > 0.0:
            mean_d = s_1 / s_n
            fvar = s_2 / s_n - mean_d * mean_d
            if fvar < 0.0:
                fvar = 0.0
            out[p, O_FVAR] = fvar
            out[p, O_FVAR_REF] = sig_abs2 * (-t_1 / s_n - t_2 / (s_n * s_n))
        else:
            out[p, O_FVAR] = math.nan
            out[p, O_FVAR_REF] = math.nan
        out[p, O_LN] = l_c
        out[p, O_LX] = l_x
        out[p, O_LY] = l_y
        out[p, O_LXX] = l_xx
        out[p, O_LYY] = l_yy
        out[p, O_LXY] = l_xy
        out[p, O_HALT] = halt_step


@njit(cache=True, parallel=True)
def simulate_chunks(
    gens, n_paths, chunk_size, par, stp, tgt, out, fires, first_fire, trace_path, trace
):
    """Simulate ``n_paths`` paths in parallel over chunks, one generator per chunk.

    Parameters
    ----------
    gens : numba.typed.List of numpy.random.Generator
        Two generators per chunk (market, event), ``2 * ceil(n_paths / chunk_size)``.
    n_paths, chunk_size : int
        Number of paths and the fixed chunk size (:data:`CHUNK_SIZE`).
    par, stp, tgt, out, fires, first_fire, trace_path, trace
        As in :func:`simulate_chunk`.
    """
    n_chunks = (n_paths + chunk_size - 1) // chunk_size
    for c in prange(n_chunks):
        first = c * chunk_size
        last = min(first + chunk_size, n_paths)
        simulate_chunk(
            gens[np.int64(2 * c)],
            gens[np.int64(2 * c + 1)],
            first,
            last,
            par,
            stp,
            tgt,
            out,
            fires,
            first_fire,
            trace_path,
            trace,
        )
