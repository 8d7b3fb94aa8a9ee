"""The audit table in SQL: its schema, append-only triggers, engines and append locks."""

from __future__ import annotations

import importlib.util
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from governance.ledger.chain import MAX_ACTION, MAX_ACTOR, MAX_MODEL, MAX_VERSION, AuditEvent
from vocabulary import UsageError

TABLE_NAME = "governance_audit_events"
"""Name of the audit table, chosen not to collide with MLflow's tables."""

SQLITE_LOCK_OPTION = "governance_audit_begin_immediate"
LOCK_TIMEOUT_OPTION = "governance_audit_lock_timeout_s"
_PG_CREATE_LOCK_KEY = 0x60E4A0D1  # pg_advisory_xact_lock key serialising table creation

_metadata = sa.MetaData()

audit_events_table = sa.Table(
    TABLE_NAME,
    _metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("event_id", sa.String(36), nullable=False),
    sa.Column("ts", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(MAX_ACTOR), nullable=False),
    sa.Column("action", sa.String(MAX_ACTION), nullable=False),
    sa.Column("model", sa.String(MAX_MODEL), nullable=True),
    sa.Column("version", sa.String(MAX_VERSION), nullable=True),
    sa.Column("payload_json", sa.Text, nullable=False),
    sa.Column("payload_sha256", sa.String(64), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("event_hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("event_id", name="uq_governance_audit_events_event_id"),
    sa.UniqueConstraint("prev_hash", name="uq_governance_audit_events_prev_hash"),
    sa.Index("ix_governance_audit_events_model_version", "model", "version"),
)

__all__ = [
    "LOCK_TIMEOUT_OPTION",
    "SQLITE_LOCK_OPTION",
    "TABLE_NAME",
    "as_row",
    "audit_events_table",
    "create_audit_engine",
    "create_table",
    "lock_for_append",
    "parse_url",
    "read_head",
    "safe_url",
    "sqlite_on_begin",
]

"""SQLAlchemy Core table of the audit log (its own ``MetaData``, not MLflow's)."""

_APPEND_ONLY_DDL = {
    "sqlite": [
        f"CREATE TRIGGER {TABLE_NAME}_no_update BEFORE UPDATE ON {TABLE_NAME} "
        f"BEGIN SELECT RAISE(ABORT, '{TABLE_NAME} is append-only: UPDATE refused'); END",
        f"CREATE TRIGGER {TABLE_NAME}_no_delete BEFORE DELETE ON {TABLE_NAME} "
        f"BEGIN SELECT RAISE(ABORT, '{TABLE_NAME} is append-only: DELETE refused'); END",
    ],
    "postgresql": [
        f"CREATE OR REPLACE FUNCTION {TABLE_NAME}_append_only() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION USING MESSAGE = "
        f"'{TABLE_NAME} is append-only: ' || TG_OP || ' refused'; END $$",
        f"CREATE TRIGGER {TABLE_NAME}_no_update_delete BEFORE UPDATE OR DELETE ON {TABLE_NAME} "
        f"FOR EACH ROW EXECUTE FUNCTION {TABLE_NAME}_append_only()",
        f"CREATE TRIGGER {TABLE_NAME}_no_truncate BEFORE TRUNCATE ON {TABLE_NAME} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {TABLE_NAME}_append_only()",
    ],
}


def create_audit_engine(db_url: str | URL, *, busy_timeout_s: float = 30.0) -> Engine:
    """Create an SQLAlchemy engine fit for the audit log.

    On SQLite it sets the busy timeout and installs the hooks that let
    appends start with ``BEGIN IMMEDIATE`` (other transactions on the engine
    start with a plain deferred ``BEGIN``, as SQLAlchemy recommends for
    pysqlite). A plain ``postgresql://`` URL (as MLflow takes it) uses
    psycopg 3 when psycopg2 is not installed.

    Parameters
    ----------
    db_url : str or sqlalchemy.engine.URL
        Database URL, e.g. MLflow's backend store URI
        ``sqlite:////abs/path/mlflow.db`` or ``postgresql+psycopg://user@host/mlflow``.
    busy_timeout_s : float, optional
        How long a writer waits for another one before failing.

    Returns
    -------
    sqlalchemy.engine.Engine
        The engine; dispose of it (or close the :class:`AuditLog`) when done.

    Raises
    ------
    UsageError
        If the URL is not a database URL, its driver is not installed, or the
        timeout is not positive.

    """
    if not busy_timeout_s > 0:
        raise UsageError(f"busy_timeout_s must be > 0 seconds, got {busy_timeout_s!r}")
    url = parse_url(db_url)
    try:
        options = {LOCK_TIMEOUT_OPTION: busy_timeout_s}
        if url.get_backend_name() == "sqlite":
            engine = sa.create_engine(
                url, connect_args={"timeout": busy_timeout_s}, execution_options=options
            )
            sa.event.listen(engine, "connect", _sqlite_on_connect)
            sa.event.listen(engine, "begin", sqlite_on_begin)
        else:
            engine = sa.create_engine(url, pool_pre_ping=True, execution_options=options)
    except (sa.exc.NoSuchModuleError, ModuleNotFoundError) as exc:
        raise UsageError(
            f"expected a database URL whose driver is installed, got {safe_url(url)!r}: {exc}"
        ) from exc
    return engine


def read_head(connection: Connection) -> AuditEvent | None:
    """Return the event with the highest seq, or None for an empty log."""
    query = sa.select(audit_events_table).order_by(audit_events_table.c.seq.desc()).limit(1)
    row = connection.execute(query).first()
    return None if row is None else AuditEvent(**row._mapping)


def as_row(event: AuditEvent) -> dict[str, Any]:
    """Return the column values of ``event``."""
    return {column.name: getattr(event, column.name) for column in audit_events_table.columns}


def parse_url(db_url: str | URL) -> URL:
    """Parse a database URL, choosing psycopg 3 for a bare ``postgresql://`` if needed."""
    try:
        url = sa.make_url(db_url)
    except sa.exc.ArgumentError as exc:
        raise UsageError(
            "expected an SQLAlchemy database URL such as 'sqlite:////abs/path/mlflow.db' or "
            f"'postgresql+psycopg://user@host/mlflow', got {db_url!r}"
        ) from exc
    if (
        url.drivername == "postgresql"
        and importlib.util.find_spec("psycopg2") is None
        and importlib.util.find_spec("psycopg") is not None
    ):
        url = url.set(drivername="postgresql+psycopg")
    return url


def safe_url(url: URL) -> str:
    """Render ``url`` for messages, password hidden."""
    return url.render_as_string(hide_password=True)


def create_table(engine: Engine) -> None:
    """Create the audit table and its append-only triggers, once, under a lock."""
    with engine.connect() as connection:
        connection.execution_options(**{SQLITE_LOCK_OPTION: True})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_CREATE_LOCK_KEY}
                )
            if sa.inspect(connection).has_table(TABLE_NAME):
                return  # another process created it while we waited for the lock
            _metadata.create_all(connection, tables=[audit_events_table])
            for statement in _APPEND_ONLY_DDL.get(connection.dialect.name, []):
                connection.exec_driver_sql(statement)


def lock_for_append(connection: Connection) -> None:
    """Take the lock that serialises appends (SQLite already did, at BEGIN IMMEDIATE)."""
    if connection.dialect.name == "postgresql":
        timeout_s = connection.get_execution_options().get(LOCK_TIMEOUT_OPTION, 30.0)
        timeout_ms = max(1, int(timeout_s * 1000))
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {timeout_ms}")
        connection.exec_driver_sql(f"LOCK TABLE {TABLE_NAME} IN EXCLUSIVE MODE")


def _sqlite_on_connect(dbapi_connection: Any, _connection_record: Any) -> None:
    """Stop pysqlite from issuing BEGIN itself, so :func:`sqlite_on_begin` can choose."""
    dbapi_connection.isolation_level = None


def sqlite_on_begin(connection: Connection) -> None:
    """Start SQLite transactions: IMMEDIATE for appends, DEFERRED otherwise."""
    immediate = connection.get_execution_options().get(SQLITE_LOCK_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
