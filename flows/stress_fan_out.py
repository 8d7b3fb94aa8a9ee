"""The ``stress-fan-out`` subflow: one task per stress scenario, on threads or a Dask cluster."""

from __future__ import annotations

import threading

import pandas as pd
from prefect import Flow, flow, task, unmapped
from prefect.cache_policies import NO_CACHE

from validation.stress import ScenarioLibrary, StressConfig, StressReport, run_stress

__all__ = ["fan_out_runner", "stress_fan_out"]

# One process launches one parallel numba kernel at a time: the kernels already use every
# core, and numba's fallback threading layer (workqueue) aborts on concurrent launches.
# Across processes (Dask workers) scenarios do run in parallel.
_KERNEL_LAUNCH = threading.Lock()


@task(name="stress-scenario", cache_policy=NO_CACHE)
def stress_scenario(
    scenario: str, books: dict, library: ScenarioLibrary, stress_config: StressConfig
) -> StressReport:
    """Execute every model's schedules under one scenario on common random numbers."""
    return _run_scenario_serialised(scenario, books, library, stress_config)


def _run_scenario_serialised(
    scenario: str, books: dict, library: ScenarioLibrary, stress_config: StressConfig
) -> StressReport:
    # A module-level function, so that Dask pickles it by reference and not its lock.
    frames = {name: pd.DataFrame(columns) for name, columns in books.items()}
    with _KERNEL_LAUNCH:
        return run_stress(frames, [scenario], stress_config, library=library)


@flow(name="stress-fan-out")
def stress_fan_out(
    books: dict[str, dict[str, list]],
    scenarios: list[str],
    library: ScenarioLibrary,
    stress_config: StressConfig,
) -> list[StressReport]:
    """One task per scenario on this flow's task runner (threads, or a Dask cluster).

    The books travel as plain columns so that Prefect can record them as parameters.
    """
    return stress_scenario.map(
        scenarios, unmapped(books), unmapped(library), unmapped(stress_config)
    ).result()


def fan_out_runner(dask_address: str | None) -> Flow:
    """The fan-out flow, on the Dask cluster at ``dask_address`` when one is given."""
    if dask_address is None:
        return stress_fan_out
    from prefect_dask import DaskTaskRunner

    return stress_fan_out.with_options(task_runner=DaskTaskRunner(address=dask_address))
