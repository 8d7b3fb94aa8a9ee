"""Metrics of a stress run: shortfall, completion, controls, cost error and the risk metrics.

Definitions (per scenario and model; an *order-path* is one order on one simulated path, the
*book* is all orders on the same path index)
---------------------------------------------------------------------------------------------
shortfall
    Implementation shortfall of the book per path, in currency (sum over orders) and in bps of
    the book's arrival notional, every order completed: mean, std, p50, p95 and CVaR95 (the
    mean of the worst 5% of paths). Split (bps) into the execution cost of the algorithm's
    fills and the completion cost of what the backstop finished, both against arrival.
loss budget
    The book's pre-trade loss budget (bps): the notional-weighted mean of its orders' kill
    switch levels (:func:`~validation.stress.runner.loss_budget_bps`: the desk's law's cost
    of the order plus three standard deviations of the rest of its session, from its
    observables alone, never below the controls' ``max_loss_bps`` floor, 150 bps by default);
    ``cvar95_over_budget`` is the CVaR95 of the shortfall over it.
completion share
    Arrival value of what the schedules left for completion (worked on after their horizon,
    or completed by the backstop) over the book notional, per path.
control rates
    Fraction of order-paths on which a control bound at least once, the mean number of steps
    per order-path at which it did, and the share of all live steps at which it did (how
    often the control binds).
cost error
    Per order, the mean realised shortfall (bps) minus the model's ``predicted_cost_bps``.

The five risk metrics of the background essay, per order-path, each with its alert and
action level (:data:`ESSAY_RISK_LEVELS` unless the configuration sets others):

realised_slippage
    ``side * (average price - interval VWAP) / interval VWAP``, completion included, less half
    the order's arrival spread (as market impact, below); the VWAP is the market's volume at
    the mid plus our fills over the order's interval.
market_impact
    ``side * sum n (P - M_before) / sum n M_before`` over every fill, completion included:
    what the fills paid over the mid just before them, less half the order's arrival
    spread. That half spread is the price of immediacy every child order pays whatever its
    size; the essay's levels (0.05 % / 0.15 %) would leave a name quoted 14 bps wide 0.8 bps
    of room, so they are applied to what the order adds to it (a per-order calibration).
participation_5min
    Largest rolling 5-minute participation the *schedule requested*, ours over market plus
    ours, before any control clipped it (the cap is a safety net, not a licence).
fill_price_dispersion
    Standard deviation of the algorithm's fill prices over its historical level: the
    fill-weighted standard deviation under the pre-trade volatility with no impact and no
    spread, for the same fill times and sizes (about 1 in a calm market).
information_leakage
    Per order, the correlation, over the live steps of all its paths, of our participation
    in a step with the adverse mid move during it, clipped to [0, 1]. It moves when other
    participants react to what they see (a scenario's ``leakage``).

For each, :class:`RiskMetricValue` gives the 95th percentile over order-paths (the worst
order for leakage) and the share of order-paths (of orders, for leakage) above the alert
and above the action level: the gates judge these exceedance rates, not means. An
order-path without a value counts as above: nothing filled, or a dispersion with fills in
one step only (no reference to compare with).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from validation.stress.controls import CONTROL_NAMES
from validation.stress.results import SimulationResult

__all__ = [
    "DISTRIBUTION_UNITS",
    "ESSAY_RISK_LEVELS",
    "Distribution",
    "RiskMetricValue",
    "ScenarioMetrics",
    "book_shortfall",
    "compute_metrics",
    "cvar",
    "json_ready",
    "leakage_score",
]

#: The background essay's alert and action levels of the five risk metrics: slippage 0.10 % /
#: 0.25 %, market impact 0.05 % / 0.15 %, participation 15 % / 25 % in 5 minutes, fill-price
#: standard deviation 2x / 3x its historical level, leakage score 0.75 / 0.90.
ESSAY_RISK_LEVELS: dict[str, tuple[float, float]] = {
    "realised_slippage": (0.0010, 0.0025),
    "market_impact": (0.0005, 0.0015),
    "participation_5min": (0.15, 0.25),
    "fill_price_dispersion": (2.0, 3.0),
    "information_leakage": (0.75, 0.90),
}

#: Unit of each :class:`Distribution` field of :class:`ScenarioMetrics`, in field order.
DISTRIBUTION_UNITS = {
    "shortfall_bps": "bps",
    "shortfall_ccy": "currency",
    "execution_cost_bps": "bps",
    "completion_cost_bps": "bps",
    "completion_share": "fraction",
    "realised_slippage": "fraction",
    "market_impact": "fraction",
    "participation_5min": "fraction",
    "realised_participation_5min": "fraction",
    "fill_price_dispersion": "ratio",
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


@dataclass(frozen=True)
class RiskMetricValue:
    """A risk metric against its levels: its p95 and how often the levels were exceeded.

    ``alert_rate`` and ``action_rate`` are shares of order-paths (of orders for leakage) above
    ``alert`` and ``action``; an order-path with no value (nothing filled) counts as above.
    """

    value: float
    alert: float
    action: float
    alert_rate: float
    action_rate: float
    n: int

    @classmethod
    def of(
        cls, x: np.ndarray, alert: float, action: float, *, worst: bool = False
    ) -> RiskMetricValue:
        """Judge per-order-path values ``x`` against ``alert`` and ``action``."""
        v = np.asarray(x, dtype=float)
        if v.size == 0:
            return cls(math.nan, alert, action, math.nan, math.nan, 0)
        finite = v[np.isfinite(v)]
        value = math.nan
        if finite.size:
            value = float(finite.max() if worst else np.percentile(finite, 95))
        with np.errstate(invalid="ignore"):
            above_alert = ~(v <= alert)
            above_action = ~(v <= action)
        return cls(
            value=value,
            alert=alert,
            action=action,
            alert_rate=float(above_alert.mean()),
            action_rate=float(above_action.mean()),
            n=int(v.size),
        )


def leakage_score(moments: np.ndarray) -> float:
    """Pooled correlation of participation and the adverse move during it, clipped to [0, 1].

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
    completion_cost_bps: Distribution
    completion_share: Distribution
    paths_with_completion: float
    loss_budget_bps: float
    cvar95_over_budget: float
    control_rates: dict[str, float]
    control_steps: dict[str, float]
    control_step_share: dict[str, float]
    cost_error_mean_bps: float
    cost_error_mae_bps: float
    cost_error_by_order: dict[str, dict[str, float]]
    realised_slippage: Distribution
    market_impact: Distribution
    participation_5min: Distribution
    realised_participation_5min: Distribution
    fill_price_dispersion: Distribution
    information_leakage: float
    leakage_by_order: dict[str, float]
    risk_metrics: dict[str, RiskMetricValue]

    def to_dict(self) -> dict[str, Any]:
        """Return the metrics as plain Python types (NaN becomes ``None``)."""
        return json_ready(asdict(self))

    def headline(self) -> dict[str, Any]:
        """What a validator's what-if question needs, JSON-ready.

        Costs (completion included), the share left for completion, how often each control
        acted, and the risk metrics with their exceedance rates.
        """
        return json_ready(
            {
                "mean_cost_bps": self.shortfall_bps.mean,
                "cvar95_cost_bps": self.shortfall_bps.cvar95,
                "completion_share": self.completion_share.mean,
                "control_rates": self.control_rates,
                "risk_metrics": {
                    name: {
                        "value": r.value,
                        "alert_rate": r.alert_rate,
                        "action_rate": r.action_rate,
                    }
                    for name, r in self.risk_metrics.items()
                },
            }
        )


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
    """Book-level shortfall per path (currency and bps) and completed share of notional.

    Parameters
    ----------
    sims
        One result per order, all with the same number of paths.

    Returns
    -------
    tuple of numpy.ndarray
        ``(cost_ccy, cost_bps, completion_share)``, one value per path.
    """
    notional = sum(s.notional for s in sims)
    book_ccy = np.sum([s.cost for s in sims], axis=0)
    completed = np.sum([s.completion_share * s.notional for s in sims], axis=0) / notional
    return book_ccy, book_ccy / notional * 1e4, completed


