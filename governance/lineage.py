"""Lineage of a model version, and the inventory of a model, for auditors.

:func:`lineage_report` answers, for one registered version: which data (URIs and
SHA-256), which contract checks, which code and parameters, which challenger test
against which champion, which stress results, which gates under which policy, who
signed off, when it went live and how it left production, and whether the audit
chain that records all of this still verifies. :func:`inventory` lists every version
of a model with those milestones, one row each.

Evidence comes from two places: the MLflow registry and run (tags, parameters,
metrics) and the hash-chained audit log (events and their payloads). The audit log
is the authority where both hold a value; the report states where the two disagree.
Missing evidence is never an error: its section is empty and carries a ``note``
saying what is missing and why that may be expected (a version rejected at its
gates was never signed off).

The MLflow and database reads happen in :func:`lineage_report`, :func:`inventory`
and :func:`run_figures`; everything else here is pure and works on plain data, so
an exported audit log and registry dump can be reported on as well.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from governance.audit import AuditEvent, ChainReport, open_audit_log
from vocabulary.errors import UsageError
from governance.hashing import sha256_text
from governance.registry import LIFECYCLE_TAG
from governance.settings import Settings

__all__ = [
    "EVENT_ROLES",
    "INVENTORY_COLUMNS",
    "INVENTORY_FORMATS",
    "REPORT_FORMATS",
    "LIFECYCLE_STATES",
    "REPORT_KEYS",
    "SECTIONS",
    "assemble_report",
    "champion_before",
    "choose_format",
    "describe_event",
    "inventory",
    "inventory_csv",
    "inventory_markdown",
    "inventory_rows",
    "lineage_report",
    "render_inventory",
    "render_report",
    "run_figures",
    "to_markdown",
]

REPORT_KEYS = (
    "model",
    "version",
    "lifecycle",
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

LIFECYCLE_STATES = {
    "validating": "registered; its checks had not finished",
    "pending-signoff": "passed its gates; waiting for a validator's sign-off",
    "rejected": "failed its gates or was turned down by a validator; never promotable",
    "approved": "signed off, not promoted yet",
    "champion": "in production: it holds the 'champion' alias",
    "previous": "the champion before the current one, kept as the rollback target",
    "retired": "superseded twice over; no longer a rollback target",
    "rolled-back": "was champion and was taken out of production by a rollback",
    "decommissioned": "retired for good: aliases removed, artifacts kept, never promotable",
}
"""Plain-English meaning of each value of the ``lifecycle`` tag."""

_MILESTONE_COLUMNS = (
    "promoted_at",
    "promoted_by",
    "rolled_back_at",
    "rolled_back_by",
    "rolled_back_reason",
    "retired_at",
    "retired_by",
    "retired_reason",
    "decommissioned_at",
    "decommissioned_by",
    "decommission_reason",
)

INVENTORY_COLUMNS = (
    "model",
    "version",
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

EVENT_ROLES = {
    "version": "this version",
    "data": "its training data",
    "previous": "moved it to previous",
    "retired": "retired it",
    "demoted": "demoted it",
}
"""How a related event concerns the version (the ``role`` of an event entry)."""


REPORT_FORMATS = ("json", "md", "html")
"""Formats a lineage report renders to."""

INVENTORY_FORMATS = ("csv", "json", "md")
"""Formats an inventory renders to."""

_DATA_ACTIONS = ("data.validated", "data.rejected")
_PLOT_DIR = "plots"
_PROGRESS_BAR_VARIABLE = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"


# --------------------------------------------------------------------------- I/O edges


def lineage_report(settings: Settings, model: str, version: str | int) -> dict[str, Any]:
    """Gather the lineage of one model version from the registry, its run and the audit log.

    Parameters
    ----------
    settings : Settings
        Where the registry, tracking store and audit log are.
    model : str
        Registered model name, e.g. ``"execution-impact"``.
    version : str or int
        Version number.

    Returns
    -------
    dict
        JSON-serialisable, with exactly the keys of :data:`REPORT_KEYS`; see
        :func:`assemble_report`.

    Raises
    ------
    UsageError
        If the model or the version is not registered (the message names it and lists
        what exists), or ``version`` is not a positive integer.

    """
    version = _check_version(version)
    client = _read_client(settings)
    record = _version_record(_get_version(client, model, version))
    run = _run_record(client, record["tags"].get("lineage.run_id") or record["run_id"])
    events, chain, audit_note = _read_audit(settings, model)
    return assemble_report(record, run, events, chain, _now(), audit_note)


def inventory(settings: Settings, model: str) -> list[dict[str, Any]]:
    """List every version of ``model`` with its lifecycle milestones, oldest first.

    Parameters
    ----------
    settings : Settings
        Where the registry and audit log are.
    model : str
        Registered model name.

    Returns
    -------
    list of dict
        One row per version with the keys of :data:`INVENTORY_COLUMNS`; see
        :func:`inventory_rows`.

    Raises
    ------
    UsageError
        If the model is not registered.

    """
    client = _read_client(settings)
    registered = _check_model(client, model)
    versions = client.search_model_versions(f"name = '{model}'")
    records = sorted((_version_record(v) for v in versions), key=lambda r: int(r["version"]))
    # search_model_versions leaves ``aliases`` empty on the SQL store; the model has them.
    for record in records:
        record["aliases"] = sorted(
            alias for alias, v in registered.aliases.items() if str(v) == record["version"]
        )
    events, _, _ = _read_audit(settings, model, verify=False)
    return inventory_rows(records, events)


def run_figures(settings: Settings, run_id: str | None) -> dict[str, bytes]:
    """Download the PNG plots logged on a candidate's run.

    Parameters
    ----------
    settings : Settings
        Where the tracking store is.
    run_id : str or None
        The run (``report["training"]["run_id"]``); None gives no figures.

    Returns
    -------
    dict of str to bytes
        Artifact path (``plots/....png``) -> PNG bytes; empty when the run has none
        or no longer exists.

    """
    if not run_id:
        return {}
    client = MlflowClient(settings.tracking_uri, settings.registry_uri)
    try:
        paths = [a.path for a in client.list_artifacts(run_id, _PLOT_DIR)]
    except MlflowException:
        return {}
    figures = {}
    with tempfile.TemporaryDirectory(prefix="lineage-plots-") as tmp, _no_progress_bars():
        for path in sorted(p for p in paths if p.endswith(".png")):
            local = client.download_artifacts(run_id, path, tmp)
            figures[path] = Path(local).read_bytes()
    return figures


@contextmanager
def _no_progress_bars() -> Iterator[None]:
    """Silence MLflow's download progress bars, which would garble a report piped to a file."""
    saved = os.environ.get(_PROGRESS_BAR_VARIABLE)
    os.environ[_PROGRESS_BAR_VARIABLE] = "false"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(_PROGRESS_BAR_VARIABLE, None)
        else:
            os.environ[_PROGRESS_BAR_VARIABLE] = saved


