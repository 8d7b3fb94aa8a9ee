"""The audit log of one database: appending under a lock, reading, verifying."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from governance.ledger.chain import (
    GENESIS_HASH,
    AuditEvent,
    ChainReport,
    Draft,
    draft_event,
    seal,
    subject_of,
    verify_chain,
)
from governance.ledger.schema import (
    SQLITE_LOCK_OPTION,
    TABLE_NAME,
    as_row,
    audit_events_table,
    create_audit_engine,
    create_table,
    lock_for_append,
    read_head,
    safe_url,
    sqlite_on_begin,
)
from vocabulary import IntegrityError, UsageError

__all__ = [
    "AuditLog",
    "AuditTransaction",
    "open_audit_log",
    "os_identity",
    "record_event",
]


_APPEND_ATTEMPTS = 5


def os_identity() -> str:
    """``name(uid)@host`` of the process writing an event, from the kernel, not the environment.

    ``--as`` names who acts in the governance sense; the operating-system account and host
    are recorded beside it so that a false ``--as`` can be traced to whoever typed it. The
    account is the process's real uid and the name the password database gives it:
    ``LOGNAME`` and ``USER``, which anyone can set, are not read.
    """
    import os
    import pwd
    import socket

    uid = os.getuid()
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:  # a uid with no entry (a container's arbitrary user)
        name = "?"
    return f"{name}({uid})@{socket.gethostname()}"


def record_event(
    audit: AuditLog,
    actor: str,
    action: str,
    payload: Mapping[str, Any],
    model: str | None = None,
    version: str | int | None = None,
    *,
    key: str | None = None,
) -> AuditEvent:
    """Append one event stamped with :func:`os_identity`, at most once per ``key``.

    The one way the pipeline's steps write to the log, so that every event records the
    operating-system account and host beside the governance ``actor``.

    Parameters
    ----------
    audit
        The open log (``stores.audit``).
    actor, action, payload, model, version
        As for :meth:`AuditLog.append`.
    key
        Idempotency key, stored in the payload as ``event_key``. When an event of the same
        model and version already carries it, that event is returned and nothing is
        written, so a retried task never appends a second event.

    Returns
    -------
    AuditEvent
        The event appended, or the one appended earlier under ``key``.
    """
    body = {**payload, "recorded_by": os_identity()}
    if key is not None:
        body["event_key"] = key
    with audit.locked() as transaction:
        earlier = None if key is None else transaction.find_key(key, model, version)
        if earlier is not None:
            return earlier
        return transaction.append(actor, action, body, model=model, version=version)


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
                    f"expected an audit table {TABLE_NAME!r} in {safe_url(engine.url)!r}, "
                    f"got none (is this the MLflow backend store the pipeline writes to?)"
                )
            create_table(engine)
    except BaseException:
        engine.dispose()
        raise
    return AuditLog(engine)


def _events_query(
    model: str | None, version: str | int | None, action: str | None = None
) -> sa.Select:
    """Events ordered by seq, of one model, version or action when given (checked names)."""
    model, version = subject_of(model, version)
    table = audit_events_table
    query = sa.select(table).order_by(table.c.seq)
    if model is not None:
        query = query.where(table.c.model == model)
    if version is not None:
        query = query.where(table.c.version == version)
    if action is not None:
        query = query.where(table.c.action == action)
    return query


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
        return read_head(self._connection)

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
        return self._append_draft(draft_event(actor, action, payload, model, version))

    def find_key(self, key: str, model: str | None, version: str | int | None) -> AuditEvent | None:
        """The event of ``model``/``version`` whose payload carries ``event_key == key``."""
        model, version = subject_of(model, version)
        table = audit_events_table
        query = sa.select(table).where(table.c.model == model).order_by(table.c.seq)
        if version is not None:
            query = query.where(table.c.version == version)
        for row in self._connection.execute(query):
            event = AuditEvent(**row._mapping)
            if event.payload.get("event_key") == key:
                return event
        return None

    def events(
        self,
        model: str | None = None,
        version: str | int | None = None,
        action: str | None = None,
    ) -> list[AuditEvent]:
        """Events of the log as this transaction sees them, oldest first, optionally filtered.

        Parameters
        ----------
        model, version
            As for :meth:`AuditLog.events`.
        action
            Only events of this action.

        Returns
        -------
        list of AuditEvent
            Unverified, as stored.
        """
        query = _events_query(model, version, action)
        return [AuditEvent(**row._mapping) for row in self._connection.execute(query)]

    def _append_draft(self, draft: Draft) -> AuditEvent:
        """Seal ``draft`` onto the current head and insert it."""
        seq, prev_hash = self._next_link()
        event = seal(draft, seq, prev_hash)
        self._connection.execute(sa.insert(audit_events_table).values(**as_row(event)))
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
            engine, "begin", sqlite_on_begin
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
        draft = draft_event(actor, action, payload, model, version)
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
            connection.execution_options(**{SQLITE_LOCK_OPTION: True})
            with connection.begin():
                lock_for_append(connection)
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
        query = _events_query(model, version)
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
            return read_head(connection)

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
        model, _ = subject_of(model, None)
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
            raise IntegrityError(f"audit log {safe_url(self._engine.url)}: {report.reason}")
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
