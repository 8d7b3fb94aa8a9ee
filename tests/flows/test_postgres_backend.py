"""The same flows on PostgreSQL: MLflow's backend and the audit log in one server database.

Runs when GOVERN_TEST_POSTGRES_URL names a server (``make test`` starts one).
"""

import os
import uuid

import pytest
import sqlalchemy as sa
from govern_cli import retrain, run_govern
from mlflow.tracking import MlflowClient

from governance.ledger import open_audit_log
from governance.stores.settings import get_settings

SERVER = os.environ.get("GOVERN_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(
    not SERVER, reason="needs a PostgreSQL server: set GOVERN_TEST_POSTGRES_URL"
)


@pytest.fixture
def database_url(monkeypatch):
    """A fresh database on the test server, used as MLflow's backend store."""
    name = f"govern_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_lifecycle_on_postgresql(prefect_server, small_data_dir, tmp_path, database_url):
    workdir = tmp_path / "w"
    for seed in ("0", "1"):
        done = retrain(small_data_dir, workdir, "--seed", seed)
        assert done.exit_code == 0, done.output
        approved = run_govern(
            [
                "signoff",
                "approve",
                "execution-impact",
                str(int(seed) + 1),
                "--as",
                "validator",
                "--workdir",
                str(workdir),
            ]
        )
        assert approved.exit_code == 0, approved.output
    back = run_govern(
        [
            "rollback",
            "execution-impact",
            "--as",
            "on-call",
            "--reason",
            "drill",
            "--workdir",
            str(workdir),
        ]
    )
    assert back.exit_code == 0, back.output

    settings = get_settings(workdir)
    assert settings.tracking_uri == database_url == settings.audit_db_url
    assert not (workdir / "mlflow.db").exists()
    client = MlflowClient(settings.tracking_uri, settings.registry_uri)
    assert str(client.get_model_version_by_alias("execution-impact", "champion").version) == "1"
    with open_audit_log(database_url, create=False) as audit:
        assert audit.verify().ok
        assert [e.action for e in audit.events()][-2:] == [
            "version.rolled_back",
            "lifecycle.completed",
        ]
    verified = run_govern(["audit", "verify", "--workdir", str(workdir)])
    assert verified.exit_code == 0, verified.output

    # An insider with DDL rights on the server deletes the newest events (the rollback
    # and its completion):
    # the chain that is left is intact, the signed checkpoint outside the database is not.
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "DROP TRIGGER governance_audit_events_no_update_delete ON governance_audit_events"
            )
        )
        conn.execute(
            sa.text(
                "DELETE FROM governance_audit_events "
                "WHERE seq >= (SELECT MAX(seq) - 1 FROM governance_audit_events)"
            )
        )
    engine.dispose()
    with open_audit_log(database_url, create=False) as audit:
        assert audit.verify().ok
    truncated = run_govern(["audit", "verify", "--workdir", str(workdir)])
    assert truncated.exit_code == 6, truncated.output
    assert "its newest events were deleted" in truncated.stderr


_HOLD = """
import sys, time
import sqlalchemy as sa
from governance.lifecycle.lease import model_lease
with model_lease(sa.create_engine(sys.argv[1]), "m", "crasher"):
    print("held", flush=True)
    time.sleep(600)
"""


def test_the_lease_is_an_advisory_lock_of_a_live_session(database_url):
    """On PostgreSQL the lease is the holder's session lock: held while it lives, never forged."""
    import subprocess
    import sys
    from datetime import UTC, datetime

    from governance.lifecycle.lease import LifecycleConflict, model_lease

    engine = sa.create_engine(database_url)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, database_url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LifecycleConflict, match=rf"crasher \(pid {holder.pid} on "):
            with model_lease(engine, "m", "rival"):
                pass
    finally:
        holder.kill()  # SIGKILL: its session ends, the server releases the lock
        holder.wait()
    # The killed holder's row stays (it never ran its cleanup); a database writer then makes
    # it claim another host until 2099. Neither holds the lock, so neither blocks.
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE governance_lifecycle_holders SET host = 'far', acquired_at = :t"),
            {"t": datetime(2099, 1, 1, tzinfo=UTC)},
        )
    with model_lease(engine, "m", "on-call"):
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT holder FROM governance_lifecycle_holders"))
            assert [r.holder for r in rows] == ["on-call"]
    engine.dispose()
