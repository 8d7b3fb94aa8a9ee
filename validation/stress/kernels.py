# Over 400 lines on purpose: numba's cache sees only this file's changes, so it is not split.
"""Numba kernels of the stress engine: one order executed on many simulated market paths.

The kernels take only NumPy arrays, scalars and NumPy random ``Generator`` objects (numba
supports them in nopython mode). Inputs are prepared and validated by
:func:`validation.stress.inputs.prepare_inputs` for :func:`validation.stress.engine.simulate`;
nothing here checks its arguments.

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

Formulation
-----------
The step mechanics above, taken one path after the other and one step after the other, are
the specification; the tests run a plain-Python transcription of them, and a NumPy one
vectorised over paths, as oracles (``tests/validation/stress_spec.py`` and
``stress_reference.py``). :func:`simulate_chunks` runs the model with :func:`simulate_block`,
which advances :data:`BLOCK_PATHS` paths of a chunk together, step by step, in a loop over
paths that LLVM vectorises (SIMD), with per-step inputs read once per step and the
state-independent market volumes computed in a separate vectorised pass. It draws the same
numbers in the same order as the specification and performs the same IEEE operations, except
that ``exp``/``log`` are :func:`vexp`/:func:`vlog` (vectorisable, within 1 ulp of the C
library's, like NumPy's own SIMD ``exp``/``log``), so it agrees with the oracles to rounding. No
``fastmath``: no FMA contraction or reassociation is left to the compiler (the only FMAs are
explicit, IEEE-defined ones inside ``vexp``/``vlog``), so results are the same whatever the
CPU, the vector width, the block or the thread count.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic

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
    "BLOCK_PATHS",
    "simulate_block",
    "simulate_chunks",
    "vexp",
    "vlog",
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


# --- elementary functions the block kernel can vectorise --------------------------------------
# ``math.exp``/``math.log`` compile to calls into the C library, one value at a time, which
# stops LLVM from vectorising a loop that uses them (numba has no SIMD math library here).
# ``vexp``/``vlog`` are straight-line arithmetic (no tables, no branches) that LLVM vectorises:
# vexp reduces x = k ln2 + r, |r| <= ln2/2, and sums the Taylor series of exp(r) to degree 13
# (Estrin's scheme: a short dependency chain); vlog is fdlibm's log (x = 2^k (1 + f),
# log(1 + f) = 2s + s R(s^2), s = f / (2 + f)). Measured against NumPy on millions of arguments
# over their whole range, both are within 1 ulp; they handle 0, subnormals, +-inf and nan as
# the C library does. They use only IEEE operations and *explicit* fused multiply-adds (one
# rounding, defined by IEEE 754), no fastmath, so they give the same bits in vector and scalar
# code and on every CPU; they may differ from the C library's results in the last bit.


@intrinsic
def _f2i(typingctx, x):
    """Bits of a float64 as an int64 (a bit cast, no conversion)."""
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return sig, codegen


@intrinsic
def _i2f(typingctx, x):
    """float64 with the given int64 bits (a bit cast, no conversion)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@intrinsic
def _sqrt(typingctx, x):
    """IEEE square root (``llvm.sqrt``: vectorisable, unlike a call to the C library's)."""
    sig = types.float64(types.float64)

    def codegen(context, builder, signature, args):
        fn = builder.module.declare_intrinsic("llvm.sqrt", [ir.DoubleType()])
        return builder.call(fn, args)

    return sig, codegen


