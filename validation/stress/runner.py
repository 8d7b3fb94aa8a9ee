"""Run stress orders through scenarios for one or more models and collect the results.

Typical use (champion vs challenger on the shipped library)::

    from validation.stress import StressConfig, load_scenarios, run_stress

    library = load_scenarios()            # once per run; library.sha256 names the file
    report = run_stress({"champion": champion_orders, "challenger": challenger_orders},
                        config=StressConfig(n_paths=10_000, seed=7), library=library)
    report.summary()          # tidy DataFrame: scenario, model, metric, statistic, unit, value
    report.paired("champion", "challenger")   # paired differences on common random numbers
    report.to_dict()          # JSON-ready, with the library's scenario_library_sha256

Each order is simulated by :func:`validation.stress.engine.simulate` with the power-law impact
of Almgren et al. (2005) (parameters in :class:`~validation.stress.config.StressConfig`), its
own volatility, ADV and spread, the scenario's departures from them, and the configured risk
controls. Its own random streams derive from ``(seed, order_id)``, and by default every order
is simulated from its start to the close whatever its horizon, so two models' schedules for
the same order see the same market shocks and their difference is paired. The orders of a
book share, on each path, the scenario's onset and a market-wide factor (``market_share`` of
the price variance, the generator's), so a market-wide event hits the whole book at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from validation.stress.config import StressConfig
from validation.stress.controls import Controls
from validation.stress.engine import simulate
from validation.stress.errors import StressInputError
from validation.stress.market_model import MarketModel
from validation.stress.metrics import book_shortfall, compute_metrics
from validation.stress.orders import schedule_holdings, validate_orders
from validation.stress.report import OrderResult, ScenarioResult, StressReport
from validation.stress.results import PathTrace, SimulationResult
from validation.stress.scenarios import Scenario, ScenarioLibrary, load_scenarios

__all__ = [
    "loss_budget_bps",
    "order_controls",
    "order_market",
    "run_scenario",
    "run_stress",
    "trace_order",
]


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
    return MarketModel(
        s0=s0,
        sigma=vol if config.dynamics == "geometric" else vol * s0,
        dynamics=config.dynamics,
        impact="power",
        eta=config.eta,
        gamma=config.gamma,
        beta=config.beta,
        delta=config.delta,
        theta_over_v=_turnover_inverse(order, config),
        epsilon=float(order["spread_bps"]) / 2e4 * s0,
        adv=float(order["adv"]),
        volume_profile=config.volume_profile,
        volume_noise=config.volume_noise,
    )


def _resolve_scenario(scenario: Scenario | str, library: ScenarioLibrary | None) -> Scenario:
    """A scenario as given, or the one of that name in ``library`` (the shipped one if None)."""
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, str):
        return (load_scenarios() if library is None else library)[scenario]
    raise StressInputError(
        f"scenario must be a Scenario or a scenario name, got {type(scenario).__name__}"
    )


def _resolve_scenarios(
    scenarios: ScenarioLibrary | Iterable[Scenario | str] | None,
    library: ScenarioLibrary | None,
) -> tuple[list[Scenario], ScenarioLibrary | None]:
    """The scenarios to run and the library they come from, loading the shipped one once."""
    if isinstance(scenarios, ScenarioLibrary):
        if library is not None and library is not scenarios:
            raise StressInputError(
                "scenarios is a ScenarioLibrary and library is another one: pass one library"
            )
        return scenarios.in_order, scenarios
    if scenarios is None:
        library = load_scenarios() if library is None else library
        return library.in_order, library
    items = list(scenarios)
    if library is None and any(isinstance(s, str) for s in items):
        library = load_scenarios()
    return [_resolve_scenario(s, library) for s in items], library


def _library_sha256(scenarios: list[Scenario], library: ScenarioLibrary | None) -> str | None:
    """The library's hash when every scenario run is that library's own, else ``None``."""
    if library is None or any(library.scenarios.get(s.name) != s for s in scenarios):
        return None
    return library.sha256


def order_controls(order: pd.Series, config: StressConfig) -> Controls:
    """The controls of one order, sized from what is known of it before it trades.

    Every limit depends on the order's observables (size, ADV, volatility, spread, start
    time) and the desk's law, never on the schedule or the forecast of the model under
    test, so a candidate and its reference face the same controls on the same order:

    * the kill switch fires at the order's loss budget (:func:`loss_budget_bps`);
    * the price collar is ``collar_risk_multiple`` standard deviations of the price over
      the rest of the session, ``1e4 sigma sqrt(T_rest)``, never narrower than
      ``collar_bps``;
    * the slippage guard's tolerance is the law's temporary impact at the participation
      cap, never below ``slippage_tolerance_bps``: any trade the cap allows in the market
      the order was planned for passes, and the guard bites when the market is worse
      than that (a wider spread, thinner volume, a faster market).
    """
    controls = config.controls
    vol = float(order["daily_vol"])
    price_risk_bps = 1e4 * vol * math.sqrt(_rest_of_session_days(order, config))
    cap = controls.max_participation
    at_cap = 1e4 * config.eta * vol * (cap / (1.0 - cap)) ** config.beta
    return controls.model_copy(
        update={
            "max_loss_bps": max(controls.max_loss_bps, loss_budget_bps(order, config)),
            "collar_bps": max(controls.collar_bps, controls.collar_risk_multiple * price_risk_bps),
            "slippage_tolerance_bps": max(controls.slippage_tolerance_bps, at_cap),
        }
    )


def loss_budget_bps(order: Mapping[str, Any] | pd.Series, config: StressConfig) -> float:
    """The order's pre-trade loss budget (bps of its notional), from its observables alone.

    The desk's law's expected cost of the order traded at ``budget_participation`` of the
    market's volume (half the spread, the temporary impact at that rate, half the
    permanent impact of its size) plus ``max_loss_risk_multiple`` standard deviations of
    the price over the rest of the session, ``1e4 sigma sqrt(T_rest / 3)`` (the timing risk
    of trading it evenly to the close, the slowest any schedule may take). The same for
    every model's schedule of the order: a model must not set its own limit.
    """
    controls = config.controls
    vol = float(order["daily_vol"])
    size = float(order["quantity"]) / float(order["adv"])
    theta = _turnover_inverse(order, config)
    temporary = config.eta * vol * controls.budget_participation**config.beta
    permanent = config.gamma * vol * size * theta**config.delta
    expected = float(order["spread_bps"]) / 2.0 + 1e4 * (temporary + permanent / 2.0)
    timing = 1e4 * vol * math.sqrt(_rest_of_session_days(order, config) / 3.0)
    return expected + controls.max_loss_risk_multiple * timing


def _turnover_inverse(order: Mapping[str, Any] | pd.Series, config: StressConfig) -> float:
    """``Theta / V`` of the order: its shares outstanding over ADV, else the config's."""
    so = float(order.get("shares_outstanding", math.nan))
    return so / float(order["adv"]) if math.isfinite(so) else config.theta_over_v


