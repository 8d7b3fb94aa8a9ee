# One file on purpose: numba's cache sees only the changes of the file a cached function is in,
# so a kernel calling a kernel of another module could run stale code after an edit.
"""Numba kernels of the compiled impact policy: a LightGBM ensemble scored on the horizon grid.

The kernels take only NumPy arrays and scalars; :mod:`models.impact.compiled` builds and
checks the arrays, nothing here validates its arguments.

Ensemble layout
---------------
The trees are evaluated as in QuickScorer (Lucchese et al., SIGIR 2015): per tree, a 64-bit
mask of its leaves, numbered left to right, that the input can still reach. Every split node
whose test is *false* (the input goes right) clears the leaves of its left subtree; the leaf
the input reaches is then the lowest set bit of the mask (every leaf left of it lies in the
left subtree of a node on its path that went right; no such node has it on its left). The
nodes are stored sorted by ``(feature, threshold)``: for an ordinary value ``v`` of feature
``f``, the false nodes of ``f`` are those with ``threshold < v``, a prefix of ``f``'s run,
found by bisection. Every :data:`CHECKPOINT_NODES` nodes of a run, the AND of the masks of
the run so far is stored (a *checkpoint*): a prefix costs one vectorised AND of a checkpoint
and fewer than :data:`CHECKPOINT_NODES` single updates, instead of one update per node.
Arrays, ``N`` split nodes, ``F`` features, ``T`` trees, ``W`` leaves of the largest tree:

``node_threshold`` float64[N]; ``node_data`` int64[N, 3]: the node's tree, the mask to AND
when its test is false (every bit but its left subtree's leaves) and its flags
(:data:`MISSING_ZERO`, :data:`MISSING_NAN`, :data:`DEFAULT_LEFT`); ``feature_index``
int64[2, F + 1]: feature ``f``'s nodes are ``feature_index[0, f]:feature_index[0, f + 1]``,
its checkpoints the rows ``feature_index[1, f]:feature_index[1, f + 1]`` of ``checkpoints``
int64[R, T]; ``leaf_value`` float64[T, W], tree ``t``'s leaves left to right.

A node's test is LightGBM's predictor's: its row conversion keeps only values ``|v| > 1e-35f``
(and NaN), so anything smaller is 0.0; in ``Tree::NumericalDecision`` a NaN is then read as
0.0 unless the node's missing type is NaN; a missing value (NaN for type NaN, 0.0 for type Zero)
goes the node's default way; otherwise ``v <= threshold`` goes left. Only NaN and values within
1e-35 of zero can differ from the plain comparison: for them every node of the feature is
tested one by one. A row's prediction is the sum of its leaves in tree order starting from
0.0, as LightGBM's ``PredictRaw`` adds them, so the result has the same bits.

Decision
--------
:func:`decide_order` computes one order's candidate prediction at every horizon of the grid
as :meth:`models.impact.ImpactFamily.decide` does through
:class:`models.impact.model.LawResidualModel` (same IEEE operations in the same order; no
fastmath, so no contraction into FMAs): the booster's correction once (its features do not
depend on the horizon), the law at each horizon, the floor at zero, then the same policy.
``log`` is the C library's, like NumPy's on the platforms measured (it could differ in the
last bit elsewhere, which changes a split only for a value within one ulp of a threshold);
``pow`` is the C library's too, where NumPy may use a vectorised one that differs in the
last bit: the law's cost can differ by an ulp, never the split of a tree.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = [
    "CHECKPOINT_NODES",
    "DEFAULT_LEFT",
    "KERNEL_FEATURES",
    "MISSING_NAN",
    "MISSING_ZERO",
    "ZERO_THRESHOLD",
    "LAW_PARAMETERS",
    "decide_order",
    "predict_rows",
]

#: Node flag: missing values are zeros (values within :data:`ZERO_THRESHOLD` of zero).
MISSING_ZERO = 1
#: Node flag: missing values are NaN.
MISSING_NAN = 2
#: Node flag: a missing value goes left.
DEFAULT_LEFT = 4
#: LightGBM's ``kZeroThreshold`` (``1e-35f``, a float32 widened to double): its predictor
#: reads a value ``v`` with ``|v| <= ZERO_THRESHOLD`` as 0.0.
ZERO_THRESHOLD = float(np.float32(1e-35))
#: Split nodes between two checkpoints of a feature's run.
CHECKPOINT_NODES = 64
#: Feature order :func:`decide_order` builds, the booster's order (checked on compiling).
KERNEL_FEATURES = ("size_over_adv", "daily_vol", "spread_bps", "log_adv", "turnover_inverse")
#: Order of the law's parameters in the array :func:`decide_order` takes.
LAW_PARAMETERS = (
    "beta",
    "delta",
    "intercept",
    "spread_coef",
    "temporary_coef",
    "permanent_coef",
)


@intrinsic
def _lowest_bit(typingctx, x):
    """Index of the lowest set bit of an int64 (``llvm.cttz``, one instruction)."""
    sig = types.int64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 0))

    return sig, codegen


@njit(inline="always")
def _goes_left(value, threshold, flags):
    """LightGBM's numerical split test: whether ``value`` goes to the left child."""
    if math.isnan(value):
        if flags & MISSING_NAN:
            return (flags & DEFAULT_LEFT) != 0
        value = 0.0
    elif -ZERO_THRESHOLD <= value <= ZERO_THRESHOLD:
        value = 0.0
    if value == 0.0 and flags & MISSING_ZERO:
        return (flags & DEFAULT_LEFT) != 0
    return value <= threshold


