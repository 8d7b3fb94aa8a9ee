"""Reference implementations of the stress kernel, for cross-checks and benchmarks.

:func:`run_numpy` and :func:`run_python` run prepared
:class:`~validation.stress.inputs.KernelInputs` on the order's random streams, as
:func:`validation.stress.engine.run_kernel` does with the numba kernels, and return the same
arrays. ``run_python`` interprets the scalar specification
(:func:`stress_spec.simulate_chunk`); ``run_numpy`` runs :func:`simulate_numpy`.

:func:`simulate_numpy` implements the same model, controls and outputs as the specification,
vectorised over paths (a loop over steps, array operations over a block of paths). It draws
the random numbers of each chunk with
``gen.standard_normal((paths, n_window, N_MARKET_DRAWS))`` from its market stream (and
likewise from its event stream when used), which yields the same numbers, in the same order, as
the kernel's scalar draws; results therefore agree with the numba kernel to rounding
(``exp``/``pow`` may differ in the last bit between NumPy and LLVM).
"""

from __future__ import annotations

import numpy as np

import validation.stress.kernels as K
from tests.validation.stress_spec import simulate_chunk
from validation.stress.engine import KernelOutputs, allocate_outputs
from validation.stress.inputs import KernelInputs
from validation.stress.streams import make_generators

__all__ = ["run_numpy", "run_python", "simulate_numpy"]


