"""Append-only, hash-chained audit log of governance events, stored in SQL.

Every lifecycle arrow of a model version (data validated, candidate trained,
compared, stressed, gated, signed off, promoted, rolled back, decommissioned)
becomes one row of the table ``governance_audit_events``. By default the table
lives in the database of the MLflow backend store (SQLite on a laptop,
PostgreSQL at scale); its name and its index and constraint names are prefixed
so they never collide with MLflow's own tables.

Each event stores the SHA-256 of its canonical JSON payload and the hash of the
event before it; its own ``event_hash`` is the SHA-256 of the canonical JSON of
``(seq, event_id, ts, actor, action, model, version, payload_sha256,
prev_hash)``. The first event links to :data:`GENESIS_HASH`. Editing,
inserting or deleting any row therefore breaks the chain at that row, which
:meth:`AuditLog.verify` reports by sequence number.

The module has no update or delete path. The table also refuses ``UPDATE`` and
``DELETE`` (and ``TRUNCATE`` on PostgreSQL) through triggers created with it;
someone with DDL rights can drop them, which is what the hash chain is for.
What a chain cannot show on its own is the loss of its *newest* rows or a
rewrite of every hash after an edit: record :attr:`ChainReport.head_seq` and
:attr:`ChainReport.head_hash` somewhere else (an MLflow run tag, a ticket, a
signed report) to anchor it.

Appends are serialised across processes: SQLite transactions that append start
with ``BEGIN IMMEDIATE`` (one writer at a time, others wait up to the busy
timeout); PostgreSQL ones take ``LOCK TABLE ... IN EXCLUSIVE MODE`` (readers
are not blocked). On any database the primary key on ``seq`` and the unique
``prev_hash`` turn a lost race into a clean failure, which is retried.

Examples
--------
>>> log = open_audit_log("sqlite:////tmp/work/mlflow.db")  # doctest: +SKIP
>>> event = log.append(  # doctest: +SKIP
...     "alice", "signoff.approved", {"run_id": "abc"}, model="impact", version=3
... )
>>> log.verify_or_raise().summary()  # doctest: +SKIP

"""

from __future__ import annotations

import importlib.util
import json
import re
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from vocabulary.errors import IntegrityError, UsageError
from governance.hashing import canonical_json, sha256_json, sha256_text

__all__ = [
    "os_identity",
    "record_event",
    "ACTION_PATTERN",
    "GENESIS_HASH",
    "KNOWN_ACTIONS",
    "TABLE_NAME",
    "AuditEvent",
    "AuditLog",
    "AuditTransaction",
    "ChainReport",
    "audit_events_table",
    "compute_event_hash",
    "create_audit_engine",
    "open_audit_log",
    "verify_chain",
]