@njit(inline="always")
def _ordinary(value):
    """Whether LightGBM's test of ``value`` is the plain ``value <= threshold`` at every node."""
    return not (math.isnan(value) or -ZERO_THRESHOLD <= value <= ZERO_THRESHOLD)


@njit(inline="always")
def _eliminate(live, value, f, node_threshold, node_data, feature_index, checkpoints):
    """Clear, in ``live``, the leaves ``value`` of feature ``f`` cannot reach.

    Returns the end of the run's prefix of false nodes for an ordinary value, -1 otherwise.
    """
    lo, hi = feature_index[0, f], feature_index[0, f + 1]
    if not _ordinary(value):
        for i in range(lo, hi):
            if not _goes_left(value, node_threshold[i], node_data[i, 2]):
                live[node_data[i, 0]] &= node_data[i, 1]
        return -1
    a, b = lo, hi
    while a < b:
        middle = (a + b) >> 1
        if node_threshold[middle] < value:
            a = middle + 1
        else:
            b = middle
    done = (a - lo) // CHECKPOINT_NODES
    if done > 0:
        checkpoint = checkpoints[feature_index[1, f] + done - 1]
        for t in range(live.size):
            live[t] &= checkpoint[t]
    for i in range(lo + done * CHECKPOINT_NODES, a):
        live[node_data[i, 0]] &= node_data[i, 1]
    return a


@njit(cache=True, error_model="numpy", boundscheck=False)
def predict_rows(x, node_threshold, node_data, feature_index, checkpoints, leaf_value):
    """Raw prediction of each row of ``x`` (float64[n, F]), LightGBM's to the bit."""
    n_trees = leaf_value.shape[0]
    out = np.empty(x.shape[0])
    live = np.empty(n_trees, np.int64)
    for r in range(x.shape[0]):
        live[:] = -1
        for f in range(x.shape[1]):
            _eliminate(live, x[r, f], f, node_threshold, node_data, feature_index, checkpoints)
        total = 0.0
        for t in range(n_trees):
            total += leaf_value[t, _lowest_bit(live[t])]
        out[r] = total
    return out


@njit(cache=True, error_model="numpy", boundscheck=False)
def decide_order(
    node_threshold,
    node_data,
    feature_index,
    checkpoints,
    leaf_value,
    law,
    grid_days,
    grid_minutes,
    qty,
    adv,
    daily_vol,
    spread_bps,
    shares_outstanding,
    minutes_left,
    risk_aversion,
    max_participation,
):
    """Index of the grid horizon the policy picks for one order, and its predicted cost (bps).

    ``law`` holds the parameters in the order of :data:`LAW_PARAMETERS`; ``grid_days`` and
    ``grid_minutes`` the horizons as fractions of the session and in minutes. A horizon must
    end within ``minutes_left`` (to the close); when no horizon that does is feasible, the
    longest that does is taken, or the longest of all when none does.
    """
    beta, delta, intercept, spread_coef, temporary_coef, permanent_coef = (
        law[0],
        law[1],
        law[2],
        law[3],
        law[4],
        law[5],
    )
    n_trees = leaf_value.shape[0]
    size_over_adv = qty / adv
    turnover_inverse = shares_outstanding / adv
    live = np.full(n_trees, -1, np.int64)
    thresholds, data, index, marks = node_threshold, node_data, feature_index, checkpoints
    _eliminate(live, size_over_adv, 0, thresholds, data, index, marks)
    _eliminate(live, daily_vol, 1, thresholds, data, index, marks)
    _eliminate(live, spread_bps, 2, thresholds, data, index, marks)
    _eliminate(live, np.log(adv), 3, thresholds, data, index, marks)
    _eliminate(live, turnover_inverse, 4, thresholds, data, index, marks)
    correction = 0.0
    for t in range(n_trees):
        correction += leaf_value[t, _lowest_bit(live[t])]
    # The horizon-free part of the law, grouped as LawResidualModel groups it.
    spread_term = spread_coef * (spread_bps / 2.0)
    permanent = 1e4 * daily_vol * size_over_adv * turnover_inverse**delta
    best = -1
    best_objective = np.inf
    best_cost = np.nan
    k = grid_days.size
    last_fit = -1
    last_fit_cost = np.nan
    cost = np.nan
    for h in range(k):
        participation = qty / (adv * grid_days[h])
        temporary = 1e4 * daily_vol * participation**beta
        law_cost = intercept + spread_term + temporary_coef * temporary + permanent_coef * permanent
        cost = max(law_cost + correction, 0.0)
        fits = grid_minutes[h] <= minutes_left + 1e-9
        if fits:
            last_fit, last_fit_cost = h, cost
        if fits and participation <= max_participation and np.isfinite(cost):
            objective = cost + risk_aversion * (1e4 * daily_vol * np.sqrt(grid_days[h] / 3.0))
            # Strictly lower: ties keep the shorter horizon, as argmin keeps the first.
            if best < 0 or objective < best_objective:
                best, best_objective, best_cost = h, objective, cost
    if best >= 0:
        return best, best_cost
    if last_fit >= 0:
        return last_fit, last_fit_cost
    return k - 1, cost  # nothing ends by the close: the longest, as the batch path takes