@intrinsic
def _fma(typingctx, a, b, c):
    """``a * b + c`` rounded once (``llvm.fma``): IEEE-defined, so the same on every CPU."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        d = ir.DoubleType()
        fn = builder.module.declare_intrinsic("llvm.fma", [d], ir.FunctionType(d, [d, d, d]))
        return builder.call(fn, args)

    return sig, codegen


_LN2_HI = 6.93147180369123816490e-01  # ln 2 rounded to 32 bits: k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10  # ln 2 - _LN2_HI
_INV_LN2 = 1.44269504088896338700e00
# Taylor coefficients 1/j! of exp, j = 2..13 (|r| <= ln2/2: truncation error < 5e-18).
_E2 = 1.0 / 2.0
_E3 = 1.0 / 6.0
_E4 = 1.0 / 24.0
_E5 = 1.0 / 120.0
_E6 = 1.0 / 720.0
_E7 = 1.0 / 5040.0
_E8 = 1.0 / 40320.0
_E9 = 1.0 / 362880.0
_E10 = 1.0 / 3628800.0
_E11 = 1.0 / 39916800.0
_E12 = 1.0 / 479001600.0
_E13 = 1.0 / 6227020800.0
# fdlibm's minimax coefficients of log(1 + f) = 2 s + s R(s^2), s = f / (2 + f).
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_TWO54 = 18014398509481984.0
_MIN_NORMAL = 2.2250738585072014e-308


@njit(inline="always", error_model="numpy")
def vexp(x):
    """``exp(x)`` as branch-free arithmetic (vectorisable); see the section comment."""
    xc = min(max(x, -746.0), 710.0)  # beyond: 0 or inf, reached through the scaling below
    kf = math.floor(xc * _INV_LN2 + 0.5)
    r = (xc - kf * _LN2_HI) - kf * _LN2_LO  # x = k ln2 + r, |r| <= ln2 / 2
    # exp(r) = 1 + r + r^2 q(r), q of degree 11 evaluated by Estrin's scheme (short latency).
    r2 = r * r
    r4 = r2 * r2
    r8 = r4 * r4
    a0 = _fma(_E3, r, _E2)
    a1 = _fma(_E5, r, _E4)
    a2 = _fma(_E7, r, _E6)
    a3 = _fma(_E9, r, _E8)
    a4 = _fma(_E11, r, _E10)
    a5 = _fma(_E13, r, _E12)
    b0 = _fma(a1, r2, a0)
    b1 = _fma(a3, r2, a2)
    b2 = _fma(a5, r2, a4)
    q = _fma(b2, r8, _fma(b1, r4, b0))
    p = 1.0 + _fma(r2, q, r)
    k = np.int64(kf)
    k1 = k >> 1  # 2^k as two exact factors, so that subnormal and near-overflow results work
    k2 = k - k1
    y = p * _i2f((k1 + 1023) << 52) * _i2f((k2 + 1023) << 52)
    return y if x == x else x


@njit(inline="always", error_model="numpy")
def vlog(x):
    """``log(x)`` as branch-free arithmetic (vectorisable); see the section comment."""
    sub = x < _MIN_NORMAL
    xs = x * _TWO54 if sub else x
    ix = _f2i(xs)
    # x = 2^k m with m in [sqrt(2)/2, sqrt(2)) (fdlibm/musl).
    hx = (ix >> 32) + (0x3FF00000 - 0x3FE6A09E)
    k = (hx >> 20) - 0x3FF
    if sub:
        k -= 54
    hx = (hx & 0x000FFFFF) + 0x3FE6A09E
    f = _i2f((hx << 32) | (ix & 0xFFFFFFFF)) - 1.0
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * _fma(w, _fma(w, _LG6, _LG4), _LG2)
    t2 = z * _fma(w, _fma(w, _fma(w, _LG7, _LG5), _LG3), _LG1)
    dk = float(k)
    y = s * (hfsq + (t2 + t1)) + dk * _LN2_LO - hfsq + f + dk * _LN2_HI
    if x == 0.0:
        y = -math.inf
    if not x >= 0.0:
        y = math.nan
    if x == math.inf:
        y = x
    return y


# --- block kernel -----------------------------------------------------------------------------
#: Paths that :func:`simulate_block` advances together, step by step (the lanes of its vector
#: loop). Not part of the reproducibility contract: a path is computed by the same IEEE
#: operations whatever its block or lane, so results do not depend on it.
BLOCK_PATHS = 64

# Per-step lane inputs of a block, ``lane[(k * N_LANE_IN + slot) * BLOCK_PATHS + i]``.
L_PRICE = 0  # z_price
L_MVOL = 1  # market volume of the step m_k (from z_volume)
L_INV_MVOL = 2  # 1 / m_k
L_JUMP = 3  # z_jump (event stream only)
L_SIZE = 4  # z_size
L_FEED = 5  # z_feed
N_LANE_IN = 6

# Rows of the block state, ``st[row * BLOCK_PATHS + i]`` (float64; flags, counts and booleans
# are exact small integers).
R_MID = 0
R_QUOTE = 1
R_STALE_RUN = 2
R_ABSRET = 3
R_VAR = 4
R_FILLED = 5
R_VALUE = 6
R_PREMID = 7
R_LOSS = 8
R_HALTED = 9
R_HALT_STEP = 10
R_PAUSE = 11
R_SN = 12
R_S1 = 13
R_S2 = 14
R_T1 = 15
R_T2 = 16
R_WN = 17
R_WM = 18
R_MAXPART = 19
R_LC = 20
R_LX = 21
R_LY = 22
R_LXX = 23
R_LYY = 24
R_LXY = 25
R_COUNT = 26  # firing counts, N_CONTROLS rows
R_FIRST = R_COUNT + N_CONTROLS  # first firing steps, N_CONTROLS rows
R_REQ = R_FIRST + N_CONTROLS  # from here: values of the last step, for the trace
R_TRADE = R_REQ + 1
R_PRICE = R_REQ + 2
R_MKT = R_REQ + 3
R_FLAGS = R_REQ + 4
R_TOL = R_REQ + 5
R_SLIP = R_REQ + 6
R_LIVE = R_REQ + 7
N_ROWS = R_REQ + 8


@njit(inline="always")
def _count(st, c, i, flags, fk):
    """Count control ``c`` of lane ``i`` when its bit is set in ``flags`` (branch-free)."""
    fired = (flags >> c) & 1
    first_k = st[(R_FIRST + c) * BLOCK_PATHS + i]
    st[(R_COUNT + c) * BLOCK_PATHS + i] += fired
    st[(R_FIRST + c) * BLOCK_PATHS + i] = fk if (fired != 0) & (first_k < 0.0) else first_k


@njit(cache=True, error_model="numpy", boundscheck=False)
def simulate_block(
    gen, gen_evt, first, last, par, stp, tgt, out, fires, first_fire, trace_path, trace, lane, st
):
    """Simulate paths ``first .. last-1`` (at most :data:`BLOCK_PATHS`) together.

    The model, the operations and the outputs are those of the step mechanics (see the module
    docstring) taken one path at a time; only the order of the work differs, for speed:

    1. the block's normals are drawn path after path, each path its whole window, from the
       chunk's streams (the numbers a path-by-path simulation draws, in the same order), and
       stored step-major in ``lane``;
    2. the market volume of every step, ``m_k`` and ``1 / m_k``, which depend on the draws
       only, are computed in one vectorised pass;
    3. the paths then advance together, one step at a time: the per-step inputs are read
       once per step, and the loop over the paths has no calls, no early exits and only
       unconditional loads and stores of the state (controls are selects), so LLVM
       vectorises it.

    ``exp``/``log`` are :func:`vexp`/:func:`vlog` (within 1 ulp of the C library's; results
    agree with the path-by-path specification to rounding). ``gen`` to ``trace`` are as in
    :func:`simulate_chunks`; ``first`` and ``last`` are global path indices. ``lane`` (n_sched *
    N_LANE_IN * BLOCK_PATHS) and ``st`` (N_ROWS * BLOCK_PATHS) are work arrays of the calling
    thread.
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
    sig_ref2 = sig_ref * sig_ref
    lam = par[P_LAMBDA]
    one_m_lam = 1.0 - lam
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
    n_window = stp.shape[0]
    tiny = qty * 1e-12
    inv_s0 = 1.0 / s0
    inv_tau = 1.0 / tau
    sig_abs2 = (sig_ref * s0) * (sig_ref * s0)
    nb = last - first
    lane_t = trace_path - first
    tracing = 0 <= lane_t < nb
    bp = BLOCK_PATHS
    step_len = N_LANE_IN * BLOCK_PATHS

    # 1. Draws, path after path over the whole window (as path by path), step-major.
    for i in range(nb):
        for k in range(n_window):
            z_price = gen.standard_normal()
            z_volume = gen.standard_normal()
            if k < n_sched:
                lane[k * step_len + L_PRICE * bp + i] = z_price
                lane[k * step_len + L_MVOL * bp + i] = z_volume
        if events:
            for k in range(n_window):
                z_jump = gen_evt.standard_normal()
                z_size = gen_evt.standard_normal()
                z_feed = gen_evt.standard_normal()
                if k < n_sched:
                    lane[k * step_len + L_JUMP * bp + i] = z_jump
                    lane[k * step_len + L_SIZE * bp + i] = z_size
                    lane[k * step_len + L_FEED * bp + i] = z_feed

    # 2. Market volume of every step.
    for k in range(n_sched):
        lk = lane[k * step_len : (k + 1) * step_len]
        mvol = stp[k, S_MVOL]
        for i in range(nb):
            m_k = mvol
            if vnoise > 0.0:
                m_k = mvol * vexp(vnoise * lk[L_MVOL * bp + i] - vshift)
            lk[L_MVOL * bp + i] = m_k
            lk[L_INV_MVOL * bp + i] = 1.0 / m_k

    for i in range(nb):
        for r in range(N_ROWS):
            st[r * bp + i] = 0.0
        st[R_MID * bp + i] = s0
        st[R_QUOTE * bp + i] = s0
        st[R_VAR * bp + i] = sig_ref2 * tau
        st[R_HALT_STEP * bp + i] = -1.0
        for c in range(N_CONTROLS):
            st[(R_FIRST + c) * bp + i] = -1.0

    # 3. The steps.
    for k in range(n_sched):
        lk = lane[k * step_len : (k + 1) * step_len]
        # Per-step inputs, the same for every path.
        eps = stp[k, S_EPS]
        tco = stp[k, S_TEMP]
        det = stp[k, S_DET]
        vol = stp[k, S_VOL]
        sperm = side * stp[k, S_PERM]
        jthr = stp[k, S_JTHR]
        tq = tgt[k] * qty
        t_k = k * tau
        fk = float(k)
        flush = (k + 1) % wsteps == 0 or k == n_sched - 1
        has_next = k + 1 < n_sched
        next_stale = False
        next_spike = 0.0
        if has_next:
            next_stale = stp[k + 1, S_STALE] > 0.5
            next_spike = stp[k + 1, S_SPIKE]
        next_spike_mult = 1.0 + next_spike
        if tracing:
            trace[k, T_MID] = st[R_MID * bp + lane_t]
            trace[k, T_QUOTE] = st[R_QUOTE * bp + lane_t]
            trace[k, T_REMAIN] = qty - st[R_FILLED * bp + lane_t]
            trace[k, T_TARGET] = tq
            trace[k, T_SIGHAT] = math.sqrt(st[R_VAR * bp + lane_t] * inv_tau)
            trace[k, T_LOSS] = st[R_LOSS * bp + lane_t]
            trace[k, T_Z] = lk[L_PRICE * bp + lane_t]
            trace[k, T_STALE_RUN] = st[R_STALE_RUN * bp + lane_t]
            trace[k, T_ABSRET] = st[R_ABSRET * bp + lane_t]

        for i in range(nb):
            z_price = lk[L_PRICE * bp + i]
            m_k = lk[L_MVOL * bp + i]
            inv_m = lk[L_INV_MVOL * bp + i]
            z_jump = 0.0
            z_size = 0.0
            z_feed = 0.0
            if events:
                z_jump = lk[L_JUMP * bp + i]
                z_size = lk[L_SIZE * bp + i]
                z_feed = lk[L_FEED * bp + i]
            mid = st[R_MID * bp + i]
            quote = st[R_QUOTE * bp + i]
            stale_run = st[R_STALE_RUN * bp + i]
            abs_ret = st[R_ABSRET * bp + i]
            var_e = st[R_VAR * bp + i]
            filled = st[R_FILLED * bp + i]
            value = st[R_VALUE * bp + i]
            premid = st[R_PREMID * bp + i]
            loss = st[R_LOSS * bp + i]
            halted = st[R_HALTED * bp + i] > 0.5
            halt_step = st[R_HALT_STEP * bp + i]
            pause_run = st[R_PAUSE * bp + i]
            s_n = st[R_SN * bp + i]
            s_1 = st[R_S1 * bp + i]
            s_2 = st[R_S2 * bp + i]
            t_1 = st[R_T1 * bp + i]
            t_2 = st[R_T2 * bp + i]
            w_n = st[R_WN * bp + i]
            w_m = st[R_WM * bp + i]
            max_part = st[R_MAXPART * bp + i]
            l_c = st[R_LC * bp + i]
            l_x = st[R_LX * bp + i]
            l_y = st[R_LY * bp + i]
            l_xx = st[R_LXX * bp + i]
            l_yy = st[R_LYY * bp + i]
            l_xy = st[R_LXY * bp + i]

            remaining = qty - filled
            live = (not halted) & (remaining > tiny)
            # Halting controls.
            flags = 0
            if live & kill_on & (loss > max_loss):
                flags |= 1 << C_KILL
            if live & feed_on & ((stale_run >= max_stale) | (abs_ret > spike_thr)):
                flags |= 1 << C_FEED
            stop = flags != 0
            act = live & (not stop)
            # Trade request, price collar and participation cap.
            desired = tq - filled
            if pov > 0.0:
                desired = max(desired, pov * m_k)
            desired = min(max(desired, 0.0), remaining)
            want = act & (desired > 0.0)
            requested = desired if act else 0.0
            blocked = False
            if want & collar_on & (abs(quote * inv_s0 - 1.0) > collar):
                flags |= 1 << C_COLLAR
                blocked = True
            cap = pcap * m_k
            if want & pcap_on & (desired > cap):
                flags |= 1 << C_PCAP
                desired = cap
            # Temporary impact of the (capped) request, for the guard and for the fill.
            if power:
                x_rate = desired * inv_m
                h_pow = tco * vexp(beta * vlog(x_rate))
                h = h_pow if x_rate > 0.0 else 0.0
            else:
                h = tco * desired
            # Dynamic slippage guard.
            tol = math.nan
            slip = math.nan
            if want & slip_on:
                qref = quote if geom else s0
                est = quote + side * qref * (eps + h)
                slip = side * (est - s0) * inv_s0
                sig2 = var_e * inv_tau
                tol = slip_tol
                if sig2 > sig_ref2:
                    tol = slip_tol * sig_ref / _sqrt(sig2)
                if slip > tol:
                    flags |= 1 << C_SLIP_PAUSE
                    blocked = True
                    pause_run = pause_run + 1.0
                    if pause_run > max_pause:
                        flags |= 1 << C_SLIP_HALT
                else:
                    pause_run = 0.0
            if stop | ((flags & (1 << C_SLIP_HALT)) != 0):
                halted = True
                halt_step = fk
            n = desired if want & (not blocked) else 0.0
            _count(st, C_KILL, i, flags, fk)
            _count(st, C_FEED, i, flags, fk)
            _count(st, C_COLLAR, i, flags, fk)
            _count(st, C_SLIP_PAUSE, i, flags, fk)
            _count(st, C_SLIP_HALT, i, flags, fk)
            _count(st, C_PCAP, i, flags, fk)

            # Fill against the true mid at the start of the step.
            mref = mid if geom else s0
            price = mid + side * mref * (eps + h)
            if n > 0.0:
                d = price - s0
                s_n += n
                s_1 += n * d
                s_2 += n * d * d
                t_1 += n * t_k
                t_2 += n * t_k * (n - 2.0 * (filled + n))
                filled += n
                value += n * price
                premid += n * mid
                loss += side * n * d
            else:
                price = math.nan
            if has_vol:
                w_n += n
                w_m += m_k
                if flush:
                    if w_m > 0.0:
                        part = w_n / w_m
                        if part > max_part:
                            max_part = part
                    w_n = 0.0
                    w_m = 0.0

            # Mid move.
            jump = 0.0
            if z_jump < jthr:
                jump = jmean + jstd * z_size
            if geom:
                growth = vexp(det + vol * z_price + jump + sperm * n)
                new_mid = mid * growth
                move = side * (growth - 1.0)
            else:
                new_mid = mid + det + vol * z_price + s0 * (jump + sperm * n)
                move = side * (new_mid - mid) * inv_s0
            if live:
                x = n * inv_m if has_vol else n
                l_c += 1.0
                l_x += x
                l_y += move
                l_xx += x * x
                l_yy += move * move
                l_xy += x * move

            # Quote the controls see at the start of the next step.
            if has_next:
                if next_stale | (z_feed < stale_z):
                    new_quote = quote
                elif next_spike != 0.0:
                    new_quote = new_mid * next_spike_mult
                elif z_feed > spike_z:
                    new_quote = new_mid * spike_mult
                else:
                    new_quote = new_mid
                stale_run = stale_run + 1.0 if new_quote == quote else 0.0
                qd = quote if quote > 0.0 else s0
                ret = (new_quote - quote) / qd
                abs_ret = abs(ret)
                var_e = lam * var_e + one_m_lam * ret * ret
                quote = new_quote

            st[R_MID * bp + i] = new_mid
            st[R_QUOTE * bp + i] = quote
            st[R_STALE_RUN * bp + i] = stale_run
            st[R_ABSRET * bp + i] = abs_ret
            st[R_VAR * bp + i] = var_e
            st[R_FILLED * bp + i] = filled
            st[R_VALUE * bp + i] = value
            st[R_PREMID * bp + i] = premid
            st[R_LOSS * bp + i] = loss
            st[R_HALTED * bp + i] = 1.0 if halted else 0.0
            st[R_HALT_STEP * bp + i] = halt_step
            st[R_PAUSE * bp + i] = pause_run
            st[R_SN * bp + i] = s_n
            st[R_S1 * bp + i] = s_1
            st[R_S2 * bp + i] = s_2
            st[R_T1 * bp + i] = t_1
            st[R_T2 * bp + i] = t_2
            st[R_WN * bp + i] = w_n
            st[R_WM * bp + i] = w_m
            st[R_MAXPART * bp + i] = max_part
            st[R_LC * bp + i] = l_c
            st[R_LX * bp + i] = l_x
            st[R_LY * bp + i] = l_y
            st[R_LXX * bp + i] = l_xx
            st[R_LYY * bp + i] = l_yy
            st[R_LXY * bp + i] = l_xy
            st[R_REQ * bp + i] = requested
            st[R_TRADE * bp + i] = n
            st[R_PRICE * bp + i] = price
            st[R_MKT * bp + i] = m_k
            st[R_FLAGS * bp + i] = float(flags)
            st[R_TOL * bp + i] = tol
            st[R_SLIP * bp + i] = slip
            st[R_LIVE * bp + i] = 1.0 if live else 0.0

        if tracing:
            trace[k, T_DESIRED] = st[R_REQ * bp + lane_t]
            trace[k, T_TRADE] = st[R_TRADE * bp + lane_t]
            trace[k, T_PRICE] = st[R_PRICE * bp + lane_t]
            trace[k, T_MVOL] = st[R_MKT * bp + lane_t]
            trace[k, T_FLAGS] = st[R_FLAGS * bp + lane_t]
            trace[k, T_TOL] = st[R_TOL * bp + lane_t]
            trace[k, T_SLIP] = st[R_SLIP * bp + lane_t]
            trace[k, T_LIVE] = st[R_LIVE * bp + lane_t]
            trace[k, T_MID_END] = st[R_MID * bp + lane_t]

    # Per-path outputs.
    for i in range(nb):
        p = first + i
        filled = st[R_FILLED * bp + i]
        value = st[R_VALUE * bp + i]
        mid = st[R_MID * bp + i]
        unfilled = qty - filled
        if unfilled < 0.0:
            unfilled = 0.0
        out[p, O_COST] = side * (value + unfilled * mid - qty * s0)
        out[p, O_FILLED] = filled
        out[p, O_VALUE] = value
        out[p, O_PREMID] = st[R_PREMID * bp + i]
        out[p, O_MARK] = mid
        out[p, O_MAXPART] = st[R_MAXPART * bp + i] if has_vol else math.nan
        s_n = st[R_SN * bp + i]
        if s_n > 0.0:
            mean_d = st[R_S1 * bp + i] / s_n
            fvar = st[R_S2 * bp + i] / s_n - mean_d * mean_d
            if fvar < 0.0:
                fvar = 0.0
            out[p, O_FVAR] = fvar
            t_1 = st[R_T1 * bp + i]
            t_2 = st[R_T2 * bp + i]
            out[p, O_FVAR_REF] = sig_abs2 * (-t_1 / s_n - t_2 / (s_n * s_n))
        else:
            out[p, O_FVAR] = math.nan
            out[p, O_FVAR_REF] = math.nan
        out[p, O_LN] = st[R_LC * bp + i]
        out[p, O_LX] = st[R_LX * bp + i]
        out[p, O_LY] = st[R_LY * bp + i]
        out[p, O_LXX] = st[R_LXX * bp + i]
        out[p, O_LYY] = st[R_LYY * bp + i]
        out[p, O_LXY] = st[R_LXY * bp + i]
        out[p, O_HALT] = st[R_HALT_STEP * bp + i]
        for c in range(N_CONTROLS):
            fires[p, c] = np.int64(st[(R_COUNT + c) * bp + i])
            first_fire[p, c] = np.int64(st[(R_FIRST + c) * bp + i])