def _rest_of_session_days(order: Mapping[str, Any] | pd.Series, config: StressConfig) -> float:
    """Trading days from the order's start to the close."""
    start = float(order.get("start_minute", 0.0))
    return max(config.session_minutes - start, config.step_minutes) / config.session_minutes


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
        controls=Controls.none() if scenario.controls == "none" else order_controls(order, config),
        scenario=scenario,
        start_minute=start,
        window=n_window * tau,
        stream=str(order["order_id"]),
        trace_path=trace_path,
        session_minutes=session,
        participation_window_minutes=config.participation_window_minutes,
        completion_minutes=config.completion_minutes,
        overrun_participation=config.overrun_participation,
        risk_levels=config.risk_levels,
        market_share=config.market_share,
    )


def run_scenario(
    orders: pd.DataFrame,
    scenario: Scenario | str,
    config: StressConfig | None = None,
    *,
    model: str = "model",
    library: ScenarioLibrary | None = None,
) -> ScenarioResult:
    """Simulate a model's schedules for the stress orders under one scenario.

    Parameters
    ----------
    orders
        Stress orders with the chosen schedule (see :mod:`validation.stress.orders`).
    scenario
        A :class:`~validation.stress.scenarios.Scenario` or the name of one in ``library``.
    config
        Run configuration; defaults to ``StressConfig()``.
    model
        Name of the model, for the record.
    library
        Where a scenario name is looked up; the shipped library (loaded now) when ``None``.

    Returns
    -------
    ScenarioResult
        Per-order simulations, book-level shortfall per path and metrics.
    """
    config = config or StressConfig()
    scen = _resolve_scenario(scenario, library)
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
        config.risk_levels,
    )
    cost, cost_bps, completed = book_shortfall(sims)
    return ScenarioResult(
        scenario=scen.name,
        model=model,
        orders=results,
        metrics=metrics,
        book_cost=cost,
        book_cost_bps=cost_bps,
        book_completion=completed,
    )