TABLE_NAME = "governance_audit_events"
"""Name of the audit table, chosen not to collide with MLflow's tables."""

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first event (seq 1)."""

KNOWN_ACTIONS = frozenset(
    {
        "data.validated",
        "data.rejected",
        "candidate.trained",
        "candidate.compared",
        "candidate.stressed",
        "candidate.gated",
        "signoff.approved",
        "signoff.rejected",
        "version.promoted",
        "version.rolled_back",
        "version.decommissioned",
    }
)
"""Actions of the model lifecycle; others are accepted if they match :data:`ACTION_PATTERN`."""

ACTION_PATTERN = re.compile(r"^[a-z_]+\.[a-z_]+$")
"""Shape of an action name: ``subject.verb``, lowercase letters and underscores."""

_MAX_ACTOR = 200
_MAX_ACTION = 100
_MAX_MODEL = 255
_MAX_VERSION = 64
_APPEND_ATTEMPTS = 5
_SQLITE_LOCK_OPTION = "governance_audit_begin_immediate"
_LOCK_TIMEOUT_OPTION = "governance_audit_lock_timeout_s"
_PG_CREATE_LOCK_KEY = 0x60E4A0D1  # pg_advisory_xact_lock key serialising table creation

_metadata = sa.MetaData()

audit_events_table = sa.Table(
    TABLE_NAME,
    _metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("event_id", sa.String(36), nullable=False),
    sa.Column("ts", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(_MAX_ACTOR), nullable=False),
    sa.Column("action", sa.String(_MAX_ACTION), nullable=False),
    sa.Column("model", sa.String(_MAX_MODEL), nullable=True),
    sa.Column("version", sa.String(_MAX_VERSION), nullable=True),
    sa.Column("payload_json", sa.Text, nullable=False),
    sa.Column("payload_sha256", sa.String(64), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("event_hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("event_id", name="uq_governance_audit_events_event_id"),
    sa.UniqueConstraint("prev_hash", name="uq_governance_audit_events_prev_hash"),
    sa.Index("ix_governance_audit_events_model_version", "model", "version"),
)
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


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One stored audit event, exactly as it sits in the table.

    Attributes
    ----------
    seq : int
        Position in the chain, 1, 2, 3, ... without gaps.
    event_id : str
        Random UUID4 of the event.
    ts : str
        UTC time of the append, ISO-8601 with microseconds.
    actor : str
        Who or what acted (a user name, ``"retrain-flow"``, ...).
    action : str
        What happened, ``subject.verb`` (see :data:`KNOWN_ACTIONS`).
    model : str or None
        Registered model name the event concerns, if any.
    version : str or None
        Model version the event concerns, if any.
    payload_json : str
        Canonical JSON text of the payload (a JSON object).
    payload_sha256 : str
        SHA-256 of ``payload_json``.
    prev_hash : str
        ``event_hash`` of the event at ``seq - 1``, or :data:`GENESIS_HASH`.
    event_hash : str
        Hash of this event; see :func:`compute_event_hash`.

    """

    seq: int
    event_id: str
    ts: str
    actor: str
    action: str
    model: str | None
    version: str | None
    payload_json: str
    payload_sha256: str
    prev_hash: str
    event_hash: str

    @property
    def payload(self) -> dict[str, Any]:
        """Return a fresh copy of the payload, parsed from :attr:`payload_json`."""
        return json.loads(self.payload_json)

    def recompute_hash(self) -> str:
        """Return the event hash recomputed from the stored fields.

        Returns
        -------
        str
            What :attr:`event_hash` must equal for an untampered event.

        """
        return compute_event_hash(
            seq=self.seq,
            event_id=self.event_id,
            ts=self.ts,
            actor=self.actor,
            action=self.action,
            model=self.model,
            version=self.version,
            payload_sha256=self.payload_sha256,
            prev_hash=self.prev_hash,
        )


@dataclass(frozen=True, slots=True)
class ChainReport:
    """Outcome of verifying the whole audit chain.

    Attributes
    ----------
    ok : bool
        True when every event from seq 1 to the head is intact and linked.
    checked : int
        Events verified intact (all of them when ``ok``; those before the break otherwise).
    matched : int
        Among the intact events, how many concern ``model`` (all when ``model`` is None).
    first_broken_seq : int or None
        Sequence number where the chain first fails, or None when ``ok``.
    reason : str or None
        Why it fails there, naming stored and recomputed values, or None when ``ok``.
    head_seq : int
        Sequence number of the last intact event (0 for an empty log).
    head_hash : str
        ``event_hash`` of that event (:data:`GENESIS_HASH` for an empty log); store it
        elsewhere to detect a later truncation or full rewrite of the log.
    model : str or None
        The model the report was filtered on.

    """

    ok: bool
    checked: int
    matched: int
    first_broken_seq: int | None
    reason: str | None
    head_seq: int
    head_hash: str
    model: str | None = None

    def summary(self) -> str:
        """Return a one-line, human-readable summary for the CLI and logs.

        Returns
        -------
        str
            ``"audit chain ok: ..."`` or ``"audit chain BROKEN: <reason>"``.

        """
        scope = "" if self.model is None else f", {self.matched} for model {self.model!r}"
        if self.ok:
            return (
                f"audit chain ok: {self.checked} events{scope}, "
                f"head seq {self.head_seq} hash {self.head_hash}"
            )
        return f"audit chain BROKEN: {self.reason} ({self.checked} events intact before it)"