def choose_format(fmt: str | None, output: Path | None, allowed: Sequence[str]) -> str:
    """Pick the output format: ``fmt``, else the suffix of ``output``, else Markdown.

    Parameters
    ----------
    fmt : str or None
        What the user asked for (``--format``).
    output : Path or None
        Where the output goes (``-o``); its suffix (``.html``, ``.json``, ...) decides
        when ``fmt`` is None and the suffix is one of ``allowed``.
    allowed : sequence of str
        :data:`REPORT_FORMATS` or :data:`INVENTORY_FORMATS`.

    Returns
    -------
    str
        One of ``allowed``.

    Raises
    ------
    UsageError
        If ``fmt`` is not one of ``allowed``.

    """
    if fmt is None:
        suffix = output.suffix.lower().lstrip(".") if output else ""
        suffix = {"markdown": "md", "htm": "html"}.get(suffix, suffix)
        return suffix if suffix in allowed else "md"
    if fmt.lower() not in allowed:
        raise UsageError(f"--format must be one of {', '.join(allowed)}, got {fmt!r}")
    return fmt.lower()


def render_report(
    settings: Settings, model: str, version: str | int, fmt: str
) -> tuple[str, dict[str, Any]]:
    """Gather a version's lineage and render it; HTML embeds the run's plots.

    Parameters
    ----------
    settings : Settings
        Where the stores are.
    model, version : str
        The model version.
    fmt : str
        One of :data:`REPORT_FORMATS`.

    Returns
    -------
    tuple of (str, dict)
        The rendered text and the report it renders.

    Raises
    ------
    UsageError
        If the format is unknown, or the model or version is not registered.

    """
    fmt = choose_format(fmt, None, REPORT_FORMATS)
    report = lineage_report(settings, model, version)
    if fmt == "json":
        return json.dumps(report, indent=2) + "\n", report
    if fmt == "md":
        return to_markdown(report), report
    from governance.report_html import to_html  # the HTML module imports this one

    return to_html(report, run_figures(settings, report["training"]["run_id"])), report


def render_inventory(settings: Settings, model: str, fmt: str) -> str:
    """List every version of ``model`` and render the list.

    Parameters
    ----------
    settings : Settings
        Where the stores are.
    model : str
        Registered model name.
    fmt : str
        One of :data:`INVENTORY_FORMATS`.

    Returns
    -------
    str
        CSV, JSON (a list of rows) or Markdown.

    Raises
    ------
    UsageError
        If the format is unknown or the model is not registered.

    """
    fmt = choose_format(fmt, None, INVENTORY_FORMATS)
    rows = inventory(settings, model)
    if fmt == "csv":
        return inventory_csv(rows)
    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    return inventory_markdown(model, rows)


def _read_client(settings: Settings) -> MlflowClient:
    """An MLflow client for reading, refusing to conjure an empty SQLite store.

    MLflow creates a missing SQLite database on first use, so a mistyped work
    directory would otherwise answer "no such model" from a fresh empty registry.
    """
    for uri in {settings.tracking_uri, settings.registry_uri}:
        if uri.startswith("sqlite:///"):
            path = Path(uri.removeprefix("sqlite:///"))
            if not path.is_file():
                raise UsageError(
                    f"expected an MLflow database at {path}, got none: is --workdir (or "
                    f"GOVERN_HOME) the work directory the pipeline wrote to?"
                )
    return MlflowClient(settings.tracking_uri, settings.registry_uri)


def _check_version(version: str | int) -> str:
    text = str(version).strip()
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"VERSION must be a positive integer such as 3, got {version!r}")
    return str(int(text))


def _check_model(client: MlflowClient, model: str) -> Any:
    """Return the registered model, or raise :class:`UsageError` listing the known ones."""
    try:
        return client.get_registered_model(model)
    except MlflowException as exc:
        known = sorted(m.name for m in client.search_registered_models())
        raise UsageError(
            f"no registered model {model!r} (registered models: {', '.join(known) or 'none'})"
        ) from exc


