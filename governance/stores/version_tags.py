"""The documented tags of a registered version, derived from the audit events behind them.

Each tag a retrain writes on a version is a view of something the log recorded: the
lineage tags of its ``candidate.trained`` event, the data-validation tag of the run's
``data.validated`` event, the gate tags (and the SHA-256 of the version's description) of
its ``candidate.gated`` event. The retrain writes the tags with these functions and
``govern audit verify`` recomputes them with the same functions, so a tag or description
edited in the MLflow UI is a finding.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from mlflow.entities.model_registry import ModelVersion

from governance.ledger import AuditEvent, last_event
from governance.ledger.hashing import sha256_text
from vocabulary import Action, Tag

__all__ = ["data_validation_tag", "expected_tags", "gate_tags", "rows_tag", "entry_edits"]


def rows_tag(rows: Mapping[str, int]) -> str:
    """``lineage.dataset_rows``: rows per table, as sorted JSON."""
    return json.dumps(dict(rows), sort_keys=True)


def data_validation_tag(summary: Mapping[str, Any]) -> str:
    """``lineage.data_validation``: the data-contract summary in a sentence."""
    return (
        f"passed ({summary['checks']} checks, {summary['critical_failures']} critical "
        f"failures, {summary['warnings']} warnings)"
    )


def gate_tags(gates: Mapping[str, Any]) -> dict[str, str]:
    """``gates.passed``, ``gates.policy_sha256`` and ``gates.failed`` of a gate summary."""
    failed = [f"{c['gate']} [{c['subject']}]" for c in gates["checks"] if c["status"] == "fail"]
    return {
        Tag.GATES_PASSED: str(bool(gates["passed"])).lower(),
        Tag.GATES_POLICY_SHA256: str(gates["policy_sha256"]),
        Tag.GATES_FAILED: ", ".join(failed) or "none",
    }


def expected_tags(
    trained: AuditEvent, validated: AuditEvent | None, gated: AuditEvent | None
) -> dict[str, str]:
    """Every documented tag a version must carry, by its events (those that exist yet)."""
    payload = trained.payload
    tags = {
        Tag.RUN_ID: payload["run_id"],
        Tag.MODEL_SHA256: payload["model_sha256"],
        Tag.DATASET_SHA256: payload["dataset_sha256"],
        Tag.DATASET_URI: payload["dataset_uri"],
        Tag.CODE_VERSION: payload["code_version"],
        Tag.DATASET_ROWS: rows_tag(payload["dataset_rows"]),
        Tag.AUTHOR: trained.actor,
    }
    if validated is not None and validated.payload.get("summary") is not None:
        tags[Tag.DATA_VALIDATION] = data_validation_tag(validated.payload["summary"])
    if gated is not None:
        tags.update(gate_tags(gated.payload["gates"]))
    return tags


def entry_edits(
    mv: ModelVersion, trained: AuditEvent, events: Iterable[AuditEvent]
) -> list[tuple[str, str]]:
    """What a version's registry entry says that the events behind it do not.

    Parameters
    ----------
    mv
        The version as the registry holds it.
    trained
        Its ``candidate.trained`` event.
    events
        The model's events (its data validation and gate verdict are found among them).

    Returns
    -------
    list of tuple
        ``(kind, message)`` per edited tag (``"tag"``) and for an edited description
        (``"description"``), whose hash the gate verdict recorded; empty when none.
    """
    events = list(events)
    validated = next(
        (
            e
            for e in events
            if e.action == Action.DATA_VALIDATED
            and e.model == trained.model
            and e.payload.get("run_id") == trained.payload["run_id"]
        ),
        None,
    )
    gated = last_event(
        (e for e in events if (e.model, e.version) == (trained.model, trained.version)),
        Action.CANDIDATE_GATED,
    )
    edits = [
        ("tag", f"tag {tag} is {mv.tags.get(tag)!r}, but the audit log records {wanted!r}")
        for tag, wanted in expected_tags(trained, validated, gated).items()
        if mv.tags.get(tag) != wanted
    ]
    described = sha256_text(mv.description or "")
    if gated is not None and described != gated.payload["description_sha256"]:
        edits.append(
            (
                "description",
                f"the version description hashes to {described}, but event seq {gated.seq} "
                f"recorded {gated.payload['description_sha256']}",
            )
        )
    return edits
