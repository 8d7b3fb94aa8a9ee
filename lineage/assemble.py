"""The lineage report of one version, built from plain records (no I/O).

Evidence comes from two places: the MLflow registry and run (tags, parameters,
metrics) and the hash-chained audit log (events and their payloads). The audit log
is the authority where both hold a value; the report states where the two disagree.
Missing evidence is never an error: its section is empty and carries a ``note``
saying what is missing and why that may be expected (a version rejected at its
gates was never signed off).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from governance.ledger import AuditEvent, ChainReport, last_event
from governance.ledger.replay import ModelHistory, VersionHistory, replay
from lineage.events import DATA_ACTIONS, event_entry, event_intact, related_events
from lineage.judging_sections import (
    comparison_section,
    gates_section,
    signoff_section,
    stress_section,
)
from lineage.provenance import (
    data_validation_section,
    dataset_section,
    training_section,
)
from vocabulary import Action, Tag

__all__ = ["REPORT_KEYS", "SECTIONS", "SectionRenderers", "assemble_report", "missing_evidence"]

REPORT_KEYS = (
    "model",
    "version",
    "lifecycle",
    "lifecycle_history",
    "dataset",
    "data_validation",
    "training",
    "comparison",
    "stress",
    "gates",
    "signoff",
    "events",
    "audit",
)
"""Top-level keys of a lineage report, in order."""

SECTIONS = (
    ("summary", "Summary"),
    ("dataset", "Dataset"),
    ("data-validation", "Data validation"),
    ("training", "Training"),
    ("comparison", "Champion vs challenger"),
    ("stress", "Stress tests"),
    ("gates", "Gates"),
    ("signoff", "Sign-off"),
    ("events", "Lifecycle events"),
    ("audit", "Audit-chain verification"),
)
"""``(anchor id, heading)`` of each section of the rendered reports, in order."""

Renderer = Callable[[Mapping[str, Any]], list[str]]


class SectionRenderers(dict[str, Renderer]):
    """One format's renderer of each section, by anchor; fill it with :meth:`of`."""

    def of(self, anchor: str) -> Callable[[Renderer], Renderer]:
        """Decorate the function that renders the section ``anchor`` of :data:`SECTIONS`."""
        if anchor not in dict(SECTIONS):
            raise ValueError(f"expected a section anchor of SECTIONS, got {anchor!r}")

        def register(render: Renderer) -> Renderer:
            self[anchor] = render
            return render

        return register


def assemble_report(
    version: Mapping[str, Any],
    run: Mapping[str, Any] | None,
    events: Sequence[AuditEvent],
    chain: ChainReport,
    generated_at: str,
) -> dict[str, Any]:
    """Build the lineage report of one version from plain records.

    Parameters
    ----------
    version : Mapping
        The version: ``model, version, tags, aliases, created_at, source, run_id,
        description``.
    run : Mapping or None
        Its MLflow run: ``run_id, status, started_at, ended_at, params, metrics, tags``,
        or None when the run cannot be read.
    events : sequence of AuditEvent
        Every audit event of the model (any version), ordered by seq.
    chain : ChainReport
        Verification of the whole audit chain.
    generated_at : str
        ISO-8601 time the report is made at.

    Returns
    -------
    dict
        Keys :data:`REPORT_KEYS`. Each section is a dict with a ``note`` that is None
        when its evidence is complete and says what is missing otherwise; ``events``
        is a list, ``lifecycle`` the version's state (its tag) and
        ``lifecycle_history`` every state change the audit log records for it.
    """
    tags = version["tags"]
    number = version["version"]
    own = [e for e in events if e.version == number]
    run_id = tags.get(Tag.RUN_ID) or version.get("run_id") or (run or {}).get("run_id")
    history = replay(events).get(version["model"], ModelHistory())
    replayed = history.state(number)
    trained = last_event(own, Action.CANDIDATE_TRAINED)
    gated = last_event(own, Action.CANDIDATE_GATED)
    # The log's state where the registry lost the version (and with it the tag).
    lifecycle = tags.get(Tag.LIFECYCLE) or (replayed.lifecycle if replayed else "unknown")
    related = related_events(events, number, run_id)
    return {
        "model": version["model"],
        "version": number,
        "lifecycle": lifecycle,
        "lifecycle_history": _lifecycle_history(replayed),
        "dataset": dataset_section(tags, trained),
        "data_validation": data_validation_section(tags, _data_event(events, run_id)),
        "training": training_section(version, run, trained),
        "comparison": comparison_section(history, last_event(own, Action.CANDIDATE_COMPARED)),
        "stress": stress_section(last_event(own, Action.CANDIDATE_STRESSED)),
        "gates": gates_section(tags, run, gated),
        "signoff": signoff_section(tags, lifecycle, replayed),
        "events": [event_entry(e, role) for e, role in related],
        "audit": _audit_section(
            tags, trained, gated, related, chain, generated_at, _registry_note(version, replayed)
        ),
    }


