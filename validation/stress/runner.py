"""Run stress orders through scenarios for one or more models and collect the results.

Typical use (champion vs challenger on the shipped library)::

    from validation.stress import StressConfig, load_scenarios, run_stress

    report = run_stress({"champion": champion_orders, "challenger": challenger_orders},
                        load_scenarios(), StressConfig(n_paths=10_000, seed=7))
    report.summary()          # tidy DataFrame: scenario, model, metric, statistic, unit, value
    report.paired("champion", "challenger")   # paired differences on common random numbers
    report.to_dict()          # JSON-ready

Each order is simulated by :func:`validation.stress.market.simulate` with the power-law impact
of Almgren et al. (2005) (parameters in :class:`StressConfig`), its own volatility, ADV and
spread, the scenario's departures from them, and the configured risk controls. Its random
streams derive from ``(seed, order_id)``, and by default every order is simulated from its
start to the close whatever its horizon, so two models' schedules for the same order see the
same market shocks and their difference is paired.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from validation.stress._base import StrictModel
from validation.stress.errors import StressInputError
from validation.stress.market import (
    SESSION_MINUTES,
    Controls,
    MarketModel,
    PathTrace,
    SimulationResult,
    simulate,
)
from validation.stress.metrics import (
    Distribution,
    ScenarioMetrics,
    book_shortfall,
    compute_metrics,
    json_ready,
)
from validation.stress.orders import schedule_holdings, validate_orders
from validation.stress.scenarios import Scenario, ScenarioLibrary, load_scenarios

__all__ = [
    "StressConfig",
    "OrderResult",
    "ScenarioResult",
    "StressReport",
    "order_market",
    "run_scenario",
    "run_stress",
    "trace_order",
]


class StressConfig(StrictModel):
    """Configuration of a stress run (frozen; unknown fields are refused).

    Parameters
    ----------
    n_paths, seed
        Simulated paths per order and scenario, and the seed of the random streams.
    step_minutes, session_minutes
        Simulation step and session length (one trading day).
    dynamics
        ``"geometric"`` (default) or ``"arithmetic"`` price paths.
    eta, beta, gamma, delta, theta_over_v
        Almgren et al. (2005) impact law; ``beta = 1`` makes temporary impact linear in
        participation. ``theta_over_v`` (shares outstanding / ADV) is used for orders without
        a ``shares_outstanding`` column.
    volume_profile, volume_noise
        Intraday market volume curve and its log-normal noise per step.
    participation_window_minutes
        Window of the maximum-participation metric (5 minutes).
    controls
        Risk controls in force.
    simulate_to_close
        Simulate every order from its start to the close (True, the default: schedules of
        different horizons share market shocks) or only over its own horizon (faster; common
        random numbers then hold only between equal horizons).
    """

    n_paths: int = Field(10_000, ge=1)
    seed: int = Field(0, ge=0)
    step_minutes: float = Field(1.0, gt=0, allow_inf_nan=False)
    session_minutes: float = Field(SESSION_MINUTES, gt=0, allow_inf_nan=False)
    dynamics: Literal["arithmetic", "geometric"] = "geometric"
    eta: float = Field(0.142, ge=0, allow_inf_nan=False)
    beta: float = Field(0.6, gt=0, le=2, allow_inf_nan=False)
    gamma: float = Field(0.314, ge=0, allow_inf_nan=False)
    delta: float = Field(0.25, ge=0, allow_inf_nan=False)
    theta_over_v: float = Field(1.0, gt=0, allow_inf_nan=False)
    volume_profile: Literal["flat", "u_shape"] = "u_shape"
    volume_noise: float = Field(0.25, ge=0, le=2, allow_inf_nan=False)
    participation_window_minutes: float = Field(5.0, gt=0, allow_inf_nan=False)
    controls: Controls = Controls()
    simulate_to_close: bool = True


@dataclass
class OrderResult:
    """One order's simulation under a scenario."""

    order_id: str
    side: float
    quantity: float
    arrival_price: float
    predicted_cost_bps: float
    sim: SimulationResult