def _get_version(client: MlflowClient, model: str, version: str) -> Any:
    _check_model(client, model)
    try:
        return client.get_model_version(model, version)
    except MlflowException as exc:
        known = sorted(int(v.version) for v in client.search_model_versions(f"name = '{model}'"))
        raise UsageError(
            f"no version {version} of registered model {model!r} "
            f"(versions: {', '.join(map(str, known)) or 'none'})"
        ) from exc


def _version_record(mv: Any) -> dict[str, Any]:
    """Plain-data copy of an MLflow ``ModelVersion``."""
    return {
        "model": mv.name,
        "version": str(mv.version),
        "tags": dict(mv.tags or {}),
        "aliases": sorted(mv.aliases or ()),
        "created_at": _iso_ms(mv.creation_timestamp),
        "source": mv.source,
        "run_id": mv.run_id,
        "description": mv.description or "",
    }


def _run_record(client: MlflowClient, run_id: str | None) -> dict[str, Any] | None:
    """Plain-data copy of an MLflow run, or None if it is gone (or was never recorded)."""
    if not run_id:
        return None
    try:
        run = client.get_run(run_id)
    except MlflowException:
        return None
    return {
        "run_id": run.info.run_id,
        "status": run.info.status,
        "started_at": _iso_ms(run.info.start_time),
        "ended_at": _iso_ms(run.info.end_time),
        "params": dict(sorted(run.data.params.items())),
        "metrics": dict(sorted(run.data.metrics.items())),
        "tags": dict(run.data.tags),
    }


def _read_audit(
    settings: Settings, model: str, verify: bool = True
) -> tuple[list[AuditEvent], ChainReport | None, str | None]:
    """Events of ``model`` and the verification of the whole chain, or why there are none."""
    try:
        log = open_audit_log(settings.audit_db_url)
    except UsageError as exc:
        # A registry without an audit log is reportable evidence in itself, not a crash.
        return [], None, f"audit log unavailable: {exc}"
    with log:
        events = log.events(model=model)
        chain = log.verify(model) if verify else None
    return events, chain, None


def _iso_ms(millis: int | None) -> str | None:
    if millis is None:
        return None
    return datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="seconds")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- pure core


def assemble_report(
    version: Mapping[str, Any],
    run: Mapping[str, Any] | None,
    events: Sequence[AuditEvent],
    chain: ChainReport | None,
    generated_at: str,
    audit_note: str | None = None,
) -> dict[str, Any]:
    """Build the lineage report of one version from plain records (no I/O).

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
    chain : ChainReport or None
        Verification of the whole audit chain, or None when the log was unavailable.
    generated_at : str
        ISO-8601 time the report is made at.
    audit_note : str, optional
        Why ``chain`` is None.

    Returns
    -------
    dict
        Keys :data:`REPORT_KEYS`. Each section is a dict with a ``note`` that is None
        when its evidence is complete and says what is missing otherwise; ``events``
        is a list and ``lifecycle`` the version's state.

    """
    tags = version["tags"]
    number = version["version"]
    own = [e for e in events if e.version == number]
    run_id = tags.get("lineage.run_id") or version.get("run_id") or (run or {}).get("run_id")
    trained = _last(own, "candidate.trained")
    validated = _data_event(events, run_id)
    lifecycle = tags.get(LIFECYCLE_TAG, "unknown")
    related = _related_events(events, number, run_id)
    return {
        "model": version["model"],
        "version": number,
        "lifecycle": lifecycle,
        "dataset": _dataset_section(tags, trained),
        "data_validation": _data_validation_section(tags, validated),
        "training": _training_section(version, run, trained),
        "comparison": _comparison_section(events, _last(own, "candidate.compared")),
        "stress": _stress_section(_last(own, "candidate.stressed")),
        "gates": _gates_section(tags, run, _last(own, "candidate.gated")),
        "signoff": _signoff_section(tags, lifecycle, own),
        "events": [_event_entry(e, role) for e, role in related],
        "audit": _audit_section(
            tags, trained, _last(own, "candidate.gated"), related, chain, generated_at, audit_note
        ),
    }


def _last(events: Iterable[AuditEvent], action: str) -> AuditEvent | None:
    """The newest event with ``action`` (a re-recorded step supersedes the older one)."""
    found = None
    for event in events:
        if event.action == action:
            found = event
    return found


def _data_event(events: Iterable[AuditEvent], run_id: str | None) -> AuditEvent | None:
    """The data-contract event of the version's run: recorded before the version existed."""
    if not run_id:
        return None
    matches = [e for e in events if e.action in _DATA_ACTIONS and e.payload.get("run_id") == run_id]
    return matches[-1] if matches else None


