"""Where a version came from: the report's dataset, data-validation and training sections.

Each section prefers the audit event (it cannot be edited without breaking the chain)
and falls back to the registry's tags and run, saying so in its ``note``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from governance.ledger import AuditEvent
from lineage.event_evidence import join_notes, json_tag
from vocabulary import Tag

__all__ = ["data_validation_section", "dataset_section", "training_section"]

_DATA_CONTRACTS_REPORT = "reports/data_contracts.html"


def dataset_section(tags: Mapping[str, str], trained: AuditEvent | None) -> dict[str, Any]:
    """The training data: URI, snapshot hash and each file's hash and rows.

    Parameters
    ----------
    tags : Mapping
        The version's tags.
    trained : AuditEvent or None
        Its ``candidate.trained`` event.

    Returns
    -------
    dict
        ``uri, sha256, files, rows, event_seq, note``.
    """
    payload = trained.payload if trained else {}
    uri = payload.get("dataset_uri") or tags.get(Tag.DATASET_URI)
    rows = json_tag(tags, Tag.DATASET_ROWS) or {}
    files = [
        {
            "name": name,
            "uri": f"{uri.rstrip('/')}/{name}" if uri else None,
            "sha256": digest,
            "rows": rows.get(name.rsplit(".", 1)[0]),
        }
        for name, digest in sorted(payload.get("dataset_files", {}).items())
    ]
    return {
        "uri": uri,
        "sha256": payload.get("dataset_sha256") or tags.get(Tag.DATASET_SHA256),
        "files": files,
        "rows": rows,
        "event_seq": trained.seq if trained else None,
        "note": join_notes(
            None
            if trained
            else "no candidate.trained audit event: per-file hashes unknown, "
            "URI and snapshot hash taken from the version tags"
        ),
    }


def data_validation_section(
    tags: Mapping[str, str], validated: AuditEvent | None
) -> dict[str, Any]:
    """The data-contract check of the version's training run.

    Parameters
    ----------
    tags : Mapping
        The version's tags.
    validated : AuditEvent or None
        The ``data.validated`` event of its run.

    Returns
    -------
    dict
        Outcome, counts, per-table shape and failing checks, with the event's seq.
    """
    if validated is None:
        return {
            "passed": None,
            "checks": None,
            "critical_failures": None,
            "warnings": None,
            "by_severity": {},
            "tables": {},
            "failing_checks": [],
            "tag": tags.get(Tag.DATA_VALIDATION),
            "event_seq": None,
            "validated_at": None,
            "report_artifact": None,
            "note": "no data.validated audit event for this version's run; only the "
            "version tag (if any) records the contract outcome",
        }
    summary = validated.payload.get("summary", {})
    return {
        "passed": summary.get("passed"),
        "checks": summary.get("checks"),
        "critical_failures": summary.get("critical_failures"),
        "warnings": summary.get("warnings"),
        "by_severity": summary.get("by_severity", {}),
        "tables": {
            name: {"rows": t.get("rows"), "columns": t.get("columns")}
            for name, t in summary.get("tables", {}).items()
        },
        "failing_checks": summary.get("failing_checks", []),
        "tag": tags.get(Tag.DATA_VALIDATION),
        "event_seq": validated.seq,
        "validated_at": validated.ts,
        "report_artifact": _DATA_CONTRACTS_REPORT,
        "note": None,
    }


def training_section(
    version: Mapping[str, Any], run: Mapping[str, Any] | None, trained: AuditEvent | None
) -> dict[str, Any]:
    """Who trained the version, with which code, parameters and holdout accuracy.

    Parameters
    ----------
    version : Mapping
        The version record (see :func:`lineage.assemble.assemble_report`).
    run : Mapping or None
        Its MLflow run record, or None when it cannot be read.
    trained : AuditEvent or None
        Its ``candidate.trained`` event.

    Returns
    -------
    dict
        Run, author, code version, times, parameters, metrics and the model artifact.
    """
    tags = version["tags"]
    payload = trained.payload if trained else {}
    record = run or {}
    metrics = record.get("metrics", {})
    return {
        "run_id": payload.get("run_id") or tags.get(Tag.RUN_ID) or version.get("run_id"),
        "run_status": record.get("status"),
        "author": tags.get(Tag.AUTHOR) or record.get("tags", {}).get("mlflow.user"),
        "code_version": payload.get("code_version") or tags.get(Tag.CODE_VERSION),
        "started_at": record.get("started_at"),
        "ended_at": record.get("ended_at"),
        "registered_at": version.get("created_at"),
        "aliases": list(version.get("aliases", [])),
        "parameters": dict(record.get("params", {})),
        "holdout_metrics": payload.get("holdout_metrics") or _nest(metrics, "holdout."),
        "run_metrics": dict(metrics),
        "model_uri": payload.get("model_uri") or version.get("source"),
        "model_sha256": payload.get("model_sha256") or tags.get(Tag.MODEL_SHA256),
        "description": version.get("description", ""),
        "event_seq": trained.seq if trained else None,
        "note": join_notes(
            None if run else "the MLflow run could not be read: parameters and metrics missing",
            None if trained else "no candidate.trained audit event: values from version tags",
        ),
    }


def _nest(metrics: Mapping[str, float], prefix: str) -> dict[str, dict[str, float]]:
    """``{"holdout.candidate.mae": 1.0}`` -> ``{"candidate": {"mae": 1.0}}``."""
    nested: dict[str, dict[str, float]] = {}
    for key, value in metrics.items():
        if key.startswith(prefix) and key.count(".") >= 2:
            model, name = key[len(prefix) :].rsplit(".", 1)
            nested.setdefault(model, {})[name] = value
    return nested