def _check_same_orders(models: Mapping[str, pd.DataFrame], config: StressConfig) -> None:
    """Refuse models whose books differ in ``order_id`` or ``start_minute`` (no pairing)."""
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


def run_stress(
    models: Mapping[str, pd.DataFrame],
    scenarios: ScenarioLibrary | Iterable[Scenario | str] | None = None,
    config: StressConfig | None = None,
    *,
    library: ScenarioLibrary | None = None,
    progress: Callable[[str, str], None] | None = None,
) -> StressReport:
    """Run every model's schedules through every scenario on common random numbers.

    Parameters
    ----------
    models
        Model name -> its orders table. All models must cover the same ``order_id`` set
        with the same ``start_minute`` (the same stress orders; only schedules differ).
    scenarios
        A library, scenarios or names; every scenario of ``library`` when ``None``.
    config
        Run configuration; defaults to ``StressConfig()``.
    library
        The loaded scenario library (:func:`~validation.stress.scenarios.load_scenarios`,
        once per run): names in ``scenarios`` are looked up in it and the report records
        its ``sha256``. When ``None``: ``scenarios`` if it is a library, else the shipped
        library, loaded once and only if a name must be looked up or ``scenarios`` is None.
    progress
        Called with ``(scenario, model)`` before each run.

    Returns
    -------
    StressReport
        All results, with ``summary()``, ``paired()`` and ``to_dict()``;
        ``scenario_library_sha256`` is the library's hash when every scenario run is the
        library's own, else ``None``.

    Raises
    ------
    StressInputError
        When there is no model or no scenario, the books differ, or ``scenarios`` and
        ``library`` are two different libraries.
    """
    config = config or StressConfig()
    if not models:
        raise StressInputError("models must name at least one orders table, got none")
    scenario_list, library = _resolve_scenarios(scenarios, library)
    if not scenario_list:
        raise StressInputError("scenarios must hold at least one scenario, got none")
    _check_same_orders(models, config)
    results: dict[str, dict[str, ScenarioResult]] = {}
    for scen in scenario_list:
        results[scen.name] = {}
        for name, frame in models.items():
            if progress is not None:
                progress(scen.name, name)
            results[scen.name][name] = run_scenario(frame, scen, config, model=name)
    return StressReport(
        results=results,
        config=config,
        scenario_library_sha256=_library_sha256(scenario_list, library),
    )


def trace_order(
    orders: pd.DataFrame,
    scenario: Scenario | str,
    config: StressConfig | None = None,
    *,
    order_id: str | None = None,
    path: int = 0,
    library: ScenarioLibrary | None = None,
) -> PathTrace:
    """Trajectory of one order on one path: prices, inventory and where controls fired.

    The path is the same one (same shocks) as path ``path`` of :func:`run_scenario`.

    Parameters
    ----------
    orders
        Stress orders with the chosen schedule.
    scenario
        A :class:`~validation.stress.scenarios.Scenario` or the name of one in ``library``.
    config
        Run configuration.
    order_id
        Order to trace; the first order when ``None``.
    path
        Path index.
    library
        Where a scenario name is looked up; the shipped library (loaded now) when ``None``.

    Returns
    -------
    PathTrace
        Per-step state and control events.
    """
    config = config or StressConfig()
    scen = _resolve_scenario(scenario, library)
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