def _related_events(
    events: Sequence[AuditEvent], version: str, run_id: str | None
) -> list[tuple[AuditEvent, str]]:
    """Events that concern ``version``, each with how it concerns it, ordered by seq.

    Besides the version's own events, a promotion of another version can move this
    one to ``previous`` or ``retired``, and a rollback is recorded on the version
    restored while it demotes this one; an auditor needs those too.
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
        is_data = event.action in _DATA_ACTIONS
        return "data" if is_data and run_id and event.payload.get("run_id") == run_id else None
    payload = event.payload
    if event.action == "version.promoted":
        if payload.get("retired") == version:
            return "retired"
        if payload.get("previous") == version:
            return "previous"
    if event.action == "version.rolled_back" and payload.get("demoted") == version:
        return "demoted"
    return None


def _note(*missing: str | None) -> str | None:
    parts = [m for m in missing if m]
    return "; ".join(parts) if parts else None


def _dataset_section(tags: Mapping[str, str], trained: AuditEvent | None) -> dict[str, Any]:
    payload = trained.payload if trained else {}
    uri = payload.get("dataset_uri") or tags.get("lineage.dataset_uri")
    rows = _json_tag(tags, "lineage.dataset_rows") or {}
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
        "sha256": payload.get("dataset_sha256") or tags.get("lineage.dataset_sha256"),
        "files": files,
        "rows": rows,
        "event_seq": trained.seq if trained else None,
        "note": _note(
            None
            if trained
            else "no candidate.trained audit event: per-file hashes unknown, "
            "URI and snapshot hash taken from the version tags"
        ),
    }


def _data_validation_section(
    tags: Mapping[str, str], validated: AuditEvent | None
) -> dict[str, Any]:
    if validated is None:
        return {
            "passed": None,
            "checks": None,
            "critical_failures": None,
            "warnings": None,
            "by_severity": {},
            "tables": {},
            "failing_checks": [],
            "tag": tags.get("lineage.data_validation"),
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
        "tag": tags.get("lineage.data_validation"),
        "event_seq": validated.seq,
        "validated_at": validated.ts,
        "report_artifact": "reports/data_contracts.html",
        "note": None,
    }


def _training_section(
    version: Mapping[str, Any], run: Mapping[str, Any] | None, trained: AuditEvent | None
) -> dict[str, Any]:
    tags = version["tags"]
    payload = trained.payload if trained else {}
    metrics = (run or {}).get("metrics", {})
    holdout = payload.get("holdout_metrics") or _nest(metrics, "holdout.")
    return {
        "run_id": payload.get("run_id") or tags.get("lineage.run_id") or version.get("run_id"),
        "run_status": (run or {}).get("status"),
        "author": tags.get("lineage.author") or (run or {}).get("tags", {}).get("mlflow.user"),
        "code_version": payload.get("code_version") or tags.get("lineage.code_version"),
        "started_at": (run or {}).get("started_at"),
        "ended_at": (run or {}).get("ended_at"),
        "registered_at": version.get("created_at"),
        "aliases": list(version.get("aliases", [])),
        "parameters": dict((run or {}).get("params", {})),
        "holdout_metrics": holdout,
        "run_metrics": dict(metrics),
        "model_uri": payload.get("model_uri") or version.get("source"),
        "model_sha256": payload.get("model_sha256") or tags.get("lineage.model_sha256"),
        "description": version.get("description", ""),
        "event_seq": trained.seq if trained else None,
        "note": _note(
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


def champion_before(events: Iterable[AuditEvent], seq: int) -> str | None:
    """Replay lifecycle events older than ``seq``; return the champion version then.

    Parameters
    ----------
    events : iterable of AuditEvent
        Events of one model, ordered by seq.
    seq : int
        Sequence number of the moment of interest.

    Returns
    -------
    str or None
        The version that held ``champion`` just before ``seq``, or None if none did.

    """
    champion = None
    for event in events:
        if event.seq >= seq:
            break
        payload = event.payload
        if event.action in ("version.promoted", "version.rolled_back"):
            champion = payload.get("champion") or event.version
        elif event.action == "version.decommissioned" and payload.get("was_champion"):
            champion = payload.get("replacement")
    return champion


def _comparison_section(
    events: Sequence[AuditEvent], compared: AuditEvent | None
) -> dict[str, Any]:
    if compared is None:
        return {
            "champion_version": None,
            "references": [],
            "verdicts": {},
            "event_seq": None,
            "compared_at": None,
            "note": "no candidate.compared audit event: the version was never challenged",
        }
    payload = compared.payload
    details = payload.get("comparisons", {})
    verdicts = {
        name: _verdict(details.get(name, {}), verdict)
        for name, verdict in payload.get("verdicts", {}).items()
    }
    champion = champion_before(events, compared.seq) if "champion" in verdicts else None
    note = None
    if "champion" not in verdicts:
        note = "no champion existed when this version was trained: compared with baselines only"
    elif champion is None:
        note = "compared with a champion, but no earlier promotion event names its version"
    return {
        "champion_version": champion,
        "references": list(verdicts),
        "verdicts": verdicts,
        "event_seq": compared.seq,
        "compared_at": compared.ts,
        "note": note,
    }


def _verdict(detail: Mapping[str, Any], verdict: str) -> dict[str, Any]:
    return {
        "verdict": verdict,
        "mae_difference": detail.get("mae_difference"),
        "ci_low": detail.get("ci_low"),
        "ci_high": detail.get("ci_high"),
        "margin_bps": detail.get("margin_bps"),
        "candidate_mae": detail.get("candidate_metrics", {}).get("mae"),
        "reference_mae": detail.get("reference_metrics", {}).get("mae"),
        "n_orders": detail.get("n_orders"),
        "n_days": detail.get("n_days"),
    }


def _stress_section(stressed: AuditEvent | None) -> dict[str, Any]:
    if stressed is None:
        return {
            "scenarios": [],
            "models": [],
            "table": [],
            "event_seq": None,
            "note": "no candidate.stressed audit event: no stress backtest is recorded",
        }
    table = stressed.payload.get("table", [])
    return {
        "scenarios": list(dict.fromkeys(row.get("scenario") for row in table)),
        "models": list(dict.fromkeys(row.get("model") for row in table)),
        "table": table,
        "event_seq": stressed.seq,
        "note": None,
    }


def _gates_section(
    tags: Mapping[str, str], run: Mapping[str, Any] | None, gated: AuditEvent | None
) -> dict[str, Any]:
    metrics = (run or {}).get("metrics", {})
    latency = {k.split(".", 1)[1]: v for k, v in metrics.items() if k.startswith("latency.")}
    gates = gated.payload.get("gates", {}) if gated else {}
    passed = gates.get("passed") if gated else _bool_tag(tags.get("gates.passed"))
    checks = gates.get("checks", [])
    return {
        "passed": passed,
        "policy_sha256": gates.get("policy_sha256") or tags.get("gates.policy_sha256"),
        "counts": gates.get("counts", {}),
        "checks": checks,
        "failed": [f"{c['gate']} [{c['subject']}]" for c in checks if c.get("status") == "fail"],
        "latency": latency,
        "lifecycle_after": gated.payload.get("lifecycle") if gated else None,
        "event_seq": gated.seq if gated else None,
        "gated_at": gated.ts if gated else None,
        "note": None
        if gated
        else "no candidate.gated audit event: the gates never ran to completion "
        "(only version tags, if any, record a result)",
    }


def _bool_tag(value: str | None) -> bool | None:
    return None if value is None else value == "true"


def _json_tag(tags: Mapping[str, str], key: str) -> Any:
    try:
        return json.loads(tags[key])
    except (KeyError, ValueError):
        return None


def _signoff_section(
    tags: Mapping[str, str], lifecycle: str, own: Sequence[AuditEvent]
) -> dict[str, Any]:
    approved = [e for e in own if e.action == "signoff.approved"]
    rejected = _last(own, "signoff.rejected")
    approvals = [
        {
            "by": e.actor,
            "at": e.ts,
            "comment": e.payload.get("comment", ""),
            "automatic": bool(e.payload.get("automatic")),
            "event_seq": e.seq,
        }
        for e in approved
    ]
    tagged = _json_tag(tags, "signoff.approvals") or []
    required = approved[-1].payload.get("required") if approved else None
    rejection = None
    if rejected is not None:
        rejection = {
            "by": rejected.actor,
            "at": rejected.ts,
            "comment": rejected.payload.get("comment", ""),
            "event_seq": rejected.seq,
        }
    return {
        "required": required,
        "approvals": approvals,
        "complete": bool(approved) and len(approved) >= (required or 0),
        "automatic": None if not approvals else any(a["automatic"] for a in approvals),
        "rejection": rejection,
        "note": _signoff_note(tags, lifecycle, approvals, tagged, rejection),
    }


def _signoff_note(
    tags: Mapping[str, str],
    lifecycle: str,
    approvals: Sequence[Mapping[str, Any]],
    tagged: Sequence[Mapping[str, Any]],
    rejection: Mapping[str, Any] | None,
) -> str | None:
    recorded = sorted(a["by"] for a in approvals)
    on_tag = sorted(a.get("by", "") for a in tagged)
    if recorded != on_tag:
        return (
            f"approvals disagree: audit log has {recorded or 'none'}, the version tag "
            f"signoff.approvals has {on_tag or 'none'}"
        )
    if approvals or rejection:
        return None
    if tags.get("gates.passed") == "false":
        return "no sign-off: the version failed its gates, so it could never be signed off"
    if lifecycle in ("pending-signoff", "validating"):
        return f"no sign-off yet: the version is {lifecycle!r}"
    return "no sign-off is recorded for this version"


def _event_entry(event: AuditEvent, role: str) -> dict[str, Any]:
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
        "intact": _event_intact(event),
    }


def describe_event(action: str, payload: Mapping[str, Any]) -> str:
    """Say in one line what an audit event records.

    Parameters
    ----------
    action : str
        The event's action, e.g. ``"version.promoted"``.
    payload : Mapping
        Its payload.

    Returns
    -------
    str
        A short sentence; unknown actions get their payload's keys.

    """
    describe = _DESCRIBERS.get(action)
    if describe is None:
        return "payload keys: " + ", ".join(sorted(payload))
    return describe(payload)


def _describe_data(payload: Mapping[str, Any]) -> str:
    s = payload.get("summary", {})
    outcome = "passed" if s.get("passed") else "FAILED"
    return (
        f"data contracts {outcome}: {s.get('checks')} checks, {s.get('critical_failures')} "
        f"critical failures, {s.get('warnings')} warnings on {payload.get('dataset_uri')}"
    )


def _describe_trained(payload: Mapping[str, Any]) -> str:
    return (
        f"trained on {payload.get('dataset_uri')} (snapshot sha256 "
        f"{str(payload.get('dataset_sha256'))[:12]}..), code {payload.get('code_version')}, "
        f"model sha256 {str(payload.get('model_sha256'))[:12]}.."
    )


def _describe_compared(payload: Mapping[str, Any]) -> str:
    verdicts = payload.get("verdicts", {})
    return "; ".join(f"vs {name}: {verdict}" for name, verdict in verdicts.items())


def _describe_stressed(payload: Mapping[str, Any]) -> str:
    table = payload.get("table", [])
    scenarios = {row.get("scenario") for row in table}
    models = {row.get("model") for row in table}
    return f"{len(scenarios)} stress scenarios x {len(models)} models"


def _describe_gated(payload: Mapping[str, Any]) -> str:
    gates = payload.get("gates", {})
    counts = gates.get("counts", {})
    return (
        f"gates {'passed' if gates.get('passed') else 'FAILED'} ({counts.get('pass', 0)} pass, "
        f"{counts.get('warn', 0)} warn, {counts.get('fail', 0)} fail) -> "
        f"{payload.get('lifecycle')}"
    )


def _describe_approved(payload: Mapping[str, Any]) -> str:
    how = "automatically " if payload.get("automatic") else ""
    return (
        f"approved {how}({payload.get('approvals')} of {payload.get('required')}): "
        f"{payload.get('comment') or 'no comment'}"
    )


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


_DESCRIBERS = {
    "data.validated": _describe_data,
    "data.rejected": _describe_data,
    "candidate.trained": _describe_trained,
    "candidate.compared": _describe_compared,
    "candidate.stressed": _describe_stressed,
    "candidate.gated": _describe_gated,
    "signoff.approved": _describe_approved,
    "signoff.rejected": lambda p: f"rejected: {p.get('comment')}",
    "version.promoted": _describe_promoted,
    "version.rolled_back": _describe_rolled_back,
    "version.decommissioned": _describe_decommissioned,
}


def _audit_section(
    tags: Mapping[str, str],
    trained: AuditEvent | None,
    gated: AuditEvent | None,
    related: Sequence[tuple[AuditEvent, str]],
    chain: ChainReport | None,
    generated_at: str,
    audit_note: str | None,
) -> dict[str, Any]:
    hashes = _recorded_hashes(tags, trained, gated)
    intact = [e.seq for e, _ in related if not _event_intact(e)]
    return {
        "chain_ok": bool(chain and chain.ok),
        "checked": chain.checked if chain else 0,
        "head_seq": chain.head_seq if chain else None,
        "head_hash": chain.head_hash if chain else None,
        "first_broken_seq": chain.first_broken_seq if chain else None,
        "reason": chain.reason if chain else audit_note,
        "summary": chain.summary() if chain else audit_note,
        "version_events": len(related),
        "version_events_intact": not intact,
        "tampered_event_seqs": intact,
        "recorded_hashes": hashes,
        "hashes_consistent": all(h["match"] is not False for h in hashes),
        "verified_at": generated_at,
        "artifacts_rehashed": False,
        "note": audit_note,
    }


def _event_intact(event: AuditEvent) -> bool:
    """Whether one event's payload and header still hash to what it stores."""
    return (
        sha256_text(event.payload_json) == event.payload_sha256
        and event.recompute_hash() == event.event_hash
    )


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
        ("dataset snapshot", "lineage.dataset_sha256", trained_payload.get("dataset_sha256")),
        ("model artifacts", "lineage.model_sha256", trained_payload.get("model_sha256")),
        ("gate policy", "gates.policy_sha256", gates.get("policy_sha256")),
    )
    rows = []
    for what, tag, audited in pairs:
        on_tag = tags.get(tag)
        match = None if on_tag is None or audited is None else on_tag == audited
        rows.append(
            {"what": what, "tag": tag, "tag_value": on_tag, "audit_value": audited, "match": match}
        )
    return rows


