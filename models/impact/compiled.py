"""The impact policy compiled for one order at a time: what an execution engine calls.

:meth:`ImpactFamily.decide` scores a table of orders through the model's ``predict``; through
the MLflow pyfunc that costs milliseconds for one order, mostly pandas and schema checks.
Here the candidate's residual booster is flattened once into arrays (:class:`TreeEnsemble`)
and one order's whole decision, the law at the ten horizons of the grid included, is one
call into a numba kernel (:func:`models.impact.decision_kernels.decide_order`): a few microseconds.
Same features, same tree semantics (missing values and default directions as LightGBM), same
sum order, same law, same policy: the booster's correction is LightGBM's to the bit, the
law's powers are the C library's ``pow`` where NumPy's vectorised one can differ in the last
bit, so predicted costs agree to 1e-12 (tests compare them, and the horizons, on many
orders; a horizon could differ only where two horizons' objectives tie to the last bit).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from models.family import CompiledPolicy
from models.impact import decision_kernels as kernels
from models.impact.law import ImpactLaw
from vocabulary import SESSION_MINUTES

if TYPE_CHECKING:
    import lightgbm as lgb

__all__ = ["DECISION_COLUMNS", "CompiledImpactPolicy", "TreeEnsemble"]

#: Fields of one order, in the order :meth:`CompiledImpactPolicy.decide_one` takes them.
DECISION_COLUMNS = ("qty", "adv", "daily_vol", "spread_bps", "shares_outstanding")

#: Objectives whose raw score is the prediction (no link function to apply).
_IDENTITY_OBJECTIVES = frozenset(
    {"regression", "regression_l1", "huber", "fair", "quantile", "mape"}
)
#: ``dump_model`` writes thresholds at least this large as this (its ``AvoidInf``).
_AVOID_INF = 1e300
#: Leaves of a tree are bits of one int64 mask.
_MAX_LEAVES = 64
_MISSING_FLAGS = {"None": 0, "Zero": kernels.MISSING_ZERO, "NaN": kernels.MISSING_NAN}
_NODE_DTYPE = np.dtype(
    [
        ("feature", np.int64),
        ("threshold", np.float64),
        ("tree", np.int64),
        ("keep", np.int64),
        ("flags", np.int64),
    ]
)


@dataclass(frozen=True)
class TreeEnsemble:
    """A LightGBM regression ensemble as the arrays of :mod:`models.impact.decision_kernels`.

    Build it with :meth:`from_lightgbm`; the layout is described in the kernels' module.
    """

    feature_names: tuple[str, ...]
    node_threshold: np.ndarray
    node_data: np.ndarray
    feature_index: np.ndarray
    checkpoints: np.ndarray
    leaf_value: np.ndarray

    @property
    def n_trees(self) -> int:
        """Number of trees."""
        return self.leaf_value.shape[0]

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The arrays in the order the kernels take them."""
        return (
            self.node_threshold,
            self.node_data,
            self.feature_index,
            self.checkpoints,
            self.leaf_value,
        )

    @classmethod
    def from_lightgbm(cls, booster: lgb.Booster) -> TreeEnsemble:
        """Flatten ``booster``'s trees (the iterations its ``predict`` uses by default).

        Raises
        ------
        ValueError
            If the booster is not a single-output regression on numerical splits with
            identity output, or a tree has more than 64 leaves: its predictions would not
            be its raw scores, or the kernels could not represent it.
        """
        dump = booster.dump_model()
        objective = str(dump["objective"]).split()
        if (
            dump["num_tree_per_iteration"] != 1
            or dump.get("average_output", False)
            or not objective
            or objective[0] not in _IDENTITY_OBJECTIVES
            or "sqrt" in objective
        ):
            raise ValueError(
                f"can compile a single-output regression booster whose prediction is its raw "
                f"score (objective one of {sorted(_IDENTITY_OBJECTIVES)}, no sqrt transform, "
                f"no averaging); got objective {dump['objective']!r}, "
                f"{dump['num_tree_per_iteration']} trees per iteration, "
                f"average_output {dump.get('average_output', False)}"
            )
        nodes: list[tuple[int, float, int, int, int]] = []
        leaves: list[list[float]] = []
        for t, tree in enumerate(dump["tree_info"]):
            leaves.append([])
            _flatten(tree["tree_structure"], t, nodes, leaves[t])
            if len(leaves[t]) > _MAX_LEAVES:
                raise ValueError(
                    f"tree {t} has {len(leaves[t])} leaves; the compiled ensemble supports at "
                    f"most {_MAX_LEAVES} (num_leaves <= {_MAX_LEAVES})"
                )
        table = np.sort(np.array(nodes, dtype=_NODE_DTYPE), order=["feature", "threshold"])
        node_data = np.column_stack([table["tree"], table["keep"], table["flags"]])
        n_features = len(dump["feature_names"])
        node_start = np.searchsorted(table["feature"], np.arange(n_features + 1))
        checkpoints = _checkpoints(node_data, node_start, len(leaves))
        # Slots past a tree's last leaf are never read (its lowest live bit is a leaf).
        leaf_value = np.full((len(leaves), max(map(len, leaves), default=1)), np.nan)
        for t, values in enumerate(leaves):
            leaf_value[t, : len(values)] = values
        return cls(
            feature_names=tuple(dump["feature_names"]),
            node_threshold=np.ascontiguousarray(table["threshold"]),
            node_data=np.ascontiguousarray(node_data, dtype=np.int64),
            feature_index=np.vstack(
                [node_start, np.cumsum([0, *(np.diff(node_start) // kernels.CHECKPOINT_NODES)])]
            ).astype(np.int64),
            checkpoints=checkpoints,
            leaf_value=leaf_value,
        )

    def predict(self, features: np.ndarray | pd.DataFrame) -> np.ndarray:
        """Raw prediction per row, equal to the booster's ``predict`` (NaN allowed).

        Raises
        ------
        ValueError
            If ``features`` does not have one column per feature (by name, for a frame).
        """
        if isinstance(features, pd.DataFrame) and tuple(features.columns) != self.feature_names:
            raise ValueError(
                f"columns must be {list(self.feature_names)}, got {list(features.columns)}"
            )
        x = np.ascontiguousarray(features, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.feature_names):
            raise ValueError(
                f"features must be 2-D with {len(self.feature_names)} columns, got shape {x.shape}"
            )
        return kernels.predict_rows(x, *self.arrays())


def _flatten(
    node: dict[str, Any],
    tree: int,
    nodes: list[tuple[int, float, int, int, int]],
    leaves: list[float],
) -> int:
    """Append ``node``'s split nodes and its tree's leaves (left to right); return its leaves."""
    if "leaf_value" in node:
        if "leaf_coeff" in node:
            raise ValueError(f"tree {tree} is a linear tree; only constant leaves compile")
        leaves.append(float(node["leaf_value"]))
        return 1
    if node["decision_type"] != "<=":
        raise ValueError(
            f"tree {tree}: split {node['split_index']} is {node['decision_type']!r} "
            f"(categorical); only numerical '<=' splits compile"
        )
    start = len(leaves)
    n_left = _flatten(node["left_child"], tree, nodes, leaves)
    n_right = _flatten(node["right_child"], tree, nodes, leaves)
    # A left subtree never holds the tree's last leaf, so bit 63 is clear and the complement
    # fits an int64 (the kernels hold masks as int64).
    keep = ~(((1 << n_left) - 1) << start)
    flags = _MISSING_FLAGS[node["missing_type"]] | (
        kernels.DEFAULT_LEFT if node["default_left"] else 0
    )
    threshold = float(node["threshold"])
    # The dump writes an infinite threshold (the split of the NaN bin) as +-1e300 (LightGBM's
    # AvoidInf); the model file and predict keep it infinite.
    if abs(threshold) >= _AVOID_INF:
        threshold = math.copysign(math.inf, threshold)
    nodes.append((int(node["split_feature"]), threshold, tree, keep, flags))
    return n_left + n_right


def _checkpoints(node_data: np.ndarray, node_start: np.ndarray, n_trees: int) -> np.ndarray:
    """Per feature, the AND of the masks of its first 64, 128, ... nodes (kernels' layout)."""
    rows = []
    for lo, hi in itertools.pairwise(node_start):
        live = np.full(n_trees, -1, dtype=np.int64)
        for i in range(lo, hi):
            live[node_data[i, 0]] &= node_data[i, 1]
            if (i - lo + 1) % kernels.CHECKPOINT_NODES == 0:
                rows.append(live.copy())
    return np.array(rows, dtype=np.int64).reshape(len(rows), n_trees)


class CompiledImpactPolicy(CompiledPolicy):
    """:meth:`ImpactFamily.decide` for one order, in one numba call.

    Built by :meth:`models.impact.ImpactFamily.compile`; the first call's compilation (or
    the load of numba's cache) happens here, so that no order waits for it.

    Parameters
    ----------
    law : ImpactLaw
        The candidate's fitted cost law.
    ensemble : TreeEnsemble
        The candidate's residual booster; its features must be
        :data:`models.impact.decision_kernels.KERNEL_FEATURES`.
    grid_minutes : sequence of float
        The horizons the policy chooses from.
    risk_aversion, max_participation : float
        The policy's parameters (see :class:`models.impact.ImpactFamily`).

    Raises
    ------
    ValueError
        If the ensemble's features are not the ones the kernel computes, or the grid is not
        positive and strictly increasing.
    """

    argument_names = (*DECISION_COLUMNS, "start_minute")
    decision_names = ("horizon_minutes", "predicted_cost_bps")

    def __init__(
        self,
        law: ImpactLaw,
        ensemble: TreeEnsemble,
        grid_minutes: Sequence[float],
        risk_aversion: float,
        max_participation: float,
    ) -> None:
        if ensemble.feature_names != kernels.KERNEL_FEATURES:
            raise ValueError(
                f"the compiled decision computes features {list(kernels.KERNEL_FEATURES)}, "
                f"the model expects {list(ensemble.feature_names)}"
            )
        grid = np.asarray(grid_minutes, dtype=float)
        if grid.size == 0 or not grid[0] > 0 or not np.all(np.diff(grid) > 0):
            raise ValueError(
                f"grid_minutes must be positive and increase strictly, got {list(grid_minutes)}"
            )
        # The same division as the batch path, so horizon_days has the same bits.
        grid_days = grid / SESSION_MINUTES
        parameters = np.array([getattr(law, name) for name in kernels.LAW_PARAMETERS], float)
        self._arguments = (*ensemble.arrays(), parameters, grid_days, grid)
        self._grid_minutes = tuple(float(m) for m in grid)
        self._risk_aversion = float(risk_aversion)
        self._max_participation = float(max_participation)
        # Compiles the kernel, or loads it from numba's cache, before any real order.
        self.decide_one(1e4, 1e6, 0.02, 5.0, 1e8)

    def decide_one(
        self,
        qty: float,
        adv: float,
        daily_vol: float,
        spread_bps: float,
        shares_outstanding: float,
        start_minute: float = 0.0,
    ) -> tuple[float, float]:
        """The horizon (minutes) the policy picks for one order and its predicted cost (bps).

        ``start_minute`` is the order's arrival in minutes since the open: the horizon must
        end by the close, as in :meth:`ImpactFamily.decide` with a ``start_minute`` column.

        Raises
        ------
        ValueError
            If ``qty``, ``adv`` or ``shares_outstanding`` is not a positive finite number,
            ``daily_vol`` or ``spread_bps`` not a non-negative finite one, or
            ``start_minute`` not within the session.
        """
        # One chained comparison per field: also false for NaN, and cheap next to the kernel.
        if not (
            0.0 < qty < math.inf
            and 0.0 < adv < math.inf
            and 0.0 <= daily_vol < math.inf
            and 0.0 <= spread_bps < math.inf
            and 0.0 < shares_outstanding < math.inf
        ):
            raise ValueError(
                f"an order needs 0 < qty, adv, shares_outstanding < inf and 0 <= daily_vol, "
                f"spread_bps < inf; got qty={qty!r}, adv={adv!r}, daily_vol={daily_vol!r}, "
                f"spread_bps={spread_bps!r}, shares_outstanding={shares_outstanding!r}"
            )
        if not 0.0 <= start_minute <= SESSION_MINUTES:
            raise ValueError(
                f"start_minute must be within the session, 0 to {SESSION_MINUTES} minutes "
                f"after the open, got {start_minute!r}"
            )
        # float(): an int would make numba compile, on the spot, a kernel for int arguments.
        best, cost = kernels.decide_order(
            *self._arguments,
            float(qty),
            float(adv),
            float(daily_vol),
            float(spread_bps),
            float(shares_outstanding),
            SESSION_MINUTES - float(start_minute),
            self._risk_aversion,
            self._max_participation,
        )
        return self._grid_minutes[best], cost

    def arguments(self, orders: pd.DataFrame) -> list[tuple[float, ...]]:
        """The :meth:`decide_one` arguments of each order, ``start_minute`` last if present."""
        columns = [*DECISION_COLUMNS, *(["start_minute"] if "start_minute" in orders else [])]
        return [tuple(row) for row in orders[columns].to_numpy(dtype=float).tolist()]