@dataclass(frozen=True, slots=True)
class _Draft:
    """Validated content of an event that is not yet sealed into the chain."""

    actor: str
    action: str
    model: str | None
    version: str | None
    payload_json: str
    payload_sha256: str


def compute_event_hash(
    *,
    seq: int,
    event_id: str,
    ts: str,
    actor: str,
    action: str,
    model: str | None,
    version: str | None,
    payload_sha256: str,
    prev_hash: str,
) -> str:
    """Return the hash that chains an event: SHA-256 of its canonical JSON header.

    Parameters
    ----------
    seq, event_id, ts, actor, action, model, version, payload_sha256, prev_hash
        The event's fields; see :class:`AuditEvent`.

    Returns
    -------
    str
        ``sha256(canonical_json({"action": ..., "actor": ..., ..., "version": ...}))``,
        64 lowercase hex characters. An auditor can recompute it with any JSON
        library that sorts keys and writes no whitespace.

    """
    header = {
        "seq": seq,
        "event_id": event_id,
        "ts": ts,
        "actor": actor,
        "action": action,
        "model": model,
        "version": version,
        "payload_sha256": payload_sha256,
        "prev_hash": prev_hash,
    }
    return sha256_json(header)


def verify_chain(events: Iterable[AuditEvent], model: str | None = None) -> ChainReport:
    """Verify payload hashes, event hashes and links of a complete chain, in order.

    Pure function: it reads nothing but ``events``, so it can check a log
    exported to a file as well as the table.

    Parameters
    ----------
    events : iterable of AuditEvent
        Every event of the log, ordered by ``seq`` from 1.
    model : str, optional
        Only counts which intact events concern this model; the whole chain is
        verified regardless, since a break anywhere makes later links untrustworthy.

    Returns
    -------
    ChainReport
        ``ok`` or the first broken seq and the reason.

    """
    head_seq, head_hash, checked, matched = 0, GENESIS_HASH, 0, 0
    for event in events:
        problem = _first_problem(event, head_seq, head_hash)
        if problem is not None:
            broken_seq, reason = problem
            return ChainReport(
                False, checked, matched, broken_seq, reason, head_seq, head_hash, model
            )
        head_seq, head_hash = event.seq, event.event_hash
        checked += 1
        matched += model is None or event.model == model
    return ChainReport(True, checked, matched, None, None, head_seq, head_hash, model)


def os_identity() -> str:
    """``user@host`` of the process writing an event.

    ``--as`` names who acts in the governance sense and is not authenticated here; the
    operating-system account and host are recorded beside it so that a false ``--as``
    can be traced to whoever typed it.
    """
    import getpass
    import socket

    return f"{getpass.getuser()}@{socket.gethostname()}"


def record_event(
    db_url: str,
    actor: str,
    action: str,
    payload: Mapping[str, Any],
    model: str | None = None,
    version: str | int | None = None,
) -> AuditEvent:
    """Append one event to the log at ``db_url``, stamped with :func:`os_identity`.

    The one way the pipeline's steps write to the log, so that every event records the
    operating-system account and host beside the governance ``actor``.
    """
    with open_audit_log(db_url) as audit:
        return audit.append(
            actor, action, {**payload, "recorded_by": os_identity()}, model=model, version=version
        )


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
    url = _parse_url(db_url)
    try:
        options = {_LOCK_TIMEOUT_OPTION: busy_timeout_s}
        if url.get_backend_name() == "sqlite":
            engine = sa.create_engine(
                url, connect_args={"timeout": busy_timeout_s}, execution_options=options
            )
            sa.event.listen(engine, "connect", _sqlite_on_connect)
            sa.event.listen(engine, "begin", _sqlite_on_begin)
        else:
            engine = sa.create_engine(url, pool_pre_ping=True, execution_options=options)
    except (sa.exc.NoSuchModuleError, ModuleNotFoundError) as exc:
        raise UsageError(
            f"expected a database URL whose driver is installed, got {_safe_url(url)!r}: {exc}"
        ) from exc
    return engine


