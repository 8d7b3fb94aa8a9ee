"""The ``stress-fan-out`` subflow: one task per stress scenario, on threads or a Dask cluster."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
from prefect import flow, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.settings import PREFECT_API_URL, temporary_settings

from validation.stress import ScenarioLibrary, StressConfig, StressReport, run_stress

__all__ = ["fan_out", "stress_fan_out"]

# One process launches one parallel numba kernel at a time: the kernels already use every
# core, and numba's fallback threading layer (workqueue) aborts on concurrent launches.
# Across processes (Dask workers) scenarios do run in parallel.
_KERNEL_LAUNCH = threading.Lock()


@task(name="stress-scenario", task_run_name="stress-{scenario}", cache_policy=NO_CACHE)
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


def fan_out(
    dask_address: str | None,
    books: dict[str, dict[str, list]],
    scenarios: list[str],
    library: ScenarioLibrary,
    stress_config: StressConfig,
) -> list[StressReport]:
    """Run :func:`stress_fan_out` on threads, or on the Dask cluster at ``dask_address``."""
    if dask_address is None:
        return stress_fan_out(books, scenarios, library, stress_config)
    from prefect_dask import DaskTaskRunner

    on_dask = stress_fan_out.with_options(task_runner=DaskTaskRunner(address=dask_address))
    with _workers_report_here():
        return on_dask(books, scenarios, library, stress_config)


@contextmanager
def _workers_report_here() -> Iterator[None]:
    """Have remote task runs report to this process's Prefect API, even a temporary one.

    Without a ``PREFECT_API_URL``, Prefect runs a temporary server in this process; a Dask
    worker that is handed a task would start a temporary server of its own, record the
    task's run there, out of the flow's sight, and leave it running if it is killed. The
    task runner ships the settings in force to the workers, so naming this process's
    server in them is enough.
    """
    if PREFECT_API_URL.value():
        yield
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the process's one temporary server
    if not server.running:
        yield
        return
    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        yield
