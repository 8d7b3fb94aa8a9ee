"""Metrics of a stress run: shortfall distribution, controls, cost-prediction error, risk metrics.

Definitions (per scenario and model; an *order-path* is one order on one simulated path, the
*book* is all orders on the same path index)
---------------------------------------------------------------------------------------------
shortfall
    Implementation shortfall of the book per path, in currency (sum over orders) and in bps of
    the book's arrival notional. Reported as mean, std, p50, p95 and CVaR95 (the mean of the
    worst 5% of paths, i.e. the highest costs). It is split (bps) into the execution cost of
    the fills vs arrival and the opportunity cost of unfilled shares marked at the mid at the
    end of the schedule.
unfilled
    Arrival value of the unfilled shares over the book notional, per path.
control rates
    Fraction of order-paths on which a control's condition was met at least once, and the mean
    number of steps per order-path at which it was.
cost error
    Per order, the mean realised shortfall (bps) minus the model's ``predicted_cost_bps``; the
    mean error and the mean absolute error over orders.
realised slippage
    ``side * (average fill price - arrival) / arrival`` per order-path (fraction).
market impact cost
    ``side * sum n (P - M_before) / sum n M_before`` per order-path (fraction): the premium the
    fills paid over the mid just before each trade (half spread + temporary impact).
max participation (5 min)
    Maximum, over consecutive 5-minute windows from the order's start, of our volume over
    market volume, per order-path (fraction).
fill-price variance ratio
    Fill-weighted variance of fill prices over its expected value under the pre-trade
    ("historical") volatility with no impact and no spread, for the same fill times and sizes,
    per order-path with at least two fills. About 1 in a calm market at the pre-trade
    volatility; above 1 when volatility rises or impact moves prices.
information leakage
    Pooled Pearson correlation, over every live step of every order-path, between our
    participation in the step (trade / market volume) and the adverse mid move that follows
    it (``side * (M_after - M_before) / M_before``), clipped to [0, 1]. 0 means prices do not
    move with our trading rate more than noise explains; near 1 the order is plain to see.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from validation.stress.kernels import CONTROL_NAMES
from validation.stress.results import SimulationResult

__all__ = [
    "DISTRIBUTION_UNITS",
    "Distribution",
    "ScenarioMetrics",
    "cvar",
    "book_shortfall",
    "compute_metrics",
    "leakage_score",
    "json_ready",
]


#: Unit of each :class:`Distribution` field of :class:`ScenarioMetrics`, in field order.
DISTRIBUTION_UNITS = {
    "shortfall_bps": "bps",
    "shortfall_ccy": "currency",
    "execution_cost_bps": "bps",
    "opportunity_cost_bps": "bps",
    "unfilled_fraction": "fraction",
    "realised_slippage": "fraction",
    "market_impact_cost": "fraction",
    "max_participation_5min": "fraction",
    "fill_price_variance_ratio": "ratio",
}


def cvar(x: np.ndarray, level: float = 0.95) -> float:
    """Mean of the worst ``1 - level`` share of ``x`` (highest values, i.e. costs).

    Parameters
    ----------
    x
        Samples; NaNs are ignored.
    level
        Confidence level in (0, 1).

    Returns
    -------
    float
        Conditional value at risk; NaN when ``x`` has no finite value.
    """
    v = np.sort(np.asarray(x, dtype=float)[np.isfinite(x)])
    if v.size == 0:
        return math.nan
    k = max(1, math.ceil((1.0 - level) * v.size))
    return float(v[-k:].mean())


@dataclass(frozen=True)
class Distribution:
    """Summary of a sample: mean, std, median, 95th percentile, CVaR95 and count."""

    mean: float
    std: float
    p50: float
    p95: float
    cvar95: float
    n: int

    @classmethod
    def of(cls, x: np.ndarray) -> Distribution:
        """Summarise the finite values of ``x`` (all NaN when there are none)."""
        v = np.asarray(x, dtype=float)
        v = v[np.isfinite(v)]
        if v.size == 0:
            nan = math.nan
            return cls(nan, nan, nan, nan, nan, 0)
        return cls(
            mean=float(v.mean()),
            std=float(v.std(ddof=1)) if v.size > 1 else 0.0,
            p50=float(np.percentile(v, 50)),
            p95=float(np.percentile(v, 95)),
            cvar95=cvar(v),
            n=int(v.size),
        )


def leakage_score(moments: np.ndarray) -> float:
    """Pooled correlation of participation and subsequent adverse moves, clipped to [0, 1].

    Parameters
    ----------
    moments
        Rows of per-path sums ``(count, x, y, x^2, y^2, xy)``.

    Returns
    -------
    float
        The score; 0 when either variable has no variance.
    """
    s = np.asarray(moments, dtype=float).reshape(-1, 6).sum(axis=0)
    n = s[0]
    if n < 2:
        return 0.0
    mx, my = s[1] / n, s[2] / n
    vx = s[3] / n - mx * mx
    vy = s[4] / n - my * my
    cov = s[5] / n - mx * my
    if vx <= 1e-300 or vy <= 1e-300:
        return 0.0
    corr = cov / math.sqrt(vx * vy)
    if vx <= 1e-12 * (s[3] / n) or not math.isfinite(corr):
        return 0.0  # participation constant up to rounding
    return float(min(1.0, max(0.0, corr)))


@dataclass
class ScenarioMetrics:
    """Metrics of one model under one scenario (see the module docstring for definitions).

    Use :meth:`to_dict` for a JSON-ready dictionary.
    """

    scenario: str
    model: str
    n_orders: int
    n_paths: int
    shortfall_bps: Distribution
    shortfall_ccy: Distribution
    execution_cost_bps: Distribution
    opportunity_cost_bps: Distribution
    unfilled_fraction: Distribution
    paths_with_unfilled: float
    control_rates: dict[str, float]
    control_steps: dict[str, float]
    cost_error_mean_bps: float
    cost_error_mae_bps: float
    cost_error_by_order: dict[str, dict[str, float]]
    realised_slippage: Distribution
    market_impact_cost: Distribution
    max_participation_5min: Distribution
    fill_price_variance_ratio: Distribution
    information_leakage: float

    def to_dict(self) -> dict[str, Any]:
        """Return the metrics as plain Python types (NaN becomes ``None``)."""
        return json_ready(asdict(self))


def json_ready(value: Any) -> Any:
    """Convert NumPy scalars to Python and NaN/inf to ``None``, recursively."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def book_shortfall(sims: Sequence[SimulationResult]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Book-level shortfall per path (currency and bps) and unfilled fraction of notional.

    Parameters
    ----------
    sims
        One result per order, all with the same number of paths.

    Returns
    -------
    tuple of numpy.ndarray
        ``(cost_ccy, cost_bps, unfilled_fraction)``, one value per path.
    """
    notional = sum(s.notional for s in sims)
    book_ccy = np.sum([s.cost for s in sims], axis=0)
    unfilled = np.sum([s.unfilled * s.s0 for s in sims], axis=0) / notional
    return book_ccy, book_ccy / notional * 1e4, unfilled


def compute_metrics(
    scenario: str,
    model: str,
    order_ids: Sequence[str],
    sims: Sequence[SimulationResult],
    predicted_bps: Sequence[float],
) -> ScenarioMetrics:
    """Compute the metrics of a book of orders simulated on the same path indices.

    Parameters
    ----------
    scenario, model
        Names for the record.
    order_ids
        Order identifiers, aligned with ``sims``.
    sims
        One :class:`~validation.stress.results.SimulationResult` per order, same ``n_paths``.
    predicted_bps
        The model's predicted cost per order (bps).

    Returns
    -------
    ScenarioMetrics
        Metrics of the scenario and model.
    """
    n_paths = sims[0].n_paths
    notional = sum(s.notional for s in sims)
    book_ccy, book_bps, unfilled = book_shortfall(sims)
    counts = np.concatenate([s.control_counts for s in sims], axis=0)
    by_order = {}
    errors = []
    for oid, sim, pred in zip(order_ids, sims, predicted_bps, strict=True):
        realised = float(sim.cost_bps.mean())
        err = realised - float(pred)
        errors.append(err)
        by_order[str(oid)] = {
            "predicted_bps": float(pred),
            "realised_mean_bps": realised,
            "realised_p95_bps": float(np.percentile(sim.cost_bps, 95)),
            "error_bps": err,
        }
    return ScenarioMetrics(
        scenario=scenario,
        model=model,
        n_orders=len(sims),
        n_paths=n_paths,
        shortfall_bps=Distribution.of(book_bps),
        shortfall_ccy=Distribution.of(book_ccy),
        execution_cost_bps=Distribution.of(
            np.sum([s.execution_cost for s in sims], axis=0) / notional * 1e4
        ),
        opportunity_cost_bps=Distribution.of(
            np.sum([s.opportunity_cost for s in sims], axis=0) / notional * 1e4
        ),
        unfilled_fraction=Distribution.of(unfilled),
        paths_with_unfilled=float(np.mean(unfilled > 1e-12)),
        control_rates={
            n: float(v) for n, v in zip(CONTROL_NAMES, (counts > 0).mean(axis=0), strict=True)
        },
        control_steps={
            n: float(v) for n, v in zip(CONTROL_NAMES, counts.mean(axis=0), strict=True)
        },
        cost_error_mean_bps=float(np.mean(errors)),
        cost_error_mae_bps=float(np.mean(np.abs(errors))),
        cost_error_by_order=by_order,
        realised_slippage=Distribution.of(np.concatenate([s.slippage for s in sims])),
        market_impact_cost=Distribution.of(np.concatenate([s.impact_cost for s in sims])),
        max_participation_5min=Distribution.of(np.concatenate([s.max_participation for s in sims])),
        fill_price_variance_ratio=Distribution.of(np.concatenate([s.fill_var_ratio for s in sims])),
        information_leakage=leakage_score(np.concatenate([s.leak_moments for s in sims])),
    )
