"""The reads behind a lineage report and an inventory: MLflow registry, run, artifacts, audit log.

Everything else in :mod:`lineage` works on the plain records made here, so an
exported audit log and registry dump can be reported on as well.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow.artifacts
from mlflow.entities.model_registry import ModelVersion, RegisteredModel
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from governance.ledger import AuditEvent
from governance.lifecycle.rule_checks import check_decisions
from governance.stores.handle import Stores
from governance.stores.registry import registered_versions
from governance.stores.settings import Settings
from lineage.assemble import assemble_report
from lineage.inventory import inventory_rows
from vocabulary import Action, Tag, UsageError

__all__ = ["inventory", "lineage_report", "require_registry", "run_figures"]

_PLOT_DIR = "plots"
_PROGRESS_BAR_VARIABLE = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"


def require_registry(settings: Settings) -> Settings:
    """Refuse to read from an SQLite registry that does not exist.

    MLflow creates a missing SQLite database on first use, so a mistyped work
    directory would otherwise answer "no such model" from a fresh empty registry.
    Call it before :func:`governance.stores.handle.open_stores`, which would create the file.

    Parameters
    ----------
    settings : Settings
        Where the registry and tracking store are.

    Returns
    -------
    Settings
        ``settings``, unchanged.

    Raises
    ------
    UsageError
        If the tracking or registry URI names an SQLite file that does not exist.
    """
    for uri in {settings.tracking_uri, settings.registry_uri}:
        if uri.startswith("sqlite:///"):
            path = Path(uri.removeprefix("sqlite:///"))
            if not path.is_file():
                raise UsageError(
                    f"expected an MLflow database at {path}, got none: is --workdir (or "
                    f"GOVERN_HOME) the work directory the pipeline wrote to?"
                )
    return settings


def lineage_report(stores: Stores, model: str, version: str | int) -> dict[str, Any]:
    """Gather the lineage of one model version from the registry, its run and the audit log.

    Parameters
    ----------
    stores : Stores
        The MLflow client and audit log to read.
    model : str
        Registered model name, e.g. ``"execution-impact"``.
    version : str or int
        Version number.

    Returns
    -------
    dict
        JSON-serialisable, with exactly the keys of
        :data:`lineage.assemble.REPORT_KEYS`; see
        :func:`lineage.assemble.assemble_report`.

    Raises
    ------
    UsageError
        If the model or the version is not registered (the message names it and lists
        what exists), or ``version`` is not a positive integer.
    """
    version = _check_version(version)
    chain = stores.audit.verify(model)
    events = _standing_events(stores, model, chain.ok)
    trained = _trained_events(events)
    record = (
        _deleted_version_record(trained[version])
        if version in trained and version not in registered_versions(stores.client, model)
        else _version_record(_get_version(stores.client, model, version))
    )
    run = _run_record(stores.client, record["tags"].get(Tag.RUN_ID) or record["run_id"])
    return assemble_report(record, run, events, chain, _now())


def _standing_events(stores: Stores, model: str, chain_ok: bool) -> list[AuditEvent]:
    """``model``'s events, without those whose signature or rule does not check out.

    A forged approval appended to an intact chain must not appear in a report as an
    approval; ``govern audit verify`` is where forgeries are listed. A broken chain is a
    report of its own: every event is shown, the broken ones marked (exit 6).
    """
    everything = stores.audit.events()
    if not chain_ok:
        return [e for e in everything if e.model == model]
    rejected = {problem.seq for problem in check_decisions(everything)}
    return [e for e in everything if e.model == model and e.seq not in rejected]


def inventory(stores: Stores, model: str) -> list[dict[str, Any]]:
    """List every version of ``model`` with its lifecycle milestones, oldest first.

    Parameters
    ----------
    stores : Stores
        The MLflow client and audit log to read.
    model : str
        Registered model name.

    Returns
    -------
    list of dict
        One row per version; see :func:`lineage.inventory.inventory_rows`.

    Raises
    ------
    UsageError
        If the model is not registered.
    """
    registered = _check_model(stores.client, model)
    versions = registered_versions(stores.client, model)
    events = _standing_events(stores, model, stores.audit.verify().ok)
    deleted = {v: e for v, e in _trained_events(events).items() if v not in versions}
    records = sorted(
        [_version_record(v) for v in versions.values()]
        + [_deleted_version_record(e) for e in deleted.values()],
        key=lambda r: int(r["version"]),
    )
    # search_model_versions leaves ``aliases`` empty on the SQL store; the model has them.
    for record in records:
        record["aliases"] = sorted(
            alias for alias, v in registered.aliases.items() if str(v) == record["version"]
        )
    return inventory_rows(records, events)


def run_figures(stores: Stores, run_id: str | None) -> dict[str, bytes]:
    """Download the PNG plots logged on a candidate's run.

    Parameters
    ----------
    stores : Stores
        Where the tracking store and its artifacts are.
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
    try:
        listed = stores.client.list_artifacts(run_id, _PLOT_DIR)
    except MlflowException:
        return {}
    paths = sorted(a.path for a in listed if a.path.endswith(".png"))
    if not paths:
        return {}
    with tempfile.TemporaryDirectory(prefix="lineage-plots-") as tmp, _no_progress_bars():
        local = mlflow.artifacts.download_artifacts(
            run_id=run_id,
            artifact_path=_PLOT_DIR,
            dst_path=tmp,
            tracking_uri=stores.settings.tracking_uri,
            registry_uri=stores.settings.registry_uri,
        )
        root = Path(local).parent
        return {path: (root / path).read_bytes() for path in paths}


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


def _check_version(version: str | int) -> str:
    text = str(version).strip()
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"VERSION must be a positive integer such as 3, got {version!r}")
    return str(int(text))


def _check_model(client: MlflowClient, model: str) -> RegisteredModel:
    """Return the registered model, or raise :class:`UsageError` listing the known ones."""
    try:
        return client.get_registered_model(model)
    except MlflowException as exc:
        known = sorted(m.name for m in client.search_registered_models())
        raise UsageError(
            f"no registered model {model!r} (registered models: {', '.join(known) or 'none'})"
        ) from exc


def _get_version(client: MlflowClient, model: str, version: str) -> ModelVersion:
    _check_model(client, model)
    try:
        return client.get_model_version(model, version)
    except MlflowException as exc:
        known = sorted(int(v) for v in registered_versions(client, model))
        raise UsageError(
            f"no version {version} of registered model {model!r} "
            f"(versions: {', '.join(map(str, known)) or 'none'})"
        ) from exc


def _version_record(mv: ModelVersion) -> dict[str, Any]:
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
        "registry": "registered",
    }


def _trained_events(events: list[AuditEvent]) -> dict[str, AuditEvent]:
    """Each version the log recorded, by number: its ``candidate.trained`` event."""
    return {str(e.version): e for e in events if e.action == Action.CANDIDATE_TRAINED}


def _deleted_version_record(trained: AuditEvent) -> dict[str, Any]:
    """A version the registry lost, as the log recorded it (no tags: the registry held them)."""
    return {
        "model": trained.model,
        "version": str(trained.version),
        "tags": {},
        "aliases": [],
        "created_at": trained.ts,
        "source": trained.payload["model_uri"],
        "run_id": trained.payload["run_id"],
        "description": "",
        "registry": "deleted",
        "author": trained.actor,
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


def _iso_ms(millis: int | None) -> str | None:
    if millis is None:
        return None
    return datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="seconds")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
