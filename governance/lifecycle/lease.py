"""One lifecycle change at a time per model: a lock that dies with its holder.

Promotion, rollback and decommissioning move aliases in MLflow and append an audit
event. Two of them interleaving could leave the aliases and the log disagreeing, so
each holds the model's lease for its duration.

The lease *is* a lock that only a live process can hold, and that its death releases:

* on PostgreSQL, a session-level advisory lock (``pg_try_advisory_lock``) held on a
  connection of its own for the whole step; a killed holder's session ends and the server
  releases it;
* on SQLite, an exclusive ``flock`` on a file beside the database (``<db>.locks/``), which
  the kernel releases when the holder's process exits, however it exits.

Nobody can forge that: a row written into the database by hand, or a file that merely
exists, holds nothing. The row of ``governance_lifecycle_holders`` only says who holds the
lock (actor, host, process id, since when) for the message of a refused rival; a row whose
lock nobody holds (a holder killed before it could delete it, or a forgery) is replaced by
the next holder. So an emergency rollback after a crash waits for nothing, a live holder,
however long its step, is never overtaken, and no row anyone writes can lock an operator
out. A step a crash cut short may have moved aliases without its event: ``govern audit
verify`` reports it and ``govern audit reconcile`` repairs it.

A retrain holds a lease of its own, keyed by its MLflow run (:func:`retrain_beacon`), from
the moment its run is open until it ends: a version still ``validating`` whose retrain
holds no lease was left by a killed process, and ``govern audit reconcile`` closes it
(:func:`retrain_is_alive`).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from vocabulary import NotAuthorised, Rule, UsageError

__all__ = [
    "clear_dead_holders",
    "LifecycleConflict",
    "model_lease",
    "retrain_beacon",
    "retrain_is_alive",
]

_metadata = sa.MetaData()
_holders = sa.Table(
    "governance_lifecycle_holders",
    _metadata,
    sa.Column("model", sa.String(256), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("token", sa.String(36), nullable=False),
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
)


class LifecycleConflict(NotAuthorised):
    """Another lifecycle change of the same model is in progress (rule: one at a time)."""


@contextmanager
def model_lease(engine: sa.Engine, model: str, holder: str) -> Iterator[None]:
    """Hold the lifecycle lease of ``model`` for the enclosed block.

    Parameters
    ----------
    engine
        The governance database's engine (the audit log's, ``stores.audit.engine``).
    model, holder
        What is leased, and who holds it (recorded with host and pid for others to read).

    Raises
    ------
    LifecycleConflict
        If a live process holds the model's lease; the message names it.
    """
    _metadata.create_all(engine, checkfirst=True)
    with _server_lock(engine, model) as held:
        if not held:
            raise LifecycleConflict.by(Rule.ONE_CHANGE_AT_A_TIME, _conflict_reason(engine, model))
        token = _record_holder(engine, model, holder)
        try:
            yield
        finally:
            with engine.begin() as connection:
                connection.execute(sa.delete(_holders).where(_holders.c.token == token))


def retrain_beacon(engine: sa.Engine, run_id: str, holder: str) -> AbstractContextManager[None]:
    """Hold the lease of retrain run ``run_id`` while it works (its sign of life)."""
    return model_lease(engine, _retrain_key(run_id), holder)


def retrain_is_alive(engine: sa.Engine, run_id: str) -> bool:
    """Whether a live process holds the lease of retrain run ``run_id``."""
    with _server_lock(engine, _retrain_key(run_id)) as held:
        return not held


def clear_dead_holders(engine: sa.Engine) -> int:
    """Delete the rows of leases no live process holds; return how many.

    A row only tells others who holds a lease; a holder killed before it could delete its
    row leaves one behind, which misleads nobody (the lock decides) but is tidied here.
    """
    _metadata.create_all(engine, checkfirst=True)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(_holders.c.model, _holders.c.token)).all()
    dead = []
    for key, token in rows:
        with _server_lock(engine, key) as free:
            if free:
                dead.append(token)
    if dead:
        with engine.begin() as connection:
            connection.execute(sa.delete(_holders).where(_holders.c.token.in_(dead)))
    return len(dead)


def _retrain_key(run_id: str) -> str:
    return f"retrain:{run_id}"


@contextmanager
def _server_lock(engine: sa.Engine, key: str) -> Iterator[bool]:
    """Try to take ``key``'s lock without waiting; yield whether it was taken."""
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, key) as held:
            yield held
    elif engine.dialect.name == "sqlite":
        with _file_lock(engine, key) as held:
            yield held
    else:
        raise UsageError(
            f"lifecycle leases need the audit database on PostgreSQL or SQLite, got "
            f"{engine.dialect.name}"
        )


@contextmanager
def _advisory_lock(engine: sa.Engine, key: str) -> Iterator[bool]:
    # A connection of its own, kept for the block: the lock belongs to its session.
    number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
    with engine.connect() as connection:
        held = bool(connection.scalar(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": number}))
        connection.commit()
        try:
            yield held
        finally:
            if held:
                connection.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": number})
                connection.commit()


@contextmanager
def _file_lock(engine: sa.Engine, key: str) -> Iterator[bool]:
    database = engine.url.database
    folder = (
        Path(database).with_name(Path(database).name + ".locks")
        if database and database != ":memory:"
        else Path(tempfile.gettempdir()) / "govern-locks"
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".lock")
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(descriptor)  # releases the lock


def _record_holder(engine: sa.Engine, model: str, holder: str) -> str:
    """Replace whatever row the model has (its lock was free) with this holder's."""
    token = str(uuid.uuid4())
    with engine.begin() as connection:
        connection.execute(sa.delete(_holders).where(_holders.c.model == model))
        connection.execute(
            sa.insert(_holders).values(
                model=model,
                holder=holder,
                host=socket.gethostname(),
                pid=os.getpid(),
                token=token,
                acquired_at=datetime.now(UTC),
            )
        )
    return token


def _conflict_reason(engine: sa.Engine, model: str) -> str:
    with engine.connect() as connection:
        row = connection.execute(sa.select(_holders).where(_holders.c.model == model)).first()
    who = (
        "another process (taking or releasing it at this moment)"
        if row is None
        else f"{row.holder} (pid {row.pid} on {row.host}, since {row.acquired_at})"
    )
    return (
        f"{model} is being changed by {who}; retry when it has finished (the lease is a lock "
        f"its holder's process holds: it is released the moment that process ends, however "
        f"it ends)"
    )