# --------------------------------------------------------------------------- inventory


def inventory_rows(
    versions: Sequence[Mapping[str, Any]], events: Sequence[AuditEvent]
) -> list[dict[str, Any]]:
    """Build one inventory row per version from version records and audit events (no I/O).

    Parameters
    ----------
    versions : sequence of Mapping
        Version records (see :func:`assemble_report`), oldest first.
    events : sequence of AuditEvent
        Every audit event of the model, ordered by seq.

    Returns
    -------
    list of dict
        Keys :data:`INVENTORY_COLUMNS`; ``aliases`` and ``approvers`` are lists
        (``approvers`` of ``{"by", "at"}``), missing milestones are None.

    """
    return [_inventory_row(v, events) for v in versions]


def _inventory_row(version: Mapping[str, Any], events: Sequence[AuditEvent]) -> dict[str, Any]:
    tags = version["tags"]
    number = version["version"]
    own = [e for e in events if e.version == number]
    approvals = [e for e in own if e.action == "signoff.approved"]
    rejected = _last(own, "signoff.rejected")
    gated = _last(own, "candidate.gated")
    passed = gated.payload.get("gates", {}).get("passed") if gated else None
    row = {
        "model": version["model"],
        "version": number,
        "lifecycle": tags.get(LIFECYCLE_TAG, "unknown"),
        "aliases": list(version.get("aliases", [])),
        "created_at": version.get("created_at"),
        "author": tags.get("lineage.author"),
        "run_id": tags.get("lineage.run_id") or version.get("run_id"),
        "gates": _gate_result(passed if gated else _bool_tag(tags.get("gates.passed"))),
        "gates_failed": tags.get("gates.failed") if tags.get("gates.failed") != "none" else None,
        "approvers": [{"by": e.actor, "at": e.ts} for e in approvals],
        "approved_at": approvals[-1].ts if approvals else None,
        "rejected_by": rejected.actor if rejected else None,
        "rejected_at": rejected.ts if rejected else None,
        "rejection_comment": rejected.payload.get("comment") if rejected else None,
    }
    row.update(_milestones(events, number))
    return row