@dataclass
class ScenarioResult:
    """A model's book of orders under one scenario.

    Attributes
    ----------
    scenario, model
        Names.
    orders
        Per-order simulations.
    metrics
        :class:`~validation.stress.metrics.ScenarioMetrics` (JSON-ready via ``to_dict``).
    book_cost, book_cost_bps, book_unfilled
        Book-level shortfall per path (currency, bps of notional) and unfilled fraction.
    """

    scenario: str
    model: str
    orders: list[OrderResult]
    metrics: ScenarioMetrics
    book_cost: np.ndarray
    book_cost_bps: np.ndarray
    book_unfilled: np.ndarray

    def orders_frame(self) -> pd.DataFrame:
        """Per-order table: predicted vs realised cost, unfilled remainder, halts."""
        rows = []
        for o in self.orders:
            s = o.sim
            rows.append(
                {
                    "scenario": self.scenario,
                    "model": self.model,
                    "order_id": o.order_id,
                    "predicted_cost_bps": o.predicted_cost_bps,
                    "realised_mean_bps": float(s.cost_bps.mean()),
                    "realised_p95_bps": float(np.percentile(s.cost_bps, 95)),
                    "cost_error_bps": float(s.cost_bps.mean()) - o.predicted_cost_bps,
                    "unfilled_mean_fraction": float(s.unfilled.mean() / s.quantity),
                    "halted_fraction": float(np.mean(s.halt_step >= 0)),
                }
            )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready metrics of this scenario and model."""
        return self.metrics.to_dict()


_UNITS = {
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


@dataclass
class StressReport:
    """Results of :func:`run_stress`: every scenario for every model.

    Attributes
    ----------
    results
        ``results[scenario][model]`` -> :class:`ScenarioResult`.
    config
        The configuration used.
    """

    results: dict[str, dict[str, ScenarioResult]]
    config: StressConfig

    @property
    def scenarios(self) -> list[str]:
        """Scenario names in run order."""
        return list(self.results)

    @property
    def models(self) -> list[str]:
        """Model names in run order."""
        first = next(iter(self.results.values()))
        return list(first)

    def __getitem__(self, key: tuple[str, str]) -> ScenarioResult:
        scenario, model = key
        return self.results[scenario][model]

    def summary(self) -> pd.DataFrame:
        """Tidy summary: one row per scenario, model, metric and statistic.

        Returns
        -------
        pandas.DataFrame
            Columns ``scenario, model, metric, statistic, unit, value``.
        """
        rows: list[dict[str, Any]] = []
        for scenario, by_model in self.results.items():
            for model, res in by_model.items():
                m = res.metrics
                items: list[tuple[str, str, str, float]] = []
                for metric, unit in _UNITS.items():
                    dist: Distribution = getattr(m, metric)
                    for stat in ("mean", "p50", "p95", "cvar95"):
                        items.append((metric, stat, unit, getattr(dist, stat)))
                items.append(("paths_with_unfilled", "fraction", "fraction", m.paths_with_unfilled))
                items += [("control_rate", n, "fraction", v) for n, v in m.control_rates.items()]
                items += [("control_steps", n, "steps", v) for n, v in m.control_steps.items()]
                items.append(("cost_error", "mean", "bps", m.cost_error_mean_bps))
                items.append(("cost_error", "mae", "bps", m.cost_error_mae_bps))
                items.append(("information_leakage", "score", "score", m.information_leakage))
                rows += [
                    {
                        "scenario": scenario,
                        "model": model,
                        "metric": metric,
                        "statistic": stat,
                        "unit": unit,
                        "value": float(value),
                    }
                    for metric, stat, unit, value in items
                ]
        return pd.DataFrame(rows)

    def wide(self) -> pd.DataFrame:
        """One row per scenario and model, one column per ``metric/statistic``."""
        tidy = self.summary()
        tidy["column"] = tidy["metric"] + "/" + tidy["statistic"]
        return tidy.pivot_table(
            index=["scenario", "model"], columns="column", values="value", sort=False
        )

    def paired(self, base: str | None = None, other: str | None = None) -> pd.DataFrame:
        """Paired difference ``other - base`` of book shortfall (bps) per scenario.

        Both models are run on the same random numbers, so the difference per path removes
        the common market noise. Reports the mean difference, its paired standard error and
        95% interval, the correlation of the two shortfalls and the standard error an unpaired
        comparison would have had.

        Parameters
        ----------
        base, other
            Model names; default the first and second model.

        Returns
        -------
        pandas.DataFrame
            One row per scenario.
        """
        models = self.models
        if len(models) < 2 and (base is None or other is None):
            raise StressInputError(f"paired() needs two models, got {models}")
        base = base or models[0]
        other = other or models[1]
        rows = []
        for scenario, by_model in self.results.items():
            a = by_model[base].book_cost_bps
            b = by_model[other].book_cost_bps
            d = b - a
            n = d.size
            se = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
            se_unpaired = (
                float(math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / n)) if n > 1 else math.nan
            )
            corr = float(np.corrcoef(a, b)[0, 1]) if n > 1 and a.std() > 0 and b.std() > 0 else 0.0
            rows.append(
                {
                    "scenario": scenario,
                    "base": base,
                    "other": other,
                    "mean_diff_bps": float(d.mean()),
                    "se_bps": se,
                    "ci95_low_bps": float(d.mean() - 1.96 * se),
                    "ci95_high_bps": float(d.mean() + 1.96 * se),
                    "correlation": corr,
                    "se_unpaired_bps": se_unpaired,
                }
            )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready report: config, metrics per scenario and model, paired differences."""
        out: dict[str, Any] = {
            "config": self.config.model_dump(mode="json"),
            "scenarios": {
                s: {m: r.metrics.to_dict() for m, r in by_model.items()}
                for s, by_model in self.results.items()
            },
        }
        if len(self.models) >= 2:
            out["paired"] = json_ready(self.paired().to_dict(orient="records"))
        return out


