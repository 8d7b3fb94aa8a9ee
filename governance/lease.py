"""One lifecycle change at a time per model: a lease row in the governance database.

Promotion, rollback and decommissioning move aliases in MLflow and append an audit
event. Two of them interleaving could leave the aliases and the log disagreeing, so
each holds the model's lease for its duration. Taking the lease is a single INSERT on
a primary key, which every SQL database arbitrates atomically; no transaction stays
open while MLflow is written to (on SQLite that would lock MLflow out).

The row says who holds it: the actor, the host, the process id, when it was taken and a
heartbeat the holder refreshes every :data:`HEARTBEAT_SECONDS` while it works. A lease is
*dead*, and the next process breaks it, when its holder ran on this host and its process
no longer exists (a ``kill -9``: broken at once; a paused or busy holder on this host is
alive whatever its heartbeat), or, for a holder on another host, when its heartbeat is
older than :data:`HEARTBEAT_TIMEOUT_SECONDS`. So an
emergency rollback after a crash waits seconds, never minutes, and a live holder, however
long its step, is never overtaken. A step a crash cut short may have moved aliases without
its event: ``govern audit verify`` reports it and ``govern audit reconcile`` repairs it.

A retrain holds a lease of its own, keyed by its MLflow run (:func:`retrain_beacon`), from
the moment its run is open until it ends: a version still ``validating`` whose retrain
holds no live lease was left by a killed process, and ``govern audit reconcile`` closes it
(:func:`retrain_is_alive`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from governance.audit.schema import SQLITE_LOCK_OPTION
from vocabulary.errors import NotAuthorised

__all__ = [
    "HEARTBEAT_SECONDS",
    "HEARTBEAT_TIMEOUT_SECONDS",
    "LifecycleConflict",
    "model_lease",
    "retrain_beacon",
    "retrain_is_alive",
]

#: How often a holder refreshes its heartbeat.
HEARTBEAT_SECONDS = 5.0
#: A heartbeat older than this means the holder is gone (six missed beats).
HEARTBEAT_TIMEOUT_SECONDS = 30.0

_log = logging.getLogger(__name__)
_metadata = sa.MetaData()
_leases = sa.Table(
    "governance_lifecycle_leases",
    _metadata,
    sa.Column("model", sa.String(256), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("token", sa.String(36), nullable=False),
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
)


class LifecycleConflict(NotAuthorised):
    """Another lifecycle change of the same model is in progress (rule: one at a time)."""


@contextmanager
def model_lease(engine: sa.Engine, model: str, holder: str) -> Iterator[None]:
    """Hold the lifecycle lease of ``model`` for the enclosed block, heartbeating.

    Parameters
    ----------
    engine
        The governance database's engine (the audit log's, ``stores.audit.engine``).
    model, holder
        What is leased, and who holds it (recorded in the row with host and pid).

    Raises
    ------
    LifecycleConflict
        If a live holder has the model's lease; the message names it.
    """
    _metadata.create_all(engine, checkfirst=True)
    token = _acquire(engine, model, holder)
    stop = threading.Event()
    beating = threading.Thread(
        target=_heartbeat, args=(engine, token, stop), name=f"lease-{model}", daemon=True
    )
    beating.start()
    try:
        yield
    finally:
        stop.set()
        beating.join()
        with engine.begin() as connection:
            connection.execute(sa.delete(_leases).where(_leases.c.token == token))


def retrain_beacon(engine: sa.Engine, run_id: str, holder: str) -> AbstractContextManager[None]:
    """Hold the lease of retrain run ``run_id`` while it works (its sign of life)."""
    return model_lease(engine, _retrain_key(run_id), holder)


def retrain_is_alive(engine: sa.Engine, run_id: str) -> bool:
    """Whether the retrain of run ``run_id`` holds a live lease (is still working)."""
    _metadata.create_all(engine, checkfirst=True)
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(_leases).where(_leases.c.model == _retrain_key(run_id))
        ).first()
    return row is not None and not _is_dead(row, datetime.now(UTC), socket.gethostname())


def _retrain_key(run_id: str) -> str:
    return f"retrain:{run_id}"


def _heartbeat(engine: sa.Engine, token: str, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_SECONDS):
        try:
            with engine.begin() as connection:
                beat = connection.execute(
                    sa.update(_leases)
                    .where(_leases.c.token == token)
                    .values(heartbeat_at=datetime.now(UTC))
                )
        except sa.exc.SQLAlchemyError as exc:  # the step itself will meet the outage
            _log.warning("lease heartbeat failed: %s", exc)
            continue
        if beat.rowcount == 0:
            # Broken by another process that took this holder for dead (only across hosts,
            # after 30 s of silence): say so loudly; the rules re-read the log before acting.
            _log.error("the lifecycle lease %s was broken by another process", token)
            return


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def _is_dead(row: sa.Row, now: datetime, host: str) -> bool:
    """Whether the lease's holder is gone: by its process on this host, by heartbeat elsewhere.

    A paused or busy holder on this host is alive whatever its heartbeat says.
    """
    if row.host == host:
        return row.pid != os.getpid() and not _process_exists(row.pid)
    heartbeat = row.heartbeat_at
    if heartbeat.tzinfo is None:  # SQLite returns naive datetimes; they were stored in UTC
        heartbeat = heartbeat.replace(tzinfo=UTC)
    return now - heartbeat > timedelta(seconds=HEARTBEAT_TIMEOUT_SECONDS)


def _break_dead_lease(engine: sa.Engine, model: str, now: datetime, host: str) -> None:
    with engine.connect() as connection:
        # BEGIN IMMEDIATE on SQLite: two processes breaking the same lease wait for each
        # other instead of failing to upgrade a read lock.
        connection.execution_options(**{SQLITE_LOCK_OPTION: True})
        with connection.begin():
            _break_if_dead(connection, model, now, host)


def _break_if_dead(connection: sa.Connection, model: str, now: datetime, host: str) -> None:
    row = connection.execute(sa.select(_leases).where(_leases.c.model == model)).first()
    if row is not None and _is_dead(row, now, host):
        # By token: only the dead row goes, never one a live process took meanwhile.
        connection.execute(sa.delete(_leases).where(_leases.c.token == row.token))
        _log.warning(
            "broke the lifecycle lease of %s left by %s (pid %s on %s, taken %s)",
            model,
            row.holder,
            row.pid,
            row.host,
            row.acquired_at,
        )


def _acquire(engine: sa.Engine, model: str, holder: str) -> str:
    now = datetime.now(UTC)
    host = socket.gethostname()
    token = str(uuid.uuid4())
    _break_dead_lease(engine, model, now, host)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.insert(_leases).values(
                    model=model,
                    holder=holder,
                    host=host,
                    pid=os.getpid(),
                    token=token,
                    acquired_at=now,
                    heartbeat_at=now,
                )
            )
    except sa.exc.IntegrityError:
        raise LifecycleConflict(_conflict_message(engine, model, now)) from None
    return token


def _conflict_message(engine: sa.Engine, model: str, now: datetime) -> str:
    with engine.connect() as connection:
        row = connection.execute(sa.select(_leases).where(_leases.c.model == model)).first()
    if row is None:
        who = "another process (it has just finished)"
    else:
        heartbeat = row.heartbeat_at
        heartbeat = heartbeat if heartbeat.tzinfo else heartbeat.replace(tzinfo=UTC)
        who = (
            f"{row.holder} (pid {row.pid} on {row.host}, since {row.acquired_at}, last "
            f"heartbeat {(now - heartbeat).total_seconds():.0f} s ago)"
        )
    return (
        f"refused by rule 'one lifecycle change at a time': {model} is being changed by "
        f"{who}; retry when it has finished (a holder silent for "
        f"{HEARTBEAT_TIMEOUT_SECONDS:.0f} s, or whose process on this host is gone, is taken "
        f"to be dead and its lease broken)"
    )