def _gate_result(passed: bool | None) -> str:
    return {True: "passed", False: "failed", None: "not gated"}[passed]


def _milestones(events: Sequence[AuditEvent], version: str) -> dict[str, Any]:
    """When the version went live and how it left: promotion, rollback, retirement, end."""
    out: dict[str, Any] = dict.fromkeys(_MILESTONE_COLUMNS)
    for event in events:
        payload = event.payload
        if event.action == "version.promoted":
            if payload.get("champion", event.version) == version and out["promoted_at"] is None:
                out["promoted_at"], out["promoted_by"] = event.ts, event.actor
            elif payload.get("retired") == version:
                out["retired_at"], out["retired_by"] = event.ts, event.actor
                out["retired_reason"] = (
                    f"superseded when v{payload.get('champion')} was promoted "
                    f"({payload.get('reason')})"
                )
        elif event.action == "version.rolled_back" and payload.get("demoted") == version:
            out["rolled_back_at"], out["rolled_back_by"] = event.ts, event.actor
            out["rolled_back_reason"] = payload.get("reason")
        elif event.action == "version.decommissioned" and event.version == version:
            out["decommissioned_at"], out["decommissioned_by"] = event.ts, event.actor
            out["decommission_reason"] = payload.get("reason")
    return out


def _cell(value: Any) -> str:
    """One inventory value as flat text (CSV cells, Markdown tables)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(
            f"{v['by']} ({v['at']})" if isinstance(v, Mapping) else str(v) for v in value
        )
    return str(value)


def inventory_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """Render inventory rows as CSV with a header of :data:`INVENTORY_COLUMNS`.

    Parameters
    ----------
    rows : sequence of Mapping
        Rows from :func:`inventory`.

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
        Rows from :func:`inventory`.

    Returns
    -------
    str
        A heading and one table row per version; how a version left production
        (rolled back, retired, decommissioned) is one column with who, when and why.

    """
    lines = [
        f"# Inventory of {model}",
        "",
        f"{len(rows)} version(s). Times are UTC.",
        "",
        "| version | lifecycle | created | author | gates | approved by | live since "
        "| left production |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        approvers = ", ".join(f"{a['by']} {_short_ts(a['at'])}" for a in r["approvers"]) or "-"
        live = f"{_short_ts(r['promoted_at'])} by {r['promoted_by']}" if r["promoted_at"] else "-"
        lines.append(
            f"| {r['version']} | {r['lifecycle']} | {_short_ts(r['created_at'])} "
            f"| {r['author'] or '-'} | {r['gates']} | {_md(approvers)} | {live} "
            f"| {_md(_departure(r)) or '-'} |"
        )
    return "\n".join(lines) + "\n"


def _departure(row: Mapping[str, Any]) -> str:
    parts = []
    for label, prefix, reason in (
        ("rolled back", "rolled_back", "rolled_back_reason"),
        ("retired", "retired", "retired_reason"),
        ("decommissioned", "decommissioned", "decommission_reason"),
    ):
        if row.get(f"{prefix}_at"):
            parts.append(
                f"{label} {_short_ts(row[f'{prefix}_at'])} by {row[f'{prefix}_by']}: {row[reason]}"
            )
    if row.get("rejected_at"):
        parts.append(
            f"rejected {_short_ts(row['rejected_at'])} by {row['rejected_by']}: "
            f"{row['rejection_comment']}"
        )
    return "; ".join(parts)


# --------------------------------------------------------------------------- Markdown


def _short_ts(ts: str | None) -> str:
    """``2026-02-02T10:11:12.123456+00:00`` -> ``2026-02-02 10:11:12``."""
    if not ts:
        return "-"
    return ts.replace("T", " ")[:19]


def _md(text: Any) -> str:
    """Make a value safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _num(value: Any, digits: int = 2) -> str:
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value).lower()
    if isinstance(value, float):
        return f"{value:.{digits}f}" if abs(value) >= 0.01 or value == 0 else f"{value:.3g}"
    return str(value)


