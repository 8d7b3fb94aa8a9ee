"""The retrain flow end to end on a real Prefect server, MLflow on SQLite and GX."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from govern_cli import adopt, run_govern
from mlflow.tracking import MlflowClient

from cli.exit_codes import EXIT_DATA_REJECTED, EXIT_GATES_FAILED
from governance.ledger import open_audit_log, os_identity
from governance.ledger.hashing import sha256_file, sha256_tree
from governance.stores.settings import get_settings
from models import get_family

# Every critical data-contract check, the defect that trips it, and words the error must name.
CRITICAL_DEFECTS = [
    ("missing_column", ["daily_vol"]),
    ("null_qty", ["qty"]),
    ("duplicate_order_id", ["order_id"]),
    ("end_before_start", ["end_ts"]),
    ("negative_spread", ["spread_bps"]),
    ("participation_out_of_range", ["participation"]),
    ("fill_price_wrong_side", ["avg_fill_px"]),
    ("shortfall_as_fraction", ["shortfall_bps"]),
    ("bad_side", ["side"]),
    ("crossed_book", ["bid", "ask"]),
    ("ohlc_inconsistent", ["high"]),
    ("bars_out_of_order", ["ts"]),
    ("price_spike", ["close"]),
    ("negative_volume", ["volume"]),
]


def _registry_state(workdir):
    settings = get_settings(workdir)
    client = MlflowClient(settings.tracking_uri, settings.registry_uri)
    versions = client.search_model_versions("name = 'execution-impact'")
    return sorted((v.version, tuple(sorted(v.tags.items()))) for v in versions)


def _events(workdir):
    with open_audit_log(get_settings(workdir).audit_db_url) as audit:
        return audit.events()


def test_retrain_registers_a_version_with_full_lineage(
    prefect_server, small_data_dir, tmp_path, monkeypatch
):
    workdir = tmp_path / "w"
    monkeypatch.chdir(tmp_path)
    result = run_govern(
        ["retrain", "--data", str(small_data_dir), "--workdir", str(workdir), "--as", "maker"]
    )
    assert result.exit_code == 0, result.output
    # Every store is named explicitly: nothing falls back to MLflow's default ./mlflow.db.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w"]
    assert "registered execution-impact version 1" in result.output
    assert "Stage timings" in result.output
    assert "execution-impact: stress backtests" in result.stderr  # progress, one line a stage

    settings = get_settings(workdir)
    client = MlflowClient(settings.tracking_uri, settings.registry_uri)
    version = client.get_model_version("execution-impact", "1")
    tags = version.tags
    assert tags["lifecycle"] == "pending-signoff"
    assert tags["lineage.dataset_uri"] == small_data_dir.resolve().as_uri()
    assert len(tags["lineage.dataset_sha256"]) == 64
    assert json.loads(tags["lineage.dataset_rows"])["executions"] == 20_000
    assert tags["lineage.code_version"].startswith(("git:", "pkg:"))
    assert tags["lineage.data_validation"].startswith("passed")
    assert tags["lineage.author"] == "maker"
    assert str(client.get_model_version_by_alias("execution-impact", "candidate").version) == "1"

    run = client.get_run(tags["lineage.run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.user"] == "maker"
    assert {
        "holdout.candidate.mae",
        "holdout.candidate.rmse",
        "holdout.candidate.p95_abs_error",
        "holdout.sqrt_law_ridge.mae",
    } <= set(run.data.metrics)
    assert run.data.params["fit.objective"] == "regression"
    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.dataset.name == "executions"
    executions_sha = sha256_file(small_data_dir / "executions.parquet")
    assert dataset_input.dataset.digest == executions_sha[:32]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "reports")}
    assert {
        "reports/data_contracts.json",
        "reports/data_contracts.html",
        "reports/challenger.json",
        "reports/challenger.md",
        "reports/stress.json",
        "reports/stress_table.csv",
        "reports/gates.json",
        "reports/gates.md",
    } <= artifacts
    plots = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {
        "plots/feature_contributions.png",
        "plots/challenger_residuals.png",
        "plots/stress_shortfall_distributions.png",
        "plots/stress_vol_spike_path.png",
    } <= plots
    assert {"latency.p50_ms", "latency.p99_ms", "stress.vol_spike.cvar95_bps"} <= set(
        run.data.metrics
    )
    assert tags["gates.passed"] == "true"
    assert tags["gates.policy_sha256"] == sha256_file(settings.policy_path)
    assert version.description.startswith("Gates PASSED")

    # The candidate is stored in readable formats (the law's JSON, LightGBM's native text),
    # never pickled, and its hash is recorded; MLflow's pyfunc predicts what it predicts.
    import mlflow

    from governance.stores.handle import download_artifacts, fluent_mlflow, open_stores

    stores = open_stores(settings)
    local = download_artifacts(stores, version.source)
    files = {p.name for p in Path(local).rglob("*") if p.is_file()}
    assert {"law.json", "booster.txt"} <= files
    assert not any(f.endswith((".pkl", ".pickle")) for f in files)
    assert sha256_tree(local) == tags["lineage.model_sha256"]
    with fluent_mlflow(stores):
        model = mlflow.pyfunc.load_model("models:/execution-impact/1")
    assert model.metadata.signature is not None
    family = get_family("execution-impact")
    data = {n: pd.read_parquet(small_data_dir / f"{n}.parquet") for n in family.required_tables}
    features = family.features(family.training_frame(data).head(200))
    candidate = family.load_model(Path(local) / "data" / "candidate")
    np.testing.assert_array_equal(model.predict(features), candidate.predict(features))

    adoption, *events = _events(workdir)
    assert adoption.action == "policy.adopted"  # the test's people set up before the retrain
    assert [e.action for e in events] == [
        "data.validated",
        "candidate.trained",
        "candidate.compared",
        "candidate.stressed",
        "candidate.gated",
    ]
    assert events[1].payload["dataset_files"]["executions.parquet"] == executions_sha
    assert {e.version for e in events[1:]} == {"1"}
    assert {e.payload["recorded_by"] for e in events} == {os_identity()}
    assert set(events[2].payload["verdicts"]) == {"sqrt_law_ridge"}


@pytest.fixture(scope="module")
def registered_workdir(prefect_server, small_data_dir, tmp_path_factory):
    """A work directory holding one registered version (copied by each test that alters it)."""
    workdir = tmp_path_factory.mktemp("registered") / "w"
    ok = run_govern(["retrain", "--data", str(small_data_dir), "--workdir", str(workdir)])
    assert ok.exit_code == 0, ok.output
    return workdir


@pytest.mark.parametrize("defect, columns", CRITICAL_DEFECTS, ids=[d for d, _ in CRITICAL_DEFECTS])
def test_corrupted_data_is_refused_and_nothing_is_registered(
    prefect_server, registered_workdir, make_data_dir, tmp_path, defect, columns
):
    workdir = tmp_path / "w"
    shutil.copytree(registered_workdir, workdir)
    before = _registry_state(workdir)
    assert before

    bad = make_data_dir(defect)
    result = run_govern(["retrain", "--data", str(bad), "--workdir", str(workdir)])

    assert result.exit_code == EXIT_DATA_REJECTED, result.output
    assert "input data rejected" in result.output
    assert any(column in result.output for column in columns), result.output
    assert _registry_state(workdir) == before
    events = _events(workdir)
    assert [e.action for e in events][-1] == "data.rejected"
    assert events[-1].payload["dataset_uri"] == bad.resolve().as_uri()


def test_warning_checks_are_logged_and_the_run_goes_on(
    prefect_server, registered_workdir, make_data_dir, tmp_path
):
    workdir = tmp_path / "w"
    shutil.copytree(registered_workdir, workdir)
    result = run_govern(
        ["retrain", "--data", str(make_data_dir("stale_feed")), "--workdir", str(workdir)]
    )
    assert result.exit_code == 0, result.output
    settings = get_settings(workdir)
    version = MlflowClient(settings.tracking_uri, settings.registry_uri).get_model_version(
        "execution-impact", "2"
    )
    assert "1 warnings" in version.tags["lineage.data_validation"]
    validated = [e for e in _events(workdir) if e.action == "data.validated"]
    assert validated[-1].payload["summary"]["warnings"] == 1


def test_second_candidate_is_challenged_by_the_champion(
    prefect_server, registered_workdir, small_data_dir, tmp_path
):
    from governance.lifecycle.actions import approve
    from governance.stores.handle import open_stores
    from governance.trust.policy_store import load_model_policy, signer_for

    workdir = tmp_path / "w"
    shutil.copytree(registered_workdir, workdir)
    settings = get_settings(workdir)
    policy = load_model_policy(settings.policy_path, "execution-impact")
    validator = signer_for(settings.keys_dir, policy.file, "validator")
    approve(open_stores(settings), policy, "execution-impact", "1", validator, "looks fine")

    result = run_govern(
        ["retrain", "--data", str(small_data_dir), "--workdir", str(workdir), "--seed", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "challenged by champion v1" in result.output
    compared = [e for e in _events(workdir) if e.action == "candidate.compared"][-1]
    assert compared.version == "2"
    assert set(compared.payload["verdicts"]) == {"champion", "sqrt_law_ridge"}


def test_failed_gate_registers_a_rejected_version_and_exits_4(
    prefect_server, registered_workdir, small_data_dir, tmp_path
):
    workdir = tmp_path / "w"
    shutil.copytree(registered_workdir, workdir)
    text = get_settings(workdir).policy_path.read_text()
    strict = adopt(workdir, re.sub(r"p99_ms: [0-9.]+", "p99_ms: 0.001", text))
    assert "p99_ms: 0.001" in strict.read_text()

    result = run_govern(["retrain", "--data", str(small_data_dir), "--workdir", str(workdir)])

    assert result.exit_code == EXIT_GATES_FAILED, result.output
    assert "latency p99 [single-order decision]" in result.output
    settings = get_settings(workdir)
    client = MlflowClient(settings.tracking_uri, settings.registry_uri)
    version = client.get_model_version("execution-impact", "2")
    assert version.tags["lifecycle"] == "rejected"
    assert version.tags["gates.passed"] == "false"
    assert version.tags["gates.policy_sha256"] == sha256_file(strict)
    aliases = client.get_registered_model("execution-impact").aliases
    assert str(aliases["candidate"]) == "1"  # the rejected v2 never became the candidate
    gated = _events(workdir)[-1]
    assert gated.action == "candidate.gated" and gated.payload["lifecycle"] == "rejected"


def test_cli_exit_code_3_in_a_real_process_on_ephemeral_prefect(make_data_dir, tmp_path):
    """The installed console script, no test harness: Prefect starts its own ephemeral server."""
    bad = make_data_dir("crossed_book")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("govern")),
            "retrain",
            "--data",
            str(bad),
            "--workdir",
            str(tmp_path / "w"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == EXIT_DATA_REJECTED, done.stderr[-3000:]
    assert "bid" in done.stderr and "input data rejected" in done.stderr
    assert _registry_state(tmp_path / "w") == []


def test_usage_errors_exit_2_and_write_nothing(tmp_path):
    result = run_govern(
        ["retrain", "--data", str(tmp_path / "missing"), "--workdir", str(tmp_path / "w")]
    )
    assert result.exit_code == 2
    assert "data_dir" in result.output and "directory" in result.output
    result = run_govern(["retrain"])
    assert result.exit_code == 2


def test_too_short_a_holdout_is_refused_before_registration(
    prefect_server, registered_workdir, make_data_dir, tmp_path
):
    workdir = tmp_path / "w"
    shutil.copytree(registered_workdir, workdir)
    before = _registry_state(workdir)
    result = run_govern(
        ["retrain", "--data", str(make_data_dir(days=12)), "--workdir", str(workdir)]
    )
    assert result.exit_code == EXIT_DATA_REJECTED, result.output
    assert "holdout covers 3 day(s)" in result.stderr and "at least 10" in result.stderr
    assert _registry_state(workdir) == before
    settings = get_settings(workdir)
    client = MlflowClient(settings.tracking_uri, settings.registry_uri)
    runs = client.search_runs(
        [client.get_experiment_by_name(settings.experiment_name).experiment_id]
    )
    # Refused before orchestration: no run was even opened for it, and the refusal is
    # recorded as data.rejected.
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert _events(workdir)[-1].action == "data.rejected"


def test_a_failure_after_registration_retires_the_half_validated_version(
    prefect_server, registered_workdir, small_data_dir, tmp_path
):
    workdir = tmp_path / "w"
    shutil.copytree(registered_workdir, workdir)
    # Nothing listens on this port: the stress fan-out fails after the version exists.
    result = run_govern(
        [
            "retrain",
            "--data",
            str(small_data_dir),
            "--workdir",
            str(workdir),
            "--stress-paths",
            "500",
            "--dask-address",
            "tcp://127.0.0.1:9",
        ]
    )
    assert result.exit_code == 1, result.output
    settings = get_settings(workdir)
    client = MlflowClient(settings.tracking_uri, settings.registry_uri)
    version = client.get_model_version("execution-impact", "2")
    assert version.tags["lifecycle"] == "failed"
    assert client.get_run(version.run_id).info.status == "FAILED"
    failed = _events(workdir)[-1]
    assert (failed.action, failed.version) == ("candidate.failed", "2")
    assert run_govern(["audit", "verify", "--workdir", str(workdir)]).exit_code == 0
    refused = run_govern(
        [
            "signoff",
            "approve",
            "execution-impact",
            "2",
            "--as",
            "validator",
            "--workdir",
            str(workdir),
        ]
    )
    assert refused.exit_code == 5 and "'failed'" in refused.stderr


def test_only_outages_are_retried():
    import sqlalchemy as sa
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import (
        INVALID_PARAMETER_VALUE,
        PERMISSION_DENIED,
        TEMPORARILY_UNAVAILABLE,
    )

    from governance.stores.handle import is_store_outage
    from vocabulary import DataRejected

    assert is_store_outage(ConnectionRefusedError("mlflow server down"))
    assert is_store_outage(sa.exc.OperationalError("SELECT 1", {}, Exception("database locked")))
    assert is_store_outage(
        MlflowException("API request failed", error_code=TEMPORARILY_UNAVAILABLE)
    )
    assert not is_store_outage(MlflowException("bad name", error_code=INVALID_PARAMETER_VALUE))
    assert not is_store_outage(DataRejected("qty has nulls"))
    assert not is_store_outage(AttributeError("a bug is not cured by waiting"))
    assert not is_store_outage(FileNotFoundError("no such file: policy.yaml"))
    schema = sa.exc.OperationalError("SELECT x", {}, Exception("no such column: x"))
    assert not is_store_outage(schema)
    assert not is_store_outage(MlflowException("denied", error_code=PERMISSION_DENIED))