def order_market(order: Mapping[str, Any] | pd.Series, config: StressConfig) -> MarketModel:
    """Market model of one validated order under ``config``.

    Parameters
    ----------
    order
        A row of :func:`~validation.stress.orders.validate_orders`' output.
    config
        Stress configuration.

    Returns
    -------
    MarketModel
        Power-law impact, the order's volatility, ADV, spread (half paid per share).
    """
    s0 = float(order["arrival_price"])
    vol = float(order["daily_vol"])
    so = float(order.get("shares_outstanding", math.nan))
    theta = so / float(order["adv"]) if math.isfinite(so) else config.theta_over_v
    return MarketModel(
        s0=s0,
        sigma=vol if config.dynamics == "geometric" else vol * s0,
        dynamics=config.dynamics,
        impact="power",
        eta=config.eta,
        gamma=config.gamma,
        beta=config.beta,
        delta=config.delta,
        theta_over_v=theta,
        epsilon=float(order["spread_bps"]) / 2e4 * s0,
        adv=float(order["adv"]),
        volume_profile=config.volume_profile,
        volume_noise=config.volume_noise,
    )


def _resolve_scenario(scenario: Scenario | str) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, str):
        return load_scenarios()[scenario]
    raise StressInputError(
        f"scenario must be a Scenario or a scenario name, got {type(scenario).__name__}"
    )


def _simulate_order(
    order: pd.Series,
    scenario: Scenario,
    config: StressConfig,
    *,
    n_paths: int,
    trace_path: int | None = None,
) -> SimulationResult:
    step, session = config.step_minutes, config.session_minutes
    holdings, pov = schedule_holdings(
        order, step_minutes=step, session_minutes=session, volume_profile=config.volume_profile
    )
    n_steps = int(order["n_steps"])
    tau = step / session
    start = float(order["start_minute"])
    n_window = n_steps
    if config.simulate_to_close:
        n_window = max(n_steps, int(math.floor((session - start) / step + 1e-9)))
    return simulate(
        order_market(order, config),
        holdings,
        horizon=n_steps * tau,
        n_paths=n_paths,
        seed=config.seed,
        side="buy" if order["side"] > 0 else "sell",
        pov_rate=pov,
        controls=config.controls,
        scenario=scenario,
        start_minute=start,
        window=n_window * tau,
        stream=str(order["order_id"]),
        trace_path=trace_path,
        session_minutes=session,
        participation_window_minutes=config.participation_window_minutes,
    )


