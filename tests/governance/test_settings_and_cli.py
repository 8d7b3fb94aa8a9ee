import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from govern_cli import run_govern

from governance.stores.settings import get_settings, require_existing
from vocabulary.errors import UsageError

GOVERN = str(Path(sys.executable).with_name("govern"))


def test_workdir_resolution_order(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("GOVERN_HOME", str(tmp_path / "home"))
    assert get_settings().workdir == (tmp_path / "home").resolve()
    explicit = get_settings(tmp_path / "explicit")
    assert explicit.workdir == (tmp_path / "explicit").resolve()
    assert explicit.tracking_uri == f"sqlite:///{explicit.workdir / 'mlflow.db'}"
    assert explicit.audit_db_url == explicit.tracking_uri
    assert explicit.artifact_location == (explicit.workdir / "artifacts").as_uri()
    assert not explicit.workdir.exists(), "resolving settings must not create anything"


@pytest.mark.parametrize("uri", ["file:///tmp/mlruns", "./mlruns"])
def test_the_file_store_is_refused(tmp_path, monkeypatch, uri):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    with pytest.raises(UsageError, match="the file store is not supported"):
        get_settings(tmp_path)


def test_a_server_uri_needs_a_shared_audit_database(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.internal:5000")
    monkeypatch.delenv("GOVERN_AUDIT_DB_URL", raising=False)
    with pytest.raises(UsageError, match="set GOVERN_AUDIT_DB_URL"):
        get_settings(tmp_path)
    monkeypatch.setenv("GOVERN_AUDIT_DB_URL", "postgresql+psycopg://audit@db/governance")
    served = get_settings(tmp_path)
    assert served.audit_db_url == "postgresql+psycopg://audit@db/governance"
    assert served.artifact_location is None  # the server's own artifact store, for every host


def test_read_only_commands_refuse_a_missing_workdir(tmp_path):
    with pytest.raises(UsageError, match="expected a work directory with mlflow.db"):
        require_existing(get_settings(tmp_path / "typo"))
    for args in (["signoff", "list"], ["audit", "verify"], ["lineage", "execution-impact", "1"]):
        result = run_govern([*args, "--workdir", str(tmp_path / "typo")])
        assert result.exit_code == 2, (args, result.output)
    assert not (tmp_path / "typo" / "mlflow.db").exists()


def test_help_is_fast_and_lists_every_command():
    start = time.perf_counter()
    done = subprocess.run([GOVERN, "--help"], capture_output=True, text=True, check=True)
    assert time.perf_counter() - start < 5  # generous: the budget (1 s) is checked in bench/
    for command in (
        "retrain",
        "demo",
        "signoff",
        "promote",
        "rollback",
        "decommission",
        "lineage",
        "audit",
        "data",
    ):
        assert command in done.stdout


def test_help_loads_no_heavy_library():
    probe = (
        "import sys\n"
        "from cli import app\n"
        "try:\n    app(['--help'], prog_name='govern')\n"
        "except SystemExit:\n    pass\n"
        "heavy = {'matplotlib', 'mlflow', 'prefect', 'great_expectations', 'lightgbm', 'numba'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout


def test_data_synth_writes_the_three_tables(tmp_path):
    result = run_govern(
        [
            "data",
            "synth",
            "--out",
            str(tmp_path / "d"),
            "--orders",
            "500",
            "--days",
            "3",
            "--assets",
            "2",
            "--seed",
            "5",
        ]
    )
    assert result.exit_code == 0, result.output
    tables = {p.stem: pd.read_parquet(p) for p in (tmp_path / "d").glob("*.parquet")}
    assert set(tables) == {"executions", "market_bars", "rfq"}
    assert len(tables["executions"]) == 500


def test_data_synth_names_an_unknown_corruption(tmp_path):
    result = run_govern(
        ["data", "synth", "--out", str(tmp_path / "d"), "--orders", "500", "--corrupt", "gremlins"]
    )
    assert result.exit_code == 2
    assert "gremlins" in result.stderr and "crossed_book" in result.stderr
    assert not (tmp_path / "d").exists()


def test_policy_with_an_unknown_scenario_is_refused(tmp_path):
    from governance.stores.settings import DEFAULT_POLICY
    from governance.trust.policy_store import load_model_policy

    policy = tmp_path / "policy.yaml"
    text = DEFAULT_POLICY.read_text()
    policy.write_text(
        text.replace("[baseline, liquidity_withdrawal", "[baseline, volspike, liquidity_withdrawal")
    )
    with pytest.raises(UsageError, match=r"scenarios \['volspike'\]"):
        load_model_policy(policy, "execution-impact")
