"""Stress backtests of the execution an ML model drives, on numba Monte Carlo kernels.

For a set of stress orders an execution schedule (horizon / participation) has been chosen
upstream by the model under test. The engine executes that schedule on many simulated market
paths per scenario, with risk controls on, and measures what it cost. Champion and challenger
run on common random numbers, so their difference is paired.

Modules, bottom up: :mod:`~validation.stress.kernels` (numba) and
:mod:`~validation.stress.streams` (their random streams); :mod:`~validation.stress.market`
(the market model), :mod:`~validation.stress.controls`, :mod:`~validation.stress.conditions`
and :mod:`~validation.stress.scenarios` (the library as data, ``scenarios.yaml``);
:mod:`~validation.stress.arguments` and :mod:`~validation.stress.inputs` (checked kernel
inputs), :mod:`~validation.stress.results` and :mod:`~validation.stress.engine`
(:func:`simulate`); :mod:`~validation.stress.orders` (the schedule input),
:mod:`~validation.stress.metrics`, :mod:`~validation.stress.config`,
:mod:`~validation.stress.report`, :mod:`~validation.stress.runner` (:func:`run_stress`) and
:mod:`~validation.stress.catalogue` (the metrics the gates judge). Plots are in
:mod:`validation.stress.plots`, which this package does not import, so that running stress
tests does not import matplotlib.
"""

from validation.stress.catalogue import GATE_STATISTICS, gate_table
from validation.stress.config import StressConfig
from validation.stress.controls import Controls
from validation.stress.engine import simulate
from validation.stress.errors import ScenarioFileError, StressInputError
from validation.stress.kernels import CHUNK_SIZE, CONTROL_NAMES
from validation.stress.market import MarketModel
from validation.stress.metrics import Distribution, ScenarioMetrics
from validation.stress.orders import example_orders, schedule_holdings, validate_orders
from validation.stress.provenance import engine_sha256
from validation.stress.report import OrderResult, ScenarioResult, StressReport
from validation.stress.results import PathTrace, SimulationResult
from validation.stress.runner import run_scenario, run_stress, trace_order
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
    "GATE_STATISTICS",
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
    "engine_sha256",
    "example_orders",
    "gate_table",
    "load_scenarios",
    "run_scenario",
    "run_stress",
    "schedule_holdings",
    "simulate",
    "trace_order",
    "validate_orders",
]
