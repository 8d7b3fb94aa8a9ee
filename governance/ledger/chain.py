"""The audit chain itself: events, their hashes, and the verification of links.

Pure: nothing here touches a database. See :mod:`governance.ledger` for the design.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from governance.ledger.hashing import canonical_json, sha256_json, sha256_text
from vocabulary import Action, UsageError

__all__ = [
    "ACTION_PATTERN",
    "GENESIS_HASH",
    "KNOWN_ACTIONS",
    "MAX_ACTION",
    "MAX_ACTOR",
    "MAX_MODEL",
    "MAX_VERSION",
    "AuditEvent",
    "ChainReport",
    "Draft",
    "compute_event_hash",
    "draft_event",
    "last_event",
    "seal",
    "subject_of",
    "verify_chain",
]


GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first event (seq 1)."""

KNOWN_ACTIONS = frozenset(Action)
"""Actions of the model lifecycle; others are accepted if they match :data:`ACTION_PATTERN`."""

ACTION_PATTERN = re.compile(r"^[a-z_]+\.[a-z_]+$")
"""Shape of an action name: ``subject.verb``, lowercase letters and underscores."""

MAX_ACTOR = 200
MAX_ACTION = 100
MAX_MODEL = 255
MAX_VERSION = 64


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
class Draft:
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
        problem = first_problem(event, head_seq, head_hash)
        if problem is not None:
            broken_seq, reason = problem
            return ChainReport(
                False, checked, matched, broken_seq, reason, head_seq, head_hash, model
            )
        head_seq, head_hash = event.seq, event.event_hash
        checked += 1
        matched += model is None or event.model == model
    return ChainReport(True, checked, matched, None, None, head_seq, head_hash, model)


def first_problem(event: AuditEvent, prev_seq: int, prev_hash: str) -> tuple[int, str] | None:
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
            f"payload hash mismatch at seq {seq}: stored {short_hash(event.payload_sha256)}, "
            f"recomputed {short_hash(payload_hash)}"
        )
    if event.prev_hash != prev_hash:
        linked_to = "the genesis hash (64 zeros)" if seq == 1 else f"the hash of seq {prev_seq}"
        return seq, f"chain broken at seq {seq}: prev_hash does not match {linked_to}"
    event_hash = event.recompute_hash()
    if event_hash != event.event_hash:
        return seq, (
            f"event hash mismatch at seq {seq}: stored {short_hash(event.event_hash)}, "
            f"recomputed {short_hash(event_hash)}"
        )
    return None


def short_hash(digest: str) -> str:
    """Abbreviate a hex digest for messages."""
    return f"{digest[:12]}.." if len(digest) > 12 else repr(digest)


def seal(draft: Draft, seq: int, prev_hash: str) -> AuditEvent:
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


def draft_event(actor: Any, action: Any, payload: Any, model: Any, version: Any) -> Draft:
    """Validate the caller's arguments and canonicalise the payload."""
    _check_text("actor", actor, MAX_ACTOR)
    _check_action(action)
    if not isinstance(payload, Mapping):
        raise UsageError(
            f"payload must be a JSON object (a dict with str keys), got {type(payload).__name__}"
        )
    model, version = subject_of(model, version)
    payload_json = canonical_json(dict(payload), label="payload")
    return Draft(actor, action, model, version, payload_json, sha256_text(payload_json))


def _check_action(action: Any) -> None:
    """Raise :class:`UsageError` unless ``action`` is a well-formed ``subject.verb``."""
    _check_text("action", action, MAX_ACTION)
    if action not in KNOWN_ACTIONS and not ACTION_PATTERN.fullmatch(action):
        raise UsageError(
            f"action must be 'subject.verb' in lowercase letters and underscores "
            f"(e.g. one of {', '.join(sorted(KNOWN_ACTIONS))}), got {action!r}"
        )


def subject_of(model: Any, version: Any) -> tuple[str | None, str | None]:
    """Validate an optional model name and version; return them as text."""
    if model is not None:
        _check_text("model", model, MAX_MODEL)
    if version is None:
        return model, None
    if model is None:
        raise UsageError(f"version {version!r} needs a model name, got model=None")
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)
    _check_text("version", version, MAX_VERSION)
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


def last_event(events: Iterable[AuditEvent], action: str) -> AuditEvent | None:
    """The newest event with ``action`` (a re-recorded step supersedes the older one)."""
    found = None
    for event in events:
        if event.action == action:
            found = event
    return found
