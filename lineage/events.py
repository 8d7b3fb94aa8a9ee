"""The audit events that concern a version: which they are, and what each one says.

Besides a version's own events, a promotion of another version can move it to
``previous`` or ``retired``, a rollback recorded on the version it restores demotes
it, and the data-contract check of its training run was recorded before the version
existed; an auditor needs all of them, each with how it concerns the version.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from governance.ledger import AuditEvent
from governance.ledger.hashing import sha256_text
from lineage.formatting import contract_counts, gate_counts
from vocabulary import Action

__all__ = [
    "DATA_ACTIONS",
    "EVENT_ROLES",
    "describe_event",
    "event_entry",
    "event_intact",
    "related_events",
]

EVENT_ROLES = {
    "version": "this version",
    "data": "its training data",
    "previous": "moved it to previous",
    "retired": "retired it",
    "demoted": "demoted it",
}
"""How a related event concerns the version (the ``role`` of an event entry)."""

DATA_ACTIONS = (Action.DATA_VALIDATED, Action.DATA_REJECTED)
"""Actions of the data-contract check, recorded on the run before any version exists."""


def related_events(
    events: Sequence[AuditEvent], version: str, run_id: str | None
) -> list[tuple[AuditEvent, str]]:
    """Events that concern ``version``, each with its role (a key of :data:`EVENT_ROLES`).

    Parameters
    ----------
    events : sequence of AuditEvent
        Every event of the model, ordered by seq.
    version : str
        The version.
    run_id : str or None
        Its training run, whose data-contract event belongs to it.

    Returns
    -------
    list of (AuditEvent, str)
        Ordered by seq.
    """
    related = []
    for event in events:
        role = _role(event, version, run_id)
        if role is not None:
            related.append((event, role))
    return related


def _role(event: AuditEvent, version: str, run_id: str | None) -> str | None:
    if event.version == version:
        return "version"
    if event.version is None:
        is_data = event.action in DATA_ACTIONS
        return "data" if is_data and run_id and event.payload.get("run_id") == run_id else None
    if event.action == Action.VERSION_PROMOTED:
        payload = event.payload
        if payload.get("retired") == version:
            return "retired"
        if payload.get("previous") == version:
            return "previous"
    if event.action == Action.VERSION_ROLLED_BACK and event.payload.get("demoted") == version:
        return "demoted"
    return None


def event_entry(event: AuditEvent, role: str) -> dict[str, Any]:
    """One event as the report lists it: header, role, one-line summary, payload, integrity."""
    return {
        "seq": event.seq,
        "ts": event.ts,
        "actor": event.actor,
        "action": event.action,
        "version": event.version,
        "role": role,
        "summary": describe_event(event.action, event.payload),
        "payload": event.payload,
        "payload_sha256": event.payload_sha256,
        "event_hash": event.event_hash,
        "intact": event_intact(event),
    }


def event_intact(event: AuditEvent) -> bool:
    """Whether one event's payload and header still hash to what it stores."""
    return (
        sha256_text(event.payload_json) == event.payload_sha256
        and event.recompute_hash() == event.event_hash
    )


def describe_event(action: str, payload: Mapping[str, Any]) -> str:
    """Say in one line what an audit event records.

    Parameters
    ----------
    action : str
        The event's action, e.g. ``"version.promoted"`` (every :class:`Action` has a
        description of its own).
    payload : Mapping
        Its payload.

    Returns
    -------
    str
        A short sentence; an action this version of the code does not know gets its
        payload's keys.
    """
    describe = _DESCRIBERS.get(action)
    if describe is None:
        return "payload keys: " + ", ".join(sorted(payload))
    return describe(payload)


def _describe_data(payload: Mapping[str, Any]) -> str:
    summary = payload.get("summary", {})
    outcome = "passed" if summary.get("passed") else "FAILED"
    counts = contract_counts(summary) or "no checks recorded"
    return f"data contracts {outcome}: {counts} on {payload.get('dataset_uri')}"


def _describe_trained(payload: Mapping[str, Any]) -> str:
    return (
        f"trained on {payload.get('dataset_uri')} (snapshot sha256 "
        f"{str(payload.get('dataset_sha256'))[:12]}..), code {payload.get('code_version')}, "
        f"model sha256 {str(payload.get('model_sha256'))[:12]}.."
    )


def _describe_compared(payload: Mapping[str, Any]) -> str:
    verdicts = payload.get("verdicts", {})
    against = "; ".join(f"vs {name}: {verdict}" for name, verdict in verdicts.items())
    return f"challenged {against}" if against else "challenged, no verdict recorded"


def _describe_stressed(payload: Mapping[str, Any]) -> str:
    table = payload.get("table", [])
    scenarios = {row.get("scenario") for row in table}
    models = {row.get("model") for row in table}
    hashes = [
        f"{what} sha256 {payload[key][:12]}.."
        for what, key in (
            ("scenario library", "scenario_library_sha256"),
            ("engine", "engine_sha256"),
        )
        if payload.get(key)
    ]
    of_hashes = f" ({', '.join(hashes)})" if hashes else ""
    return f"{len(scenarios)} stress scenarios x {len(models)} models{of_hashes}"


