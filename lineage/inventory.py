"""The inventory of a model: every version with its lifecycle milestones, one row each.

Approvals, rejections and milestones (went live, rolled back, retired, decommissioned)
come from the replayed audit log (:mod:`governance.ledger.replay`); the registry supplies
what only it holds (aliases, creation time, the failed gates' names).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from governance.ledger import AuditEvent
from governance.ledger.replay import Milestone, ModelHistory, VersionHistory, replay
from lineage.event_evidence import bool_tag
from lineage.formatting import plain_text, short_ts
from lineage.markdown import table
from vocabulary import Tag

__all__ = ["INVENTORY_COLUMNS", "inventory_csv", "inventory_markdown", "inventory_rows"]

_MILESTONES = (
    # (milestone of VersionHistory, column of its reason, how Markdown names a departure)
    ("promoted", None, None),  # an arrival: the Markdown's "live since" column
    ("rolled_back", "rolled_back_reason", "rolled back"),
    ("retired", "retired_reason", "retired"),
    ("decommissioned", "decommission_reason", "decommissioned"),
)

_MILESTONE_COLUMNS = tuple(
    column
    for name, reason, _ in _MILESTONES
    for column in (f"{name}_at", f"{name}_by", reason)
    if column
)

INVENTORY_COLUMNS = (
    "model",
    "version",
    "registry",
    "lifecycle",
    "aliases",
    "created_at",
    "author",
    "run_id",
    "gates",
    "gates_failed",
    "approvers",
    "approved_at",
    "rejected_by",
    "rejected_at",
    "rejection_comment",
    *_MILESTONE_COLUMNS,
)
"""Columns of an inventory row, in CSV order."""

_GATE_RESULTS = {True: "passed", False: "failed", None: "not gated"}


def inventory_rows(
    versions: Sequence[Mapping[str, Any]], events: Sequence[AuditEvent]
) -> list[dict[str, Any]]:
    """Build one inventory row per version from version records and audit events (no I/O).

    Parameters
    ----------
    versions : sequence of Mapping
        Version records (see :func:`lineage.assemble.assemble_report`),
        oldest first, all of one model; ``registry`` is ``"deleted"`` for a version the
        registry lost (its record then comes from the log, without tags).
    events : sequence of AuditEvent
        Every audit event of the model, ordered by seq.

    Returns
    -------
    list of dict
        Keys :data:`INVENTORY_COLUMNS`; ``aliases`` and ``approvers`` are lists
        (``approvers`` of ``{"by", "at"}``), missing milestones are None.
    """
    histories = replay(events)
    return [
        _inventory_row(v, histories.get(v["model"], ModelHistory()).state(v["version"]))
        for v in versions
    ]


def _inventory_row(version: Mapping[str, Any], history: VersionHistory | None) -> dict[str, Any]:
    tags = version["tags"]
    approvals = history.approvals if history else []
    rejection = history.rejection if history else None
    gated = history is not None and history.gated
    failed_gates = tags.get(Tag.GATES_FAILED)
    row = {
        "model": version["model"],
        "version": version["version"],
        "registry": version.get("registry", "registered"),
        # The log's state where the registry lost the version (and with it the tag).
        "lifecycle": tags.get(Tag.LIFECYCLE) or (history.lifecycle if history else "unknown"),
        "aliases": list(version.get("aliases", [])),
        "created_at": version.get("created_at"),
        "author": tags.get(Tag.AUTHOR) or version.get("author"),
        "run_id": tags.get(Tag.RUN_ID) or version.get("run_id"),
        "gates": _GATE_RESULTS[
            history.gates_passed if gated else bool_tag(tags.get(Tag.GATES_PASSED))
        ],
        "gates_failed": failed_gates if failed_gates != "none" else None,
        "approvers": [{"by": a.by, "at": a.at} for a in approvals],
        "approved_at": approvals[-1].at if approvals else None,
        "rejected_by": rejection.by if rejection else None,
        "rejected_at": rejection.at if rejection else None,
        "rejection_comment": rejection.reason if rejection else None,
    }
    for name, reason, _ in _MILESTONES:
        milestone: Milestone | None = getattr(history, name) if history else None
        row[f"{name}_at"] = milestone.at if milestone else None
        row[f"{name}_by"] = milestone.by if milestone else None
        if reason:
            row[reason] = milestone.reason if milestone else None
    return row


#: A cell starting with one of these is a formula to a spreadsheet (``=HYPERLINK(...)``);
#: comments and reasons are free text anyone with a key, or the registry's tags, can set.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """One inventory value as flat text (CSV cells), never a spreadsheet formula.

    A value a spreadsheet would evaluate gets a leading apostrophe, which it shows as text
    (the OWASP rule for CSV injection).
    """
    if value is None:
        return ""
    if isinstance(value, list):
        text = "; ".join(
            f"{v['by']} ({v['at']})" if isinstance(v, Mapping) else str(v) for v in value
        )
    else:
        text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def inventory_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """Render inventory rows as CSV with a header of :data:`INVENTORY_COLUMNS`.

    Parameters
    ----------
    rows : sequence of Mapping
        Rows from :func:`inventory_rows`.

    Returns
    -------
    str
        CSV text; lists are joined with ``"; "``, approvers as ``"name (time)"``,
        missing values are empty cells.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(INVENTORY_COLUMNS)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in INVENTORY_COLUMNS])
    return buffer.getvalue()


def inventory_markdown(model: str, rows: Sequence[Mapping[str, Any]]) -> str:
    """Render inventory rows as a Markdown table a person reads in the terminal.

    Parameters
    ----------
    model : str
        The model the rows belong to (for the heading).
    rows : sequence of Mapping
        Rows from :func:`inventory_rows`.

    Returns
    -------
    str
        A heading and one table row per version; how a version left production
        (rolled back, retired, decommissioned) is one column with who, when and why; free
        text shows its ``<`` and ``>`` as entities.
    """
    rows = plain_text(list(rows))
    body = [
        (
            r["version"] + (" (deleted from the registry)" if r["registry"] == "deleted" else ""),
            r["lifecycle"],
            _when(r["created_at"]),
            r["author"] or "-",
            r["gates"],
            ", ".join(f"{a['by']} {_when(a['at'])}" for a in r["approvers"]) or "-",
            f"{_when(r['promoted_at'])} by {r['promoted_by']}" if r["promoted_at"] else "-",
            _departure(r) or "-",
        )
        for r in rows
    ]
    header = [
        "version",
        "lifecycle",
        "created",
        "author",
        "gates",
        "approved by",
        "live since",
        "left production",
    ]
    lines = [f"# Inventory of {model}", "", f"{len(rows)} version(s). Times are UTC.", ""]
    return "\n".join([*lines, *table(header, body)]) + "\n"


def _when(ts: str | None) -> str:
    return short_ts(ts) or "-"


def _departure(row: Mapping[str, Any]) -> str:
    """How the version left production (or was refused), with when, who and why."""
    parts = [
        f"{label} {_when(row[f'{name}_at'])} by {row[f'{name}_by']}: {row[reason]}"
        for name, reason, label in _MILESTONES
        if label and row.get(f"{name}_at")
    ]
    if row.get("rejected_at"):
        parts.append(
            f"rejected {_when(row['rejected_at'])} by {row['rejected_by']}: "
            f"{row['rejection_comment']}"
        )
    return "; ".join(parts)
