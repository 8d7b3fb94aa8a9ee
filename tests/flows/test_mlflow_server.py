"""The lifecycle with MLflow as a server: the tracking URI is ``http://``, artifacts proxied.

The test starts ``mlflow server`` itself, on PostgreSQL when GOVERN_TEST_POSTGRES_URL names
a server (``make test`` starts one; the audit log then shares MLflow's database) and on
SQLite otherwise, with the artifacts served by the tracking server (``mlflow-artifacts:``).
Every write and read of the governance commands goes through HTTP.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest
import sqlalchemy as sa
from govern_cli import retrain, run_govern
from mlflow.tracking import MlflowClient

from governance import load_champion
from governance.audit import open_audit_log
from governance.settings import get_settings

POSTGRES = os.environ.get("GOVERN_TEST_POSTGRES_URL")
MODEL = "execution-impact"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, log, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"mlflow server exited with {server.returncode}:\n{log.read()}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"mlflow server at {url} not healthy after {timeout:.0f} s")


@pytest.fixture
def backend_database(tmp_path):
    """MLflow's backend store: a fresh PostgreSQL database, or SQLite in a temp dir."""
    if not POSTGRES:
        yield f"sqlite:///{tmp_path / 'server-mlflow.db'}"
        return
    name = f"govern_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.engine.make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def mlflow_server(tmp_path, backend_database, monkeypatch):
    """``mlflow server`` on a loopback port; the process environment points at it."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        backend_database,
        "--artifacts-destination",
        str(tmp_path / "server-artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    with open(tmp_path / "mlflow-server.log", "w+") as log:
        server = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_healthy(url, server, log)
            monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
            audit = backend_database if POSTGRES else f"sqlite:///{tmp_path / 'audit.db'}"
            monkeypatch.setenv("GOVERN_AUDIT_DB_URL", audit)
            yield url
        finally:
            os.killpg(server.pid, 15)
            server.wait(timeout=30)


def _govern(*args: str):
    result = run_govern(list(args))
    assert result.exit_code == 0, result.output
    return result


def test_lifecycle_through_an_mlflow_server(
    prefect_server, small_data_dir, tmp_path, mlflow_server
):
    workdir = tmp_path / "w"
    for seed in ("0", "1"):
        done = retrain(small_data_dir, workdir, "--seed", seed)
        assert done.exit_code == 0, done.output
        version = str(int(seed) + 1)
        _govern(
            "signoff", "approve", MODEL, version, "--as", "validator", "--workdir", str(workdir)
        )
    _govern("rollback", MODEL, "--as", "on-call", "--reason", "drill", "--workdir", str(workdir))
    _govern(
        "decommission",
        MODEL,
        "2",
        "--as",
        "on-call",
        "--reason",
        "rolled back in the drill",
        "--workdir",
        str(workdir),
    )
    lineage = _govern("lineage", MODEL, "1", "--workdir", str(workdir))
    assert "validator" in lineage.output
    _govern("audit", "verify", "--workdir", str(workdir))

    settings = get_settings(workdir)
    assert settings.tracking_uri == mlflow_server
    # Nothing of MLflow's on the host that ran the commands: the server holds it all.
    assert not (workdir / "mlflow.db").exists() and not (workdir / "artifacts").exists()
    assert any((tmp_path / "server-artifacts").rglob("MLmodel"))
    client = MlflowClient(mlflow_server)
    assert client.get_model_version_by_alias(MODEL, "champion").version == "1"
    source = client.get_model_version(MODEL, "1").source
    assert source.startswith("models:/m-"), source
    with open_audit_log(settings.audit_db_url, create=False) as audit:
        assert audit.verify().ok
    champion = load_champion(MODEL, workdir=workdir)
    assert champion.version == "1"
