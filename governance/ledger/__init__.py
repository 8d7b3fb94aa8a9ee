"""The ledger: the append-only, hash-chained audit log in SQL, its hashes and its replay.

The lowest room of :mod:`governance`: :mod:`~governance.ledger.hashing` (SHA-256 of files,
trees and canonical JSON) and :mod:`~governance.ledger.replay` (every version's lifecycle
by the log) sit beside the log itself, and nothing here imports another room.

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
rewrite of every hash after an edit: :mod:`governance.trust.checkpoints` signs
``(seq, event_hash)`` pairs and keeps them outside the database to anchor it.

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

from governance.ledger.chain import (
    ACTION_PATTERN,
    GENESIS_HASH,
    KNOWN_ACTIONS,
    AuditEvent,
    ChainReport,
    compute_event_hash,
    last_event,
    verify_chain,
)
from governance.ledger.log import (
    AuditLog,
    AuditTransaction,
    open_audit_log,
    os_identity,
    record_event,
)
from governance.ledger.schema import TABLE_NAME, audit_events_table, create_audit_engine

__all__ = [
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
    "last_event",
    "open_audit_log",
    "os_identity",
    "record_event",
    "verify_chain",
]
