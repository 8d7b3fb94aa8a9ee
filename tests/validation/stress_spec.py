"""The stress kernel's scalar specification, one path and one step at a time, in plain Python.

:func:`simulate_chunk` is the step mechanics of :mod:`validation.stress.kernels` written as
simply as they can be: the oracle the numba block kernel is checked against, and the
pure-Python baseline of ``bench/stress.py``. It draws the chunk's normals in the order the
kernels' reproducibility contract fixes, so it sees the same shocks as the numba kernel.
"""

from __future__ import annotations

import math

import numpy as np

from validation.stress.kernels import (
    C_COLLAR,
    C_FEED,
    C_KILL,
    C_PCAP,
    C_SLIP_HALT,
    C_SLIP_PAUSE,
    N_CONTROLS,
    N_EVENT_DRAWS,
    N_MARKET_DRAWS,
    O_COST,
    O_FILLED,
    O_FVAR,
    O_FVAR_REF,
    O_HALT,
    O_LN,
    O_LX,
    O_LXX,
    O_LXY,
    O_LY,
    O_LYY,
    O_MARK,
    O_MAXPART,
    O_PREMID,
    O_VALUE,
    P_BETA,
    P_COLLAR,
    P_COLLAR_ON,
    P_EVENTS,
    P_FEED_ON,
    P_GEOM,
    P_HASVOL,
    P_JMEAN,
    P_JSTD,
    P_KILL_ON,
    P_LAMBDA,
    P_MAXLOSS,
    P_MAXPAUSE,
    P_MAXSTALE,
    P_NSCHED,
    P_PCAP,
    P_PCAP_ON,
    P_POV,
    P_POWER,
    P_QTY,
    P_S0,
    P_SIDE,
    P_SIGREF,
    P_SLIP_ON,
    P_SLIP_TOL,
    P_SPIKE_SIZE,
    P_SPIKE_THR,
    P_SPIKE_Z,
    P_STALE_Z,
    P_TAU,
    P_VNOISE,
    P_WSTEPS,
    S_DET,
    S_EPS,
    S_JTHR,
    S_MVOL,
    S_PERM,
    S_SPIKE,
    S_STALE,
    S_TEMP,
    S_VOL,
    T_ABSRET,
    T_DESIRED,
    T_FLAGS,
    T_LIVE,
    T_LOSS,
    T_MID,
    T_MID_END,
    T_MVOL,
    T_PRICE,
    T_QUOTE,
    T_REMAIN,
    T_SIGHAT,
    T_SLIP,
    T_STALE_RUN,
    T_TARGET,
    T_TOL,
    T_TRADE,
    T_Z,
)

__all__ = ["simulate_chunk"]


def simulate_chunk(
    gen, gen_evt, first, last, par, stp, tgt, out, fires, first_fire, trace_path, trace
):
    """Simulate paths ``first .. last-1`` of one chunk with its two random generators.

    One path after the other, one step after the other, as "Step mechanics" in
    :mod:`validation.stress.kernels` describes; the numba kernel
    :func:`~validation.stress.kernels.simulate_block` must agree with it to rounding.

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
    Plain Python on purpose, read as the specification of the numba kernel and run by the
    interpreter as its oracle: given a list for ``par`` and ``tgt`` and a ``{(k, j): value}``
    dict for ``stp`` (what :func:`tests.validation.stress_reference.run_python` passes) it
    runs at the speed of plain CPython, the benchmark's pure-Python baseline.
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