def open_audit_log(
    db_url: str | URL, *, busy_timeout_s: float = 30.0, create: bool = True
) -> AuditLog:
    """Open the audit log in a database, creating its table if needed.

    Parameters
    ----------
    db_url : str or sqlalchemy.engine.URL
        Database URL; by default the MLflow backend store URI.
    busy_timeout_s : float, optional
        How long an append waits for a concurrent one before failing.
    create : bool, optional
        Create the table (and its append-only triggers) when missing. With
        ``False`` a missing table is an error, which is what a verifier wants:
        an empty log in the wrong database would otherwise verify as "ok".

    Returns
    -------
    AuditLog
        The open log; close it, or use it as a context manager.

    Raises
    ------
    UsageError
        If the URL is unusable, or the table is missing and ``create`` is False.

    """
    engine = create_audit_engine(db_url, busy_timeout_s=busy_timeout_s)
    try:
        if not sa.inspect(engine).has_table(TABLE_NAME):
            if not create:
                raise UsageError(
                    f"expected an audit table {TABLE_NAME!r} in {_safe_url(engine.url)!r}, "
                    f"got none (is this the MLflow backend store the pipeline writes to?)"
                )
            _create_table(engine)
    except BaseException:
        engine.dispose()
        raise
    return AuditLog(engine)


