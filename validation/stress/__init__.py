"""Stress backtests of the execution an ML model drives, on numba Monte Carlo kernels.

For a set of stress orders an execution schedule (horizon / participation) has been chosen
upstream by the model under test. The engine executes that schedule on many simulated market
paths per scenario, with risk controls on, and measures what it cost. Champion and challenger
run on common random numbers, so their difference is paired.

Modules: :mod:`~validation.stress.market` (model, controls, :func:`simulate`),
:mod:`~validation.stress.kernels` (numba), :mod:`~validation.stress.reference` (NumPy
cross-check), :mod:`~validation.stress.scenarios` (library as data, ``scenarios.yaml``),
:mod:`~validation.stress.orders` (the schedule input), :mod:`~validation.stress.metrics`,
:mod:`~validation.stress.runner`, :mod:`~validation.stress.plots`.
"""

from validation.stress.errors import ScenarioFileError, StressInputError
from validation.stress.kernels import CHUNK_SIZE, CONTROL_NAMES
from validation.stress.market import (
    Controls,
    MarketModel,
    PathTrace,
    SimulationResult,
    simulate,
)
from validation.stress.metrics import Distribution, ScenarioMetrics
from validation.stress.orders import example_orders, schedule_holdings, validate_orders
from validation.stress.plots import plot_path_trace, plot_shortfall_distributions, save_figure
from validation.stress.runner import (
    OrderResult,
    ScenarioResult,
    StressConfig,
    StressReport,
    run_scenario,
    run_stress,
    trace_order,
)
from validation.stress.scenarios import (
    REQUIRED_SCENARIOS,
    SCENARIO_FILE,
    Scenario,
    ScenarioLibrary,
    load_scenarios,
)

__all__ = [
    "CHUNK_SIZE",
    "CONTROL_NAMES",
    "REQUIRED_SCENARIOS",
    "SCENARIO_FILE",
    "Controls",
    "Distribution",
    "MarketModel",
    "OrderResult",
    "PathTrace",
    "Scenario",
    "ScenarioFileError",
    "ScenarioLibrary",
    "ScenarioMetrics",
    "ScenarioResult",
    "SimulationResult",
    "StressConfig",
    "StressInputError",
    "StressReport",
    "example_orders",
    "load_scenarios",
    "plot_path_trace",
    "plot_shortfall_distributions",
    "run_scenario",
    "run_stress",
    "save_figure",
    "schedule_holdings",
    "simulate",
    "trace_order",
    "validate_orders",
]
