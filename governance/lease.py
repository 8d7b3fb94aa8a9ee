"""One lifecycle change at a time per model: a lease row in the governance database.

Promotion, rollback and decommissioning move aliases in MLflow and append an audit
event. Two of them interleaving could leave the aliases and the log disagreeing, so
each holds the model's lease for its duration. Taking the lease is a single INSERT on
a primary key, which every SQL database arbitrates atomically; no transaction stays
open while MLflow is written to (on SQLite that would lock MLflow out). A lease left
by a crashed process expires after ``ttl_seconds``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from vocabulary.errors import NotAuthorised

__all__ = ["LifecycleConflict", "model_lease"]

_metadata = sa.MetaData()
_leases = sa.Table(
    "governance_model_leases",
    _metadata,
    sa.Column("model", sa.String(256), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("token", sa.String(36), nullable=False),
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
)


class LifecycleConflict(NotAuthorised):
    """Another lifecycle change of the same model is in progress (rule: one at a time)."""


@contextmanager
def model_lease(
    engine: sa.Engine, model: str, holder: str, ttl_seconds: float = 600.0
) -> Iterator[None]:
    """Hold the lifecycle lease of ``model`` for the enclosed block.

    Parameters
    ----------
    engine
        The governance database's engine (the audit log's, ``stores.audit.engine``).
    model, holder
        What is leased, and who holds it (recorded in the row).
    ttl_seconds
        Age after which another process may take over a lease left by a crashed holder.

    Raises
    ------
    LifecycleConflict
        If another holder has a live lease on the model.
    """
    _metadata.create_all(engine, checkfirst=True)
    token = _acquire(engine, model, holder, ttl_seconds)
    try:
        yield
    finally:
        with engine.begin() as connection:
            connection.execute(sa.delete(_leases).where(_leases.c.token == token))


def _acquire(engine: sa.Engine, model: str, holder: str, ttl_seconds: float) -> str:
    now = datetime.now(UTC)
    token = str(uuid.uuid4())
    with engine.begin() as connection:
        connection.execute(
            sa.delete(_leases).where(
                _leases.c.model == model,
                _leases.c.acquired_at < now - timedelta(seconds=ttl_seconds),
            )
        )
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.insert(_leases).values(model=model, holder=holder, token=token, acquired_at=now)
            )
    except sa.exc.IntegrityError:
        with engine.connect() as connection:
            row = connection.execute(
                sa.select(_leases.c.holder, _leases.c.acquired_at).where(_leases.c.model == model)
            ).first()
        who = f"{row.holder} since {row.acquired_at}" if row else "another process"
        raise LifecycleConflict(
            f"refused by rule 'one lifecycle change at a time': {model} is being changed by "
            f"{who}; retry when it has finished"
        ) from None
    return token