def _describe_gated(payload: Mapping[str, Any]) -> str:
    gates = payload.get("gates", {})
    outcome = "passed" if gates.get("passed") else "FAILED"
    counts = gate_counts(gates.get("counts")) or "no checks recorded"
    return f"gates {outcome} ({counts}) -> {payload.get('lifecycle')}"


def _describe_failed(payload: Mapping[str, Any]) -> str:
    return f"a validation step failed after registration -> failed: {payload.get('error')}"


def _describe_approved(payload: Mapping[str, Any]) -> str:
    how = "automatically " if payload.get("automatic") else ""
    return (
        f"approved {how}({payload.get('approvals')} of {payload.get('required')}): "
        f"{payload.get('comment') or 'no comment'}"
    )


def _describe_rejected(payload: Mapping[str, Any]) -> str:
    return f"rejected by a validator: {payload.get('comment')}"


def _describe_promoted(payload: Mapping[str, Any]) -> str:
    moved = []
    if payload.get("previous"):
        moved.append(f"v{payload['previous']} -> previous")
    if payload.get("retired"):
        moved.append(f"v{payload['retired']} -> retired")
    after = f" ({', '.join(moved)})" if moved else ""
    return f"v{payload.get('champion')} became champion{after}: {payload.get('reason')}"


def _describe_rolled_back(payload: Mapping[str, Any]) -> str:
    return (
        f"rolled back: v{payload.get('champion')} champion again, "
        f"v{payload.get('demoted')} demoted: {payload.get('reason')}"
    )


def _describe_decommissioned(payload: Mapping[str, Any]) -> str:
    aliases = ", ".join(payload.get("aliases_removed", [])) or "none"
    replaced = f", replaced by v{payload['replacement']}" if payload.get("replacement") else ""
    return f"decommissioned: {payload.get('reason')} (aliases removed: {aliases}{replaced})"


def _describe_reconciled(payload: Mapping[str, Any]) -> str:
    changes = payload.get("changes", [])
    shown = "; ".join(
        f"{c.get('subject')}: {c.get('was')!r} -> {c.get('now')!r}" for c in changes[:5]
    )
    more = f" and {len(changes) - 5} more" if len(changes) > 5 else ""
    return f"registry put back to the log ({len(changes)} change(s)): {shown}{more}"


def _describe_version_deleted(payload: Mapping[str, Any]) -> str:
    return (
        f"found deleted from the MLflow registry outside governance; its artifacts at "
        f"{payload.get('model_uri')} still hash to {payload.get('model_sha256')}"
    )


def _describe_adopted(payload: Mapping[str, Any]) -> str:
    return f"policy adopted: SHA-256 {payload.get('policy_sha256')} (from {payload.get('path')})"


def _describe_released(payload: Mapping[str, Any]) -> str:
    return (
        f"signed as a release by {payload.get('release_signer')} (OpenSSF model-signing "
        f"bundle {payload.get('bundle_uri')}, sha256 {str(payload.get('bundle_sha256'))[:12]}..)"
    )


def _describe_intent(payload: Mapping[str, Any]) -> str:
    return f"about to {payload.get('action')} v{payload.get('version')}"


def _describe_completed(payload: Mapping[str, Any]) -> str:
    return (
        f"{payload.get('action')} of v{payload.get('version')} (intent seq "
        f"{payload.get('intent_seq')}): {payload.get('outcome')}"
    )


_DESCRIBERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    Action.DATA_VALIDATED: _describe_data,
    Action.DATA_REJECTED: _describe_data,
    Action.CANDIDATE_TRAINED: _describe_trained,
    Action.CANDIDATE_COMPARED: _describe_compared,
    Action.CANDIDATE_STRESSED: _describe_stressed,
    Action.CANDIDATE_GATED: _describe_gated,
    Action.CANDIDATE_FAILED: _describe_failed,
    Action.SIGNOFF_APPROVED: _describe_approved,
    Action.SIGNOFF_REJECTED: _describe_rejected,
    Action.VERSION_PROMOTED: _describe_promoted,
    Action.VERSION_ROLLED_BACK: _describe_rolled_back,
    Action.VERSION_DECOMMISSIONED: _describe_decommissioned,
    Action.REGISTRY_RECONCILED: _describe_reconciled,
    Action.REGISTRY_VERSION_DELETED: _describe_version_deleted,
    Action.POLICY_ADOPTED: _describe_adopted,
    Action.VERSION_RELEASED: _describe_released,
    Action.LIFECYCLE_INTENT: _describe_intent,
    Action.LIFECYCLE_COMPLETED: _describe_completed,
}