def _per_order_path(sims: Sequence[SimulationResult], attribute: str) -> np.ndarray:
    return np.concatenate([getattr(s, attribute) for s in sims])


#: Risk metric -> the attribute of :class:`SimulationResult` holding its per-path value.
_PER_ORDER_PATH_RISKS = {
    "realised_slippage": "slippage_beyond_half_spread",
    "market_impact": "impact_beyond_half_spread",
    "participation_5min": "max_requested_participation",
    "fill_price_dispersion": "fill_std_ratio",
}


def _risk_values(
    per_order_path: Mapping[str, np.ndarray],
    leakage: np.ndarray,
    levels: Mapping[str, tuple[float, float]],
) -> dict[str, RiskMetricValue]:
    values = {
        name: RiskMetricValue.of(per_order_path[name], *levels[name])
        for name in _PER_ORDER_PATH_RISKS
    }
    values["information_leakage"] = RiskMetricValue.of(
        leakage, *levels["information_leakage"], worst=True
    )
    return values


def compute_metrics(
    scenario: str,
    model: str,
    order_ids: Sequence[str],
    sims: Sequence[SimulationResult],
    predicted_bps: Sequence[float],
    levels: Mapping[str, tuple[float, float]] = ESSAY_RISK_LEVELS,
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
    levels
        Alert and action level of each risk metric.

    Returns
    -------
    ScenarioMetrics
        Metrics of the scenario and model.
    """
    n_paths = sims[0].n_paths
    notional = sum(s.notional for s in sims)
    book_ccy, book_bps, completed = book_shortfall(sims)
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
    leakage = np.array([leakage_score(s.leak_moments) for s in sims])
    risks = {name: _per_order_path(sims, attr) for name, attr in _PER_ORDER_PATH_RISKS.items()}
    live_steps = float(sum(s.leak_moments[:, 0].sum() for s in sims))
    budget = sum(s.notional * s.max_loss_bps for s in sims) / notional
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
        completion_cost_bps=Distribution.of(
            np.sum([s.completion_cost for s in sims], axis=0) / notional * 1e4
        ),
        completion_share=Distribution.of(completed),
        paths_with_completion=float(np.mean(completed > 1e-12)),
        loss_budget_bps=budget,
        cvar95_over_budget=cvar(book_bps) / budget,
        control_rates={
            n: float(v) for n, v in zip(CONTROL_NAMES, (counts > 0).mean(axis=0), strict=True)
        },
        control_steps={
            n: float(v) for n, v in zip(CONTROL_NAMES, counts.mean(axis=0), strict=True)
        },
        control_step_share={
            n: float(v)
            for n, v in zip(CONTROL_NAMES, counts.sum(axis=0) / max(live_steps, 1.0), strict=True)
        },
        cost_error_mean_bps=float(np.mean(errors)),
        cost_error_mae_bps=float(np.mean(np.abs(errors))),
        cost_error_by_order=by_order,
        realised_slippage=Distribution.of(risks["realised_slippage"]),
        market_impact=Distribution.of(risks["market_impact"]),
        participation_5min=Distribution.of(risks["participation_5min"]),
        realised_participation_5min=Distribution.of(_per_order_path(sims, "max_participation")),
        fill_price_dispersion=Distribution.of(risks["fill_price_dispersion"]),
        information_leakage=float(leakage.max()),
        leakage_by_order={str(o): float(v) for o, v in zip(order_ids, leakage, strict=True)},
        risk_metrics=_risk_values(risks, leakage, levels),
    )