def _power(coef: float, x: np.ndarray, beta: float) -> np.ndarray:
    """``coef * x**beta`` computed as the kernel does, ``exp(beta log x)``, 0 where ``x <= 0``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0.0, coef * np.exp(beta * np.log(x)), 0.0)


def _block(
    z: np.ndarray,
    e: np.ndarray | None,
    par: np.ndarray,
    stp: np.ndarray,
    tgt: np.ndarray,
    out: np.ndarray,
    fires: np.ndarray,
    first_fire: np.ndarray,
) -> None:
    """Simulate one block of paths given market draws ``z`` and event draws ``e``.

    ``z`` has shape (paths, n_window, N_MARKET_DRAWS); ``e`` (paths, n_window, N_EVENT_DRAWS)
    or ``None`` when the run has no event stream.
    """
    b = z.shape[0]
    s0 = par[K.P_S0]
    side = par[K.P_SIDE]
    qty = par[K.P_QTY]
    geom = par[K.P_GEOM] > 0.5
    power = par[K.P_POWER] > 0.5
    beta = par[K.P_BETA]
    tau = par[K.P_TAU]
    vnoise = par[K.P_VNOISE]
    vshift = 0.5 * vnoise * vnoise
    pov = par[K.P_POV]
    n_sched = int(par[K.P_NSCHED])
    wsteps = int(par[K.P_WSTEPS])
    sig_ref = par[K.P_SIGREF]
    sig_ref2 = sig_ref * sig_ref
    lam = par[K.P_LAMBDA]
    has_vol = par[K.P_HASVOL] > 0.5
    tiny = qty * 1e-12
    inv_s0 = 1.0 / s0
    inv_tau = 1.0 / tau

    mid = np.full(b, s0)
    quote = np.full(b, s0)
    stale_run = np.zeros(b)
    abs_ret = np.zeros(b)
    var_e = np.full(b, sig_ref2 * tau)
    filled = np.zeros(b)
    value = np.zeros(b)
    premid = np.zeros(b)
    loss = np.zeros(b)
    halted = np.zeros(b, dtype=bool)
    halt_step = np.full(b, -1.0)
    pause_run = np.zeros(b)
    s_n = np.zeros(b)
    s_1 = np.zeros(b)
    s_2 = np.zeros(b)
    t_1 = np.zeros(b)
    t_2 = np.zeros(b)
    w_n = np.zeros(b)
    w_m = np.zeros(b)
    max_part = np.zeros(b)
    leak = np.zeros((b, 6))
    counts = np.zeros((b, K.N_CONTROLS), dtype=np.int64)
    firsts = np.full((b, K.N_CONTROLS), -1, dtype=np.int64)

    for k in range(n_sched):
        row = stp[k]
        z_price = z[:, k, 0]
        z_volume = z[:, k, 1]
        if e is None:
            z_jump = z_size = z_feed = np.zeros(b)
        else:
            z_jump = e[:, k, 0]
            z_size = e[:, k, 1]
            z_feed = e[:, k, 2]
        m_k = (
            row[K.S_MVOL] * np.exp(vnoise * z_volume - vshift)
            if vnoise > 0.0
            else np.full(b, row[K.S_MVOL])
        )
        inv_m = 1.0 / m_k
        eps = row[K.S_EPS]
        tco = row[K.S_TEMP]
        remaining = qty - filled
        live = ~halted & (remaining > tiny)
        met = np.zeros((b, K.N_CONTROLS), dtype=bool)
        if par[K.P_KILL_ON] > 0.5:
            met[:, K.C_KILL] = live & (loss > par[K.P_MAXLOSS])
        if par[K.P_FEED_ON] > 0.5:
            met[:, K.C_FEED] = live & (
                (stale_run >= par[K.P_MAXSTALE]) | (abs_ret > par[K.P_SPIKE_THR])
            )
        stop = met[:, K.C_KILL] | met[:, K.C_FEED]
        halted |= stop
        halt_step[stop] = k
        act = live & ~stop
        desired = tgt[k] * qty - filled
        if pov > 0.0:
            desired = np.maximum(desired, pov * m_k)
        desired = np.minimum(np.maximum(desired, 0.0), remaining)
        want = act & (desired > 0.0)
        blocked = np.zeros(b, dtype=bool)
        if par[K.P_COLLAR_ON] > 0.5:
            met[:, K.C_COLLAR] = want & (np.abs(quote * inv_s0 - 1.0) > par[K.P_COLLAR])
            blocked |= met[:, K.C_COLLAR]
        if par[K.P_PCAP_ON] > 0.5:
            cap = par[K.P_PCAP] * m_k
            met[:, K.C_PCAP] = want & (desired > cap)
            desired = np.where(met[:, K.C_PCAP], cap, desired)
        if par[K.P_SLIP_ON] > 0.5:
            qref = quote if geom else s0
            with np.errstate(divide="ignore", invalid="ignore"):
                h_est = _power(tco, desired * inv_m, beta) if power else tco * desired
            est = quote + side * qref * (eps + h_est)
            slip = side * (est - s0) * inv_s0
            sig2 = var_e * inv_tau
            with np.errstate(divide="ignore", invalid="ignore"):
                tol = np.where(
                    sig2 > sig_ref2, par[K.P_SLIP_TOL] * sig_ref / np.sqrt(sig2), par[K.P_SLIP_TOL]
                )
            pause = want & (slip > tol)
            met[:, K.C_SLIP_PAUSE] = pause
            blocked |= pause
            pause_run = np.where(pause, pause_run + 1.0, np.where(want, 0.0, pause_run))
            shalt = pause & (pause_run > par[K.P_MAXPAUSE])
            met[:, K.C_SLIP_HALT] = shalt
            halted |= shalt
            halt_step[shalt] = k
        n = np.where(want & ~blocked, desired, 0.0)
        counts += met
        new_first = met & (firsts < 0)
        firsts[new_first] = k

        mref = mid if geom else np.full(b, s0)
        traded = n > 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            h = _power(tco, n * inv_m, beta) if power else tco * n
        price = mid + side * mref * (eps + h)
        d = np.where(traded, price - s0, 0.0)
        t_k = k * tau
        s_n += n
        s_1 += n * d
        s_2 += n * d * d
        t_1 += n * t_k
        t_2 += n * t_k * (n - 2.0 * (filled + n))
        filled += n
        value += np.where(traded, n * price, 0.0)
        premid += n * mid
        loss += side * n * d
        if has_vol:
            w_n += n
            w_m += m_k
            if (k + 1) % wsteps == 0 or k == n_sched - 1:
                with np.errstate(divide="ignore", invalid="ignore"):
                    part = np.where(w_m > 0.0, w_n / w_m, 0.0)
                max_part = np.maximum(max_part, part)
                w_n[:] = 0.0
                w_m[:] = 0.0
        jump = np.where(z_jump < row[K.S_JTHR], par[K.P_JMEAN] + par[K.P_JSTD] * z_size, 0.0)
        if geom:
            growth = np.exp(row[K.S_DET] + row[K.S_VOL] * z_price + jump + side * row[K.S_PERM] * n)
            new_mid = mid * growth
            y = side * (growth - 1.0)
        else:
            new_mid = (
                mid + row[K.S_DET] + row[K.S_VOL] * z_price + s0 * (jump + side * row[K.S_PERM] * n)
            )
        if not geom:
            y = side * (new_mid - mid) * inv_s0
        x = n * inv_m if has_vol else n
        lv = live.astype(float)
        leak[:, 0] += lv
        leak[:, 1] += np.where(live, x, 0.0)
        leak[:, 2] += np.where(live, y, 0.0)
        leak[:, 3] += np.where(live, x * x, 0.0)
        leak[:, 4] += np.where(live, y * y, 0.0)
        leak[:, 5] += np.where(live, x * y, 0.0)
        mid = new_mid
        if k + 1 < n_sched:
            nrow = stp[k + 1]
            stale = (nrow[K.S_STALE] > 0.5) | (z_feed < par[K.P_STALE_Z])
            if nrow[K.S_SPIKE] != 0.0:
                fresh = mid * (1.0 + nrow[K.S_SPIKE])
            else:
                fresh = np.where(z_feed > par[K.P_SPIKE_Z], mid * (1.0 + par[K.P_SPIKE_SIZE]), mid)
            new_quote = np.where(stale, quote, fresh)
            stale_run = np.where(new_quote == quote, stale_run + 1.0, 0.0)
            qd = np.where(quote > 0.0, quote, s0)
            ret = (new_quote - quote) / qd
            abs_ret = np.abs(ret)
            var_e = lam * var_e + (1.0 - lam) * ret * ret
            quote = new_quote

    unfilled = np.maximum(qty - filled, 0.0)
    out[:, K.O_COST] = side * (value + unfilled * mid - qty * s0)
    out[:, K.O_FILLED] = filled
    out[:, K.O_VALUE] = value
    out[:, K.O_PREMID] = premid
    out[:, K.O_MARK] = mid
    out[:, K.O_MAXPART] = max_part if has_vol else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_d = s_1 / s_n
        fvar = np.maximum(s_2 / s_n - mean_d * mean_d, 0.0)
        ref = (sig_ref * s0) * (sig_ref * s0) * (-t_1 / s_n - t_2 / (s_n * s_n))
    out[:, K.O_FVAR] = np.where(s_n > 0.0, fvar, np.nan)
    out[:, K.O_FVAR_REF] = np.where(s_n > 0.0, ref, np.nan)
    out[:, K.O_LN : K.O_LXY + 1] = leak
    out[:, K.O_HALT] = halt_step
    fires[:] = counts
    first_fire[:] = firsts


def simulate_numpy(
    gens: list[np.random.Generator],
    n_paths: int,
    chunk_size: int,
    par: np.ndarray,
    stp: np.ndarray,
    tgt: np.ndarray,
    out: np.ndarray,
    fires: np.ndarray,
    first_fire: np.ndarray,
    *,
    block_paths: int = 4096,
) -> None:
    """Vectorised NumPy counterpart of :func:`validation.stress.kernels.simulate_chunks`.

    Parameters
    ----------
    gens
        Two generators per chunk (market, event), as for the kernel.
    n_paths, chunk_size
        Number of paths and the fixed chunk size.
    par, stp, tgt, out, fires, first_fire
        As in :func:`validation.stress.kernels.simulate_chunks` (no trace).
    block_paths
        Paths vectorised at once (rounded to whole chunks); bounds memory for the draws.
    """
    n_window = stp.shape[0]
    per_block = max(1, block_paths // chunk_size)
    n_chunks = len(gens) // 2
    events = par[K.P_EVENTS] > 0.5
    for c0 in range(0, n_chunks, per_block):
        chunks = range(c0, min(c0 + per_block, n_chunks))
        lo = c0 * chunk_size
        hi = min((chunks[-1] + 1) * chunk_size, n_paths)
        sizes = [min((c + 1) * chunk_size, n_paths) - c * chunk_size for c in chunks]
        z = np.concatenate(
            [
                gens[2 * c].standard_normal((m, n_window, K.N_MARKET_DRAWS))
                for c, m in zip(chunks, sizes, strict=True)
            ],
            axis=0,
        )
        e = None
        if events:
            e = np.concatenate(
                [
                    gens[2 * c + 1].standard_normal((m, n_window, K.N_EVENT_DRAWS))
                    for c, m in zip(chunks, sizes, strict=True)
                ],
                axis=0,
            )
        _block(z, e, par, stp, tgt, out[lo:hi], fires[lo:hi], first_fire[lo:hi])


def run_numpy(inputs: KernelInputs) -> KernelOutputs:
    """Run ``inputs`` with :func:`simulate_numpy`; same arrays as ``run_kernel`` (no trace)."""
    out, fires, first, trace = allocate_outputs(inputs)
    gens = make_generators(inputs.seed, inputs.n_paths, inputs.stream)
    simulate_numpy(
        gens, inputs.n_paths, K.CHUNK_SIZE, inputs.par, inputs.stp, inputs.tgt, out, fires, first
    )
    return out, fires, first, trace


def run_python(inputs: KernelInputs, *, trace_path: int = -1) -> KernelOutputs:
    """Run ``inputs`` with the interpreted scalar specification; same arrays as ``run_kernel``.

    ``par`` and ``tgt`` are passed as lists and ``stp`` as a ``{(k, j): value}`` dict: plain
    Python containers, so the run measures the interpreter, not NumPy's scalar indexing.
    """
    out, fires, first, trace = allocate_outputs(inputs)
    gens = make_generators(inputs.seed, inputs.n_paths, inputs.stream)
    par, tgt = inputs.par.tolist(), inputs.tgt.tolist()
    stp = {
        (k, j): value for k, row in enumerate(inputs.stp.tolist()) for j, value in enumerate(row)
    }
    for c in range(len(gens) // 2):
        lo = c * K.CHUNK_SIZE
        hi = min(lo + K.CHUNK_SIZE, inputs.n_paths)
        simulate_chunk(
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
    return out, fires, first, trace