def to_markdown(report: Mapping[str, Any]) -> str:
    """Render a lineage report as Markdown, one section per :data:`SECTIONS` heading.

    Parameters
    ----------
    report : Mapping
        From :func:`lineage_report`.

    Returns
    -------
    str
        Markdown with the same sections as the HTML report (without the plots).

    """
    parts = [
        f"# Lineage of {report['model']} version {report['version']}",
        "",
        "This document traces one model version from its data to its current state, from "
        "the MLflow registry and the hash-chained audit log. Times are UTC.",
    ]
    for (_, title), render in zip(SECTIONS, _MD_SECTIONS, strict=True):
        parts += ["", f"## {title}", "", *render(report)]
    return "\n".join(parts) + "\n"


def _md_note(section: Mapping[str, Any]) -> list[str]:
    return [f"> Note: {section['note']}", ""] if section.get("note") else []


def _md_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    return lines


def _md_summary(r: Mapping[str, Any]) -> list[str]:
    state = r["lifecycle"]
    chain = "verified" if r["audit"]["chain_ok"] else "NOT verified"
    approvers = ", ".join(a["by"] for a in r["signoff"]["approvals"]) or "none"
    return [
        f"- Lifecycle: **{state}** ({LIFECYCLE_STATES.get(state, 'unknown state')})",
        f"- Author: {r['training']['author'] or '-'}, run `{r['training']['run_id']}`",
        f"- Dataset: {r['dataset']['uri']} (sha256 `{r['dataset']['sha256']}`)",
        f"- Data contracts passed: {_num(r['data_validation']['passed'])}",
        f"- Champion at comparison: {_version_label(r['comparison']['champion_version'])}",
        f"- Gates passed: {_num(r['gates']['passed'])}",
        f"- Approved by: {approvers}",
        f"- Audit chain: {chain} ({r['audit']['summary']})",
    ]


def _version_label(version: str | None) -> str:
    return f"v{version}" if version else "none"


def _md_dataset(r: Mapping[str, Any]) -> list[str]:
    d = r["dataset"]
    return [
        *_md_note(d),
        f"Snapshot `{d['uri']}`, sha256 `{d['sha256']}`.",
        "",
        *_md_table(
            ["file", "rows", "sha256"],
            [(f["name"], _num(f["rows"]), f"`{f['sha256']}`") for f in d["files"]],
        ),
    ]