def _registry_note(version: Mapping[str, Any], replayed: VersionHistory | None) -> str | None:
    """What the report says when the registry lost the version."""
    if version.get("registry") != "deleted":
        return None
    recorded = replayed.deleted_from_registry if replayed else None
    return (
        "deleted from the MLflow registry outside governance: this report comes from the "
        "audit log and the version's run; "
        + (
            f"the loss was recorded by {recorded.by} at {recorded.at} (event seq {recorded.seq})"
            if recorded
            else "the loss is not yet recorded (`govern audit reconcile`)"
        )
    )


def missing_evidence(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(heading, note)`` of every section whose evidence is incomplete, in page order."""
    found = []
    for anchor, heading in SECTIONS:
        # An anchor is its section's report key, spelt with hyphens for the URL.
        section = report.get(anchor.replace("-", "_"))
        if isinstance(section, Mapping) and section.get("note"):
            found.append((heading, section["note"]))
    return found


def _lifecycle_history(replayed: VersionHistory | None) -> list[dict[str, Any]]:
    """The replayed state changes as plain data (enum members as their text)."""
    if replayed is None:
        return []
    return [
        {**asdict(c), "lifecycle": c.lifecycle.value, "action": c.action.value}
        for c in replayed.states
    ]


def _data_event(events: Iterable[AuditEvent], run_id: str | None) -> AuditEvent | None:
    """The data-contract event of the version's run: recorded before the version existed."""
    if not run_id:
        return None
    matches = [e for e in events if e.action in DATA_ACTIONS and e.payload.get("run_id") == run_id]
    return matches[-1] if matches else None


def _audit_section(
    tags: Mapping[str, str],
    trained: AuditEvent | None,
    gated: AuditEvent | None,
    related: Sequence[tuple[AuditEvent, str]],
    chain: ChainReport,
    generated_at: str,
    note: str | None,
) -> dict[str, Any]:
    hashes = _recorded_hashes(tags, trained, gated)
    altered = [e.seq for e, _ in related if not event_intact(e)]
    return {
        "chain_ok": chain.ok,
        "checked": chain.checked,
        "head_seq": chain.head_seq,
        "head_hash": chain.head_hash,
        "first_broken_seq": chain.first_broken_seq,
        "reason": chain.reason,
        "summary": chain.summary(),
        "version_events": len(related),
        "version_events_intact": not altered,
        "tampered_event_seqs": altered,
        "recorded_hashes": hashes,
        "hashes_consistent": all(h["match"] is not False for h in hashes),
        "verified_at": generated_at,
        "artifacts_rehashed": False,
        "note": note,
    }


def _recorded_hashes(
    tags: Mapping[str, str], trained: AuditEvent | None, gated: AuditEvent | None
) -> list[dict[str, Any]]:
    """Hashes recorded twice (version tag and audit event) and whether the two agree.

    A tag can be rewritten by anyone with registry access; the audit event cannot be
    changed without breaking the chain, so a disagreement points at the tag.
    """
    trained_payload = trained.payload if trained else {}
    gates = gated.payload.get("gates", {}) if gated else {}
    pairs = (
        ("dataset snapshot", Tag.DATASET_SHA256, trained_payload.get("dataset_sha256")),
        ("model artifacts", Tag.MODEL_SHA256, trained_payload.get("model_sha256")),
        ("gate policy", Tag.GATES_POLICY_SHA256, gates.get("policy_sha256")),
    )
    rows = []
    for what, tag, audited in pairs:
        on_tag = tags.get(tag)
        match = None if on_tag is None or audited is None else on_tag == audited
        rows.append(
            {"what": what, "tag": tag, "tag_value": on_tag, "audit_value": audited, "match": match}
        )
    return rows
