"""Stress backtests of the execution an ML model drives, on numba Monte Carlo kernels.

For a set of stress orders an execution schedule (horizon / participation) has been chosen
upstream by the model under test. The engine executes that schedule on many simulated market
paths per scenario, with risk controls on, and measures what it cost. Champion and challenger
run on common random numbers, so their difference is paired.

Modules, bottom up: :mod:`~validation.stress.kernels` (numba) and
:mod:`~validation.stress.streams` (their random streams); :mod:`~validation.stress.market_model`
(the market model), :mod:`~validation.stress.controls`, :mod:`~validation.stress.conditions`
and :mod:`~validation.stress.scenarios` (the library as data, ``scenarios.yaml``);
:mod:`~validation.stress.arguments` and :mod:`~validation.stress.inputs` (checked kernel
inputs), :mod:`~validation.stress.results` and :mod:`~validation.stress.engine`
(:func:`simulate`); :mod:`~validation.stress.orders` (the schedule input),
:mod:`~validation.stress.metrics`, :mod:`~validation.stress.config`,
:mod:`~validation.stress.report`, :mod:`~validation.stress.runner` (:func:`run_stress`) and
:mod:`~validation.stress.catalogue` (the metrics the gates judge). Plots are in
:mod:`validation.stress.plots`, which this package does not import, so that running stress
tests does not import matplotlib. The names below are imported on first use, so that a
reader of limits and results (the governed loader, through the policy) imports neither
numba nor the engine.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "GATE_STATISTICS": "validation.stress.catalogue",
    "gate_table": "validation.stress.catalogue",
    "StressConfig": "validation.stress.config",
    "Controls": "validation.stress.controls",
    "simulate": "validation.stress.engine",
    "ScenarioFileError": "validation.stress.errors",
    "StressInputError": "validation.stress.errors",
    "CHUNK_SIZE": "validation.stress.kernels",
    "CONTROL_NAMES": "validation.stress.controls",
    "MarketModel": "validation.stress.market_model",
    "Distribution": "validation.stress.metrics",
    "ScenarioMetrics": "validation.stress.metrics",
    "schedule_holdings": "validation.stress.orders",
    "validate_orders": "validation.stress.orders",
    "engine_sha256": "validation.stress.provenance",
    "OrderResult": "validation.stress.report",
    "ScenarioResult": "validation.stress.report",
    "StressReport": "validation.stress.report",
    "PathTrace": "validation.stress.results",
    "SimulationResult": "validation.stress.results",
    "run_scenario": "validation.stress.runner",
    "run_stress": "validation.stress.runner",
    "trace_order": "validation.stress.runner",
    "REQUIRED_SCENARIOS": "validation.stress.scenarios",
    "SCENARIO_FILE": "validation.stress.scenarios",
    "Scenario": "validation.stress.scenarios",
    "ScenarioLibrary": "validation.stress.scenarios",
    "load_scenarios": "validation.stress.scenarios",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'validation.stress' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return list(__all__)