class AuditTransaction:
    """Handle on one locked transaction of the audit log; see :meth:`AuditLog.locked`.

    Parameters
    ----------
    connection : sqlalchemy.engine.Connection
        Connection inside the locked transaction.

    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._head: tuple[int, str] | None = None

    @property
    def connection(self) -> Connection:
        """The SQLAlchemy connection of the transaction, for work that must commit with it."""
        return self._connection

    def head(self) -> AuditEvent | None:
        """Return the newest event, including ones appended in this transaction.

        Returns
        -------
        AuditEvent or None
            None for an empty log.

        """
        return _read_head(self._connection)

    def append(
        self,
        actor: str,
        action: str,
        payload: Mapping[str, Any],
        model: str | None = None,
        version: str | int | None = None,
    ) -> AuditEvent:
        """Append an event; it is durable once the ``locked()`` block exits normally.

        Parameters
        ----------
        actor, action, payload, model, version
            As for :meth:`AuditLog.append`.

        Returns
        -------
        AuditEvent
            The event as stored.

        Raises
        ------
        UsageError
            If an argument is invalid; nothing is written.

        """
        return self._append_draft(_draft(actor, action, payload, model, version))

    def _append_draft(self, draft: _Draft) -> AuditEvent:
        """Seal ``draft`` onto the current head and insert it."""
        seq, prev_hash = self._next_link()
        event = _seal(draft, seq, prev_hash)
        self._connection.execute(sa.insert(audit_events_table).values(**_as_row(event)))
        self._head = (event.seq, event.event_hash)
        return event

    def _next_link(self) -> tuple[int, str]:
        """Return the seq and prev_hash the next event takes."""
        if self._head is None:
            table = audit_events_table
            query = sa.select(table.c.seq, table.c.event_hash).order_by(table.c.seq.desc())
            row = self._connection.execute(query.limit(1)).first()
            self._head = (0, GENESIS_HASH) if row is None else (int(row.seq), row.event_hash)
        return self._head[0] + 1, self._head[1]


class AuditLog:
    """The audit log of one database. Open it with :func:`open_audit_log`.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        Engine from :func:`create_audit_engine` whose database already holds
        the audit table. The log disposes of it on :meth:`close`.

    Raises
    ------
    UsageError
        If ``engine`` is an SQLite engine not made by :func:`create_audit_engine`
        (it could not serialise appends).

    """

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name == "sqlite" and not sa.event.contains(
            engine, "begin", _sqlite_on_begin
        ):
            raise UsageError(
                "expected an SQLite engine made by create_audit_engine() (it serialises "
                "appends with BEGIN IMMEDIATE), got a plain one"
            )
        self._engine = engine

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine of the log."""
        return self._engine

    def append(
        self,
        actor: str,
        action: str,
        payload: Mapping[str, Any],
        model: str | None = None,
        version: str | int | None = None,
    ) -> AuditEvent:
        """Append one event at the end of the chain, in its own transaction.

        Parameters
        ----------
        actor : str
            Who acted; non-empty, no surrounding whitespace, at most 200 characters.
        action : str
            ``subject.verb`` such as ``"version.promoted"``; see :data:`KNOWN_ACTIONS`.
        payload : Mapping[str, Any]
            JSON object with the evidence (run ids, metrics, reasons, and the
            URIs and SHA-256 of datasets and artifacts). Plain JSON types only.
        model : str, optional
            Registered model name the event concerns.
        version : str or int, optional
            Model version; stored as text. Requires ``model``.

        Returns
        -------
        AuditEvent
            The event as committed.

        Raises
        ------
        UsageError
            If an argument is invalid; nothing is written.

        """
        draft = _draft(actor, action, payload, model, version)
        for attempt in range(1, _APPEND_ATTEMPTS + 1):
            try:
                with self.locked() as transaction:
                    return transaction._append_draft(draft)
            except sa.exc.IntegrityError:
                # Only reachable on databases we cannot lock: another writer took the seq.
                if attempt == _APPEND_ATTEMPTS:
                    raise
                time.sleep(0.01 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    @contextmanager
    def locked(self) -> Iterator[AuditTransaction]:
        """Hold the append lock for a block; its appends and other work commit together.

        Everything done through the yielded handle, and through its
        ``connection``, commits when the block exits normally and rolls back
        if it raises. No other process can append meanwhile.

        On SQLite the lock is the database's single write lock: any other
        connection that writes to the same file, MLflow's own included, waits
        (and fails after the busy timeout) until the block exits. Do MLflow
        writes before or after the block there, not inside it. On PostgreSQL
        only the audit table is locked, and plain reads are never blocked.

        Yields
        ------
        AuditTransaction
            Handle with ``append``, ``head`` and ``connection``.

        """
        with self._engine.connect() as connection:
            connection.execution_options(**{_SQLITE_LOCK_OPTION: True})
            with connection.begin():
                _lock_for_append(connection)
                yield AuditTransaction(connection)

    def events(
        self, model: str | None = None, version: str | int | None = None
    ) -> list[AuditEvent]:
        """Return stored events ordered by seq, optionally of one model or model version.

        The events are returned as stored, without verification; call
        :meth:`verify` to check them.

        Parameters
        ----------
        model : str, optional
            Only events of this registered model.
        version : str or int, optional
            Only events of this version of ``model``. Requires ``model``.

        Returns
        -------
        list of AuditEvent
            Matching events, oldest first.

        Raises
        ------
        UsageError
            If ``version`` is given without ``model`` or either is malformed.

        """
        model, version = _subject(model, version)
        table = audit_events_table
        query = sa.select(table).order_by(table.c.seq)
        if model is not None:
            query = query.where(table.c.model == model)
        if version is not None:
            query = query.where(table.c.version == version)
        with self._engine.connect() as connection:
            return [AuditEvent(**row._mapping) for row in connection.execute(query)]

    def head(self) -> AuditEvent | None:
        """Return the newest event, or None for an empty log.

        Returns
        -------
        AuditEvent or None
            The event with the highest seq.

        """
        with self._engine.connect() as connection:
            return _read_head(connection)

    def verify(self, model: str | None = None) -> ChainReport:
        """Recompute every payload hash, event hash and link of the whole chain.

        Reads the table in batches within one read transaction, so the chain is
        checked as of one moment even while other processes append.

        Parameters
        ----------
        model : str, optional
            Only narrows which events the report counts; the whole chain is verified.

        Returns
        -------
        ChainReport
            ``ok``, or the first broken seq and the reason.

        """
        model, _ = _subject(model, None)
        query = sa.select(audit_events_table).order_by(audit_events_table.c.seq)
        with self._engine.connect() as connection:
            rows = connection.execution_options(yield_per=1000).execute(query)
            return verify_chain((AuditEvent(**row._mapping) for row in rows), model)

    def verify_or_raise(self, model: str | None = None) -> ChainReport:
        """Verify like :meth:`verify` and raise if the chain is broken.

        Parameters
        ----------
        model : str, optional
            Only narrows which events the report counts.

        Returns
        -------
        ChainReport
            The report of an intact chain.

        Raises
        ------
        IntegrityError
            If the chain is broken; the message is the report's reason.

        """
        report = self.verify(model)
        if not report.ok:
            raise IntegrityError(f"audit log {_safe_url(self._engine.url)}: {report.reason}")
        return report

    def close(self) -> None:
        """Dispose of the engine's connections."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _first_problem(event: AuditEvent, prev_seq: int, prev_hash: str) -> tuple[int, str] | None:
    """Return ``(broken seq, reason)`` if ``event`` does not extend the chain, else None."""
    seq = event.seq
    if seq <= prev_seq:
        return seq, f"sequence out of order: seq {seq} follows seq {prev_seq}"
    if seq > prev_seq + 1:
        missing = f"{prev_seq + 1}" if seq == prev_seq + 2 else f"{prev_seq + 1} to {seq - 1}"
        return prev_seq + 1, f"gap in sequence: seq {missing} missing"
    payload_hash = sha256_text(event.payload_json)
    if payload_hash != event.payload_sha256:
        return seq, (
            f"payload hash mismatch at seq {seq}: stored {_short(event.payload_sha256)}, "
            f"recomputed {_short(payload_hash)}"
        )
    if event.prev_hash != prev_hash:
        linked_to = "the genesis hash (64 zeros)" if seq == 1 else f"the hash of seq {prev_seq}"
        return seq, f"chain broken at seq {seq}: prev_hash does not match {linked_to}"
    event_hash = event.recompute_hash()
    if event_hash != event.event_hash:
        return seq, (
            f"event hash mismatch at seq {seq}: stored {_short(event.event_hash)}, "
            f"recomputed {_short(event_hash)}"
        )
    return None


def _read_head(connection: Connection) -> AuditEvent | None:
    """Return the event with the highest seq, or None for an empty log."""
    query = sa.select(audit_events_table).order_by(audit_events_table.c.seq.desc()).limit(1)
    row = connection.execute(query).first()
    return None if row is None else AuditEvent(**row._mapping)


def _short(digest: str) -> str:
    """Abbreviate a hex digest for messages."""
    return f"{digest[:12]}.." if len(digest) > 12 else repr(digest)


def _seal(draft: _Draft, seq: int, prev_hash: str) -> AuditEvent:
    """Give ``draft`` its place in the chain: seq, id, time and hashes."""
    event_id = str(uuid.uuid4())
    ts = datetime.now(UTC).isoformat(timespec="microseconds")
    event_hash = compute_event_hash(
        seq=seq,
        event_id=event_id,
        ts=ts,
        actor=draft.actor,
        action=draft.action,
        model=draft.model,
        version=draft.version,
        payload_sha256=draft.payload_sha256,
        prev_hash=prev_hash,
    )
    return AuditEvent(
        seq=seq,
        event_id=event_id,
        ts=ts,
        actor=draft.actor,
        action=draft.action,
        model=draft.model,
        version=draft.version,
        payload_json=draft.payload_json,
        payload_sha256=draft.payload_sha256,
        prev_hash=prev_hash,
        event_hash=event_hash,
    )


def _as_row(event: AuditEvent) -> dict[str, Any]:
    """Return the column values of ``event``."""
    return {column.name: getattr(event, column.name) for column in audit_events_table.columns}


def _draft(actor: Any, action: Any, payload: Any, model: Any, version: Any) -> _Draft:
    """Validate the caller's arguments and canonicalise the payload."""
    _check_text("actor", actor, _MAX_ACTOR)
    _check_action(action)
    if not isinstance(payload, Mapping):
        raise UsageError(
            f"payload must be a JSON object (a dict with str keys), got {type(payload).__name__}"
        )
    model, version = _subject(model, version)
    payload_json = canonical_json(dict(payload), label="payload")
    return _Draft(actor, action, model, version, payload_json, sha256_text(payload_json))


def _check_action(action: Any) -> None:
    """Raise :class:`UsageError` unless ``action`` is a well-formed ``subject.verb``."""
    _check_text("action", action, _MAX_ACTION)
    if action not in KNOWN_ACTIONS and not ACTION_PATTERN.fullmatch(action):
        raise UsageError(
            f"action must be 'subject.verb' in lowercase letters and underscores "
            f"(e.g. one of {', '.join(sorted(KNOWN_ACTIONS))}), got {action!r}"
        )


def _subject(model: Any, version: Any) -> tuple[str | None, str | None]:
    """Validate an optional model name and version; return them as text."""
    if model is not None:
        _check_text("model", model, _MAX_MODEL)
    if version is None:
        return model, None
    if model is None:
        raise UsageError(f"version {version!r} needs a model name, got model=None")
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)
    _check_text("version", version, _MAX_VERSION)
    return model, version


