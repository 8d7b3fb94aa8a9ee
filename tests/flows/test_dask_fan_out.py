"""Stress scenarios fanned out to a real dask.distributed cluster give the same results."""

import numpy as np
import pytest
from distributed import LocalCluster
from govern_cli import retrain
from prefect_dask import DaskTaskRunner

from flows.stress_fan_out import stress_fan_out
from governance.audit import open_audit_log
from governance.settings import get_settings
from validation.stress import StressConfig, example_orders, load_scenarios


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


def test_retrain_with_a_dask_cluster(prefect_server, cluster, small_data_dir, tmp_path):
    workdir = tmp_path / "w"
    result = retrain(small_data_dir, workdir, "--dask-address", cluster.scheduler_address)
    assert result.exit_code == 0, result.output
    with open_audit_log(get_settings(workdir).audit_db_url) as audit:
        stressed = [e for e in audit.events() if e.action == "candidate.stressed"]
    scenarios = {row["scenario"] for row in stressed[0].payload["table"]}
    assert scenarios == set(load_scenarios().names)