@njit(cache=True, parallel=True)
def simulate_chunks(
    gens, n_paths, chunk_size, par, stp, tgt, out, fires, first_fire, trace_path, trace
):
    """Simulate ``n_paths`` paths in parallel over chunks, one generator per chunk.

    Each chunk is run by one thread, as consecutive blocks of :data:`BLOCK_PATHS` paths
    (:func:`simulate_block`), which consume the chunk's streams exactly as a path-by-path
    simulation would.

    Parameters
    ----------
    gens : numba.typed.List of numpy.random.Generator
        Two generators per chunk (market, event), ``2 * ceil(n_paths / chunk_size)``.
    n_paths, chunk_size : int
        Number of paths and the fixed chunk size (:data:`CHUNK_SIZE`).
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
        Trace of ``trace_path``, written in place.
    """
    n_chunks = (n_paths + chunk_size - 1) // chunk_size
    n_sched = int(par[P_NSCHED])
    for c in prange(n_chunks):
        # Work arrays of the chunk's thread. ``lane`` is always allocated in full: LLVM's
        # run-time overlap check of the vector loop covers the event slots even when they
        # are not read, and must never see them overlap ``st``.
        lane = np.empty(n_sched * N_LANE_IN * BLOCK_PATHS)
        st = np.empty(N_ROWS * BLOCK_PATHS)
        gen = gens[np.int64(2 * c)]
        gen_evt = gens[np.int64(2 * c + 1)]
        last = min((c + 1) * chunk_size, n_paths)
        for lo in range(c * chunk_size, last, BLOCK_PATHS):
            simulate_block(
                gen,
                gen_evt,
                lo,
                min(lo + BLOCK_PATHS, last),
                par,
                stp,
                tgt,
                out,
                fires,
                first_fire,
                trace_path,
                trace,
                lane,
                st,
            )
