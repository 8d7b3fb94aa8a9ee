"""Stress scenarios fanned out to a real dask.distributed cluster give the same results."""

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import numpy as np
import psutil
import pytest
from distributed import LocalCluster
from govern_cli import trust
from prefect_dask import DaskTaskRunner

from flows.stress_fan_out import stress_fan_out
from governance.ledger import open_audit_log
from governance.stores.settings import get_settings
from tests.validation.stress_books import example_orders
from validation.stress import StressConfig, load_scenarios


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local


def test_dask_workers_reproduce_the_threaded_results(prefect_server, cluster):
    books = {
        model: example_orders(model).to_dict(orient="list") for model in ("champion", "challenger")
    }
    scenarios = ["baseline", "vol_spike", "feed_corruption"]
    config = StressConfig(n_paths=2_000, seed=11)
    library = load_scenarios()

    threaded = stress_fan_out(books, scenarios, library, config)
    on_dask = stress_fan_out.with_options(
        task_runner=DaskTaskRunner(address=cluster.scheduler_address)
    )(books, scenarios, library, config)

    assert [next(iter(r.results)) for r in on_dask] == scenarios
    for local, remote in zip(threaded, on_dask, strict=True):
        for scenario, by_model in local.results.items():
            for model, result in by_model.items():
                np.testing.assert_array_equal(
                    result.book_cost_bps, remote.results[scenario][model].book_cost_bps
                )


def test_a_retrain_on_dask_without_a_prefect_server_keeps_its_task_runs(small_data_dir, tmp_path):
    """The workers report to the retrain's temporary Prefect server and start none of their own.

    A cluster of its own: workers that served the test server before would report there.
    """
    workdir, home = tmp_path / "w", tmp_path / "prefect-home"
    trust(workdir)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        done, started = _retrain_on(
            cluster, small_data_dir, workdir, {**env, "PREFECT_HOME": str(home)}
        )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert not started, "Dask workers started Prefect servers of their own"

    names = set(load_scenarios().names)
    with open_audit_log(get_settings(workdir).audit_db_url) as audit:
        stressed = [e for e in audit.events() if e.action == "candidate.stressed"]
    assert {row["scenario"] for row in stressed[0].payload["table"]} == names
    # Each scenario's task run is in the flow's own server, named after its scenario.
    with closing(sqlite3.connect(home / "prefect.db")) as db:
        runs = {n for (n,) in db.execute("SELECT name FROM task_run")}
    assert {f"stress-{name}" for name in names} <= runs


def _retrain_on(cluster, data_dir, workdir, env):
    """Run ``govern retrain`` on ``cluster``; return it and the servers its workers started."""
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("govern")),
            "retrain",
            "--data", str(data_dir),
            "--workdir", str(workdir),
            "--as", "maker",
            "--stress-paths", "500",
            "--dask-address", cluster.scheduler_address,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )  # fmt: skip
    workers = [psutil.Process(nanny.process.pid) for nanny in cluster.workers.values()]
    started = [
        child.cmdline()
        for worker in workers
        for child in worker.children(recursive=True)
        if "uvicorn" in " ".join(child.cmdline())
    ]
    return done, started