def _md_data_validation(r: Mapping[str, Any]) -> list[str]:
    d = r["data_validation"]
    lines = [
        *_md_note(d),
        f"Passed: {_num(d['passed'])}; {_num(d['checks'])} checks, "
        f"{_num(d['critical_failures'])} critical failures, {_num(d['warnings'])} warnings.",
        "",
    ]
    if d["failing_checks"]:
        lines += _md_table(
            ["table", "check", "severity", "unexpected"],
            [
                (c.get("table"), c.get("check"), c.get("severity"), c.get("unexpected_count"))
                for c in d["failing_checks"]
            ],
        )
    return lines


def _md_training(r: Mapping[str, Any]) -> list[str]:
    t = r["training"]
    lines = [
        *_md_note(t),
        f"- Run `{t['run_id']}` ({t['run_status'] or 'unknown status'}) by {t['author']}",
        f"- Code version `{t['code_version']}`",
        f"- Registered {_short_ts(t['registered_at'])}",
        f"- Model `{t['model_uri']}`, sha256 `{t['model_sha256']}`",
        "",
        "Holdout metrics (bps):",
        "",
    ]
    names = sorted({m for metrics in t["holdout_metrics"].values() for m in metrics})
    lines += _md_table(
        ["model", *names],
        [(model, *(_num(m.get(n)) for n in names)) for model, m in t["holdout_metrics"].items()],
    )
    lines += ["", "Parameters:", ""]
    lines += _md_table(["parameter", "value"], sorted(t["parameters"].items()))
    return lines


def _md_comparison(r: Mapping[str, Any]) -> list[str]:
    c = r["comparison"]
    rows = [
        (
            name if name != "champion" else f"champion ({_version_label(c['champion_version'])})",
            _num(v["candidate_mae"]),
            _num(v["reference_mae"]),
            f"{_num(v['mae_difference'])} [{_num(v['ci_low'])}, {_num(v['ci_high'])}]",
            _num(v["margin_bps"]),
            v["verdict"],
        )
        for name, v in c["verdicts"].items()
    ]
    header = [
        "reference",
        "candidate MAE",
        "reference MAE",
        "MAE diff [95% CI]",
        "margin",
        "verdict",
    ]
    return [*_md_note(c), *_md_table(header, rows)]


def _md_stress(r: Mapping[str, Any]) -> list[str]:
    s = r["stress"]
    columns = _stress_columns(s["table"])
    rows = [[_num(row.get(c), 4) for c in columns] for row in s["table"]]
    return [*_md_note(s), *_md_table(columns, rows)]


def _stress_columns(table: Sequence[Mapping[str, Any]]) -> list[str]:
    """Scenario and model first, then the statistics in the order recorded."""
    seen = list(dict.fromkeys(k for row in table for k in row))
    return [c for c in ("scenario", "model") if c in seen] + [
        c for c in seen if c not in ("scenario", "model")
    ]


def _md_gates(r: Mapping[str, Any]) -> list[str]:
    g = r["gates"]
    head = f"Passed: {_num(g['passed'])}; policy sha256 `{g['policy_sha256']}`."
    rows = [
        (c["gate"], c["subject"], _num(c["value"], 4), c["limit"], c["status"].upper())
        for c in g["checks"]
    ]
    return [
        *_md_note(g),
        head,
        "",
        *_md_table(["gate", "subject", "value", "limit", "result"], rows),
    ]


def _md_signoff(r: Mapping[str, Any]) -> list[str]:
    s = r["signoff"]
    lines = [*_md_note(s), f"Required approvals: {_num(s['required'])}", ""]
    if s["approvals"]:
        lines += _md_table(
            ["approved by", "at", "automatic", "comment"],
            [
                (a["by"], _short_ts(a["at"]), _num(a["automatic"]), a["comment"])
                for a in s["approvals"]
            ],
        )
    if s["rejection"]:
        x = s["rejection"]
        lines += ["", f"Rejected by {x['by']} at {_short_ts(x['at'])}: {x['comment']}"]
    return lines


def _md_events(r: Mapping[str, Any]) -> list[str]:
    return (
        _md_table(
            ["seq", "time", "actor", "action", "concerns", "what"],
            [
                (
                    e["seq"],
                    _short_ts(e["ts"]),
                    e["actor"],
                    e["action"],
                    EVENT_ROLES[e["role"]],
                    e["summary"] if e["intact"] else f"ALTERED since recorded: {e['summary']}",
                )
                for e in r["events"]
            ],
        )
        if r["events"]
        else ["No audit event concerns this version."]
    )


def _md_audit(r: Mapping[str, Any]) -> list[str]:
    a = r["audit"]
    lines = [
        f"- Chain verified: {_num(a['chain_ok'])} ({a['summary']})",
        f"- Head: seq {a['head_seq']}, hash `{a['head_hash']}`",
        f"- This version's {a['version_events']} events intact: {_num(a['version_events_intact'])}",
        f"- Verified at {_short_ts(a['verified_at'])} UTC",
        "",
    ]
    lines += _md_table(
        ["hash", "version tag", "audit log", "match"],
        [
            (h["what"], f"`{h['tag_value']}`", f"`{h['audit_value']}`", _num(h["match"]))
            for h in a["recorded_hashes"]
        ],
    )
    return lines


_MD_SECTIONS = (
    _md_summary,
    _md_dataset,
    _md_data_validation,
    _md_training,
    _md_comparison,
    _md_stress,
    _md_gates,
    _md_signoff,
    _md_events,
    _md_audit,
)