def run_scenario(
    orders: pd.DataFrame,
    scenario: Scenario | str,
    config: StressConfig | None = None,
    *,
    model: str = "model",
) -> ScenarioResult:
    """Simulate a model's schedules for the stress orders under one scenario.

    Parameters
    ----------
    orders
        Stress orders with the chosen schedule (see :mod:`validation.stress.orders`).
    scenario
        A :class:`~validation.stress.scenarios.Scenario` or the name of a shipped one.
    config
        Run configuration; defaults to ``StressConfig()``.
    model
        Name of the model, for the record.

    Returns
    -------
    ScenarioResult
        Per-order simulations, book-level shortfall per path and metrics.
    """
    config = config or StressConfig()
    scen = _resolve_scenario(scenario)
    book = validate_orders(
        orders, step_minutes=config.step_minutes, session_minutes=config.session_minutes
    )
    results = []
    for _, order in book.iterrows():
        sim = _simulate_order(order, scen, config, n_paths=config.n_paths)
        results.append(
            OrderResult(
                order_id=str(order["order_id"]),
                side=float(order["side"]),
                quantity=float(order["quantity"]),
                arrival_price=float(order["arrival_price"]),
                predicted_cost_bps=float(order["predicted_cost_bps"]),
                sim=sim,
            )
        )
    sims = [r.sim for r in results]
    metrics = compute_metrics(
        scen.name,
        model,
        [r.order_id for r in results],
        sims,
        [r.predicted_cost_bps for r in results],
    )
    cost, cost_bps, unfilled = book_shortfall(sims)
    return ScenarioResult(
        scenario=scen.name,
        model=model,
        orders=results,
        metrics=metrics,
        book_cost=cost,
        book_cost_bps=cost_bps,
        book_unfilled=unfilled,
    )


def run_stress(
    models: Mapping[str, pd.DataFrame],
    scenarios: ScenarioLibrary | Iterable[Scenario | str] | None = None,
    config: StressConfig | None = None,
    *,
    progress: Callable[[str, str], None] | None = None,
) -> StressReport:
    """Run every model's schedules through every scenario on common random numbers.

    Parameters
    ----------
    models
        Model name -> its orders table. All models must cover the same ``order_id`` set
        with the same ``start_minute`` (the same stress orders; only schedules differ).
    scenarios
        A library, scenarios or names; the shipped library when ``None``.
    config
        Run configuration; defaults to ``StressConfig()``.
    progress
        Called with ``(scenario, model)`` before each run.

    Returns
    -------
    StressReport
        All results, with ``summary()``, ``paired()`` and ``to_dict()``.
    """
    config = config or StressConfig()
    if not models:
        raise StressInputError("models must name at least one orders table, got none")
    if scenarios is None:
        scenario_list = list(load_scenarios())
    else:
        scenario_list = [_resolve_scenario(s) for s in scenarios]
    if not scenario_list:
        raise StressInputError("scenarios must hold at least one scenario, got none")
    keys = {}
    for name, frame in models.items():
        book = validate_orders(
            frame, step_minutes=config.step_minutes, session_minutes=config.session_minutes
        )
        keys[name] = dict(zip(book["order_id"], book["start_minute"], strict=True))
    names = list(keys)
    for name in names[1:]:
        if keys[name] != keys[names[0]]:
            raise StressInputError(
                f"models must be run on the same stress orders (order_id and start_minute): "
                f"{names[0]!r} has {sorted(keys[names[0]].items())}, {name!r} has "
                f"{sorted(keys[name].items())}"
            )
    results: dict[str, dict[str, ScenarioResult]] = {}
    for scen in scenario_list:
        results[scen.name] = {}
        for name, frame in models.items():
            if progress is not None:
                progress(scen.name, name)
            results[scen.name][name] = run_scenario(frame, scen, config, model=name)
    return StressReport(results=results, config=config)


def trace_order(
    orders: pd.DataFrame,
    scenario: Scenario | str,
    config: StressConfig | None = None,
    *,
    order_id: str | None = None,
    path: int = 0,
) -> PathTrace:
    """Trajectory of one order on one path: prices, inventory and where controls fired.

    The path is the same one (same shocks) as path ``path`` of :func:`run_scenario`.

    Parameters
    ----------
    orders
        Stress orders with the chosen schedule.
    scenario
        Scenario or shipped scenario name.
    config
        Run configuration.
    order_id
        Order to trace; the first order when ``None``.
    path
        Path index.

    Returns
    -------
    PathTrace
        Per-step state and control events.
    """
    config = config or StressConfig()
    scen = _resolve_scenario(scenario)
    book = validate_orders(
        orders, step_minutes=config.step_minutes, session_minutes=config.session_minutes
    )
    if order_id is None:
        row = book.iloc[0]
    else:
        match = book[book["order_id"] == str(order_id)]
        if match.empty:
            raise StressInputError(
                f"order_id must be one of {book['order_id'].tolist()}, got {order_id!r}"
            )
        row = match.iloc[0]
    if isinstance(path, bool) or not isinstance(path, int | np.integer) or path < 0:
        raise StressInputError(f"path must be an integer >= 0, got {path!r}")
    sim = _simulate_order(row, scen, config, n_paths=int(path) + 1, trace_path=int(path))
    assert sim.trace is not None
    return sim.trace