def _check_text(name: str, value: Any, max_length: int) -> None:
    """Raise :class:`UsageError` unless ``value`` is a trimmed, non-empty, short enough str."""
    if not isinstance(value, str):
        raise UsageError(f"{name} must be a non-empty str, got {type(value).__name__} {value!r}")
    if not value.strip():
        raise UsageError(f"{name} must be a non-empty str, got {value!r}")
    if value != value.strip():
        raise UsageError(f"{name} must not start or end with whitespace, got {value!r}")
    if len(value) > max_length:
        raise UsageError(
            f"{name} must be at most {max_length} characters, got {len(value)}: {value[:40]!r}.."
        )


def _parse_url(db_url: str | URL) -> URL:
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


def _safe_url(url: URL) -> str:
    """Render ``url`` for messages, password hidden."""
    return url.render_as_string(hide_password=True)


def _create_table(engine: Engine) -> None:
    """Create the audit table and its append-only triggers, once, under a lock."""
    with engine.connect() as connection:
        connection.execution_options(**{_SQLITE_LOCK_OPTION: True})
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


def _lock_for_append(connection: Connection) -> None:
    """Take the lock that serialises appends (SQLite already did, at BEGIN IMMEDIATE)."""
    if connection.dialect.name == "postgresql":
        timeout_s = connection.get_execution_options().get(_LOCK_TIMEOUT_OPTION, 30.0)
        timeout_ms = max(1, int(timeout_s * 1000))
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {timeout_ms}")
        connection.exec_driver_sql(f"LOCK TABLE {TABLE_NAME} IN EXCLUSIVE MODE")


def _sqlite_on_connect(dbapi_connection: Any, _connection_record: Any) -> None:
    """Stop pysqlite from issuing BEGIN itself, so :func:`_sqlite_on_begin` can choose."""
    dbapi_connection.isolation_level = None


def _sqlite_on_begin(connection: Connection) -> None:
    """Start SQLite transactions: IMMEDIATE for appends, DEFERRED otherwise."""
    immediate = connection.get_execution_options().get(_SQLITE_LOCK_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
