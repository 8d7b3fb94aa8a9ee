"""The lifecycle with MLflow as an authenticated server: ``http://``, artifacts proxied.

The test starts ``mlflow server --app-name basic-auth`` itself, on PostgreSQL when
GOVERN_TEST_POSTGRES_URL names a server (``make test`` starts one; the audit log then shares
MLflow's database) and on SQLite otherwise, with the artifacts served by the tracking server
(``mlflow-artifacts:``). Every write and read of the governance commands goes through HTTP,
as the governance service; a validator's own credentials can read but not write.
"""

import configparser
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from govern_cli import retrain, run_govern
from mlflow.server import get_app_client
from mlflow.tracking import MlflowClient

from governance import load_champion
from governance.ledger import open_audit_log
from governance.stores.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
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


@contextmanager
def _serving(tmp_path, backend: str, *extra: str, env: dict[str, str] | None = None):
    """``mlflow server`` on a loopback port for the duration of the block; yields its URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        backend,
        "--artifacts-destination",
        str(tmp_path / "server-artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        *extra,
    ]
    with open(tmp_path / "mlflow-server.log", "w+") as log:
        server = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
        try:
            _wait_healthy(url, server, log)
            yield url
        finally:
            if server.poll() is None:
                os.killpg(server.pid, 15)
                server.wait(timeout=30)


def _point_at(url: str, backend: str, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    audit = backend if POSTGRES else f"sqlite:///{tmp_path / 'audit.db'}"
    monkeypatch.setenv("GOVERN_AUDIT_DB_URL", audit)


@pytest.fixture
def authenticated_server(tmp_path, backend_database, monkeypatch):
    """``mlflow server --app-name basic-auth``: everyone reads, only what one created is theirs.

    Users ``governance`` (the service every command below runs as) and ``validator``;
    yields the URL and each user's credentials.
    """
    shipped = configparser.ConfigParser()
    shipped.read(ROOT / "infra" / "mlflow-auth.ini")
    shipped["mlflow"]["database_uri"] = f"sqlite:///{tmp_path / 'auth.db'}"
    config = tmp_path / "auth.ini"
    with config.open("w") as out:
        shipped.write(out)
    env = {
        "MLFLOW_AUTH_CONFIG_PATH": str(config),
        "MLFLOW_AUTH_ADMIN_PASSWORD": "admin-password-1",
        "MLFLOW_FLASK_SERVER_SECRET_KEY": "test",
    }
    with _serving(tmp_path, backend_database, "--app-name", "basic-auth", env=env) as url:
        users = {"governance": "service-password-1", "validator": "validator-password-1"}
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "admin-password-1")
        admin = get_app_client("basic-auth", tracking_uri=url)
        for user, password in users.items():
            admin.create_user(user, password)
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "governance")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", users["governance"])
        _point_at(url, backend_database, tmp_path, monkeypatch)
        yield url, users


def _govern(*args: str):
    result = run_govern(list(args))
    assert result.exit_code == 0, result.output
    return result


#: What someone with MLflow access but no governance role tries on the registry, run in a
#: process of their own with their credentials; prints each attempt's error code.
_TAMPERING = """
import sys
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

client = MlflowClient(sys.argv[1], sys.argv[1])
attempts = {
    "move champion": lambda: client.set_registered_model_alias("execution-impact", "champion", "1"),
    "edit a tag": lambda: client.set_model_version_tag("execution-impact", "1", "lifecycle", "x"),
    "edit the description": lambda: client.update_model_version("execution-impact", "1", "x"),
    "delete the version": lambda: client.delete_model_version("execution-impact", "1"),
}
for name, attempt in attempts.items():
    try:
        attempt()
        print(name, "ALLOWED")
    except MlflowException as exc:
        print(name, exc.error_code)
print("read", client.get_model_version("execution-impact", "1").version)
"""


def test_lifecycle_through_an_authenticated_mlflow_server(
    prefect_server, small_data_dir, tmp_path, authenticated_server
):
    """The whole lifecycle as the governance service; a validator's writes are refused."""
    url, users = authenticated_server
    workdir = tmp_path / "w"
    for seed in ("0", "1"):
        done = retrain(small_data_dir, workdir, "--seed", seed)
        assert done.exit_code == 0, done.output
        # The validator signs with their key; the service applies the decision.
        version = str(int(seed) + 1)
        _govern(
            "signoff", "approve", MODEL, version, "--as", "validator", "--workdir", str(workdir)
        )

    env = {
        **os.environ,
        "MLFLOW_TRACKING_USERNAME": "validator",
        "MLFLOW_TRACKING_PASSWORD": users["validator"],
    }
    tried = subprocess.run(
        [sys.executable, "-c", _TAMPERING, url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert tried.returncode == 0, tried.stderr
    assert tried.stdout.splitlines() == [
        "move champion PERMISSION_DENIED",
        "edit a tag PERMISSION_DENIED",
        "edit the description PERMISSION_DENIED",
        "delete the version PERMISSION_DENIED",
        "read 1",
    ], tried.stdout

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
    assert settings.tracking_uri == url
    # Nothing of MLflow's on the host that ran the commands: the server holds it all.
    assert not (workdir / "mlflow.db").exists() and not (workdir / "artifacts").exists()
    assert any((tmp_path / "server-artifacts").rglob("MLmodel"))
    client = MlflowClient(url, url)  # explicit: the process may hold another registry URI
    assert client.get_model_version_by_alias(MODEL, "champion").version == "1"
    assert client.get_model_version(MODEL, "1").source.startswith("models:/m-")
    with open_audit_log(settings.audit_db_url, create=False) as audit:
        assert audit.verify().ok
    assert load_champion(MODEL, workdir=workdir).version == "1"
