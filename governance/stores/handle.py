"""The one handle on the pipeline's stores: an MLflow client with explicit URIs and the audit log.

A flow or a CLI command builds a :class:`Stores` where it starts (:func:`open_stores`) and
passes it down; nothing below it constructs its own ``MlflowClient`` or database engine, and
nothing relies on ``mlflow.set_tracking_uri`` having been called earlier as a side effect.
The audit log's engine is made once per process and database URL, so a run that appends a
dozen events opens one connection pool, not a dozen.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from governance.ledger import AuditLog, open_audit_log
from governance.stores.settings import Settings

__all__ = [
    "OUTAGE_BOUNDS",
    "Stores",
    "download_artifacts",
    "fluent_mlflow",
    "is_store_outage",
    "open_stores",
]

#: MLflow's HTTP client settings unless the environment sets them: two retries with a
#: backoff of 1 s then 2 s and 8 s per request, so an unreachable tracking server is named
#: within about 30 s (MLflow's own defaults retry for minutes, holding any lease taken).
OUTAGE_BOUNDS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "8",
}
# MLflow's answers that repeat on every retry: the request itself is wrong.
_PERMANENT_MLFLOW_ERRORS = frozenset(
    {
        "INVALID_PARAMETER_VALUE",
        "RESOURCE_DOES_NOT_EXIST",
        "RESOURCE_ALREADY_EXISTS",
        "BAD_REQUEST",
        "PERMISSION_DENIED",
        "UNAUTHENTICATED",
        "INVALID_STATE",
        "FEATURE_DISABLED",
        "NOT_IMPLEMENTED",
    }
)
# A database error that names missing schema is a wrong database or a bug, not an outage.
_SCHEMA_PROBLEM = re.compile(r"no such (table|column)|does not exist|syntax error", re.I)

_URI_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
_AUDIT_LOGS: dict[str, AuditLog] = {}
_AUDIT_LOGS_LOCK = threading.Lock()
# MLflow's fluent API (log_model, log_input) reads process-wide URIs; hold them for one
# call at a time so that two work directories in one process never cross.
_FLUENT_LOCK = threading.RLock()


@dataclass(frozen=True)
class Stores:
    """Where a command or flow reads and writes: settings, MLflow client, audit log."""

    settings: Settings
    client: MlflowClient
    audit: AuditLog

    def experiment_id(self) -> str:
        """The id of the governed experiment, created under the work directory if missing.

        Its artifact location is ``<workdir>/artifacts``, so that an embedded set-up never
        writes to ``./mlruns``; with an MLflow server, the server's own artifact store.
        """
        name = self.settings.experiment_name
        experiment = self.client.get_experiment_by_name(name)
        if experiment is not None:
            return experiment.experiment_id
        try:
            return self.client.create_experiment(
                name, artifact_location=self.settings.artifact_location
            )
        except MlflowException:
            # Another process created it between our lookup and create.
            return self.client.get_experiment_by_name(name).experiment_id


def open_stores(settings: Settings, *, create_audit: bool = True) -> Stores:
    """Build the handle for ``settings``: an MLflow client and the process's audit log.

    Parameters
    ----------
    settings
        Resolved locations (see :func:`governance.stores.settings.get_settings`).
    create_audit
        Create the audit table when missing. Read-only commands pass ``False``, so that a
        log in the wrong database is an error rather than an empty chain that verifies.

    Returns
    -------
    Stores
        The handle; the audit log stays open for the life of the process.
    """
    for variable, value in OUTAGE_BOUNDS.items():
        os.environ.setdefault(variable, value)
    client = MlflowClient(settings.tracking_uri, settings.registry_uri)
    return Stores(settings, client, _audit_log(settings.audit_db_url, create_audit))


def is_store_outage(error: BaseException) -> bool:
    """Whether ``error`` is a store out of reach: what a retry after a pause can cure.

    True for network errors (a refused or reset connection, a timeout, an unknown host),
    database errors of the operational kind other than a missing table or column (a lost
    connection, a locked database), and MLflow errors other than an answer that repeats
    (a bad request, a missing resource, a refused permission); never for the product's
    own verdicts, for a missing file or for bugs.
    """
    import socket

    from sqlalchemy.exc import OperationalError

    from vocabulary.errors import GovernanceError

    if isinstance(error, GovernanceError):
        return False
    if isinstance(error, MlflowException):
        return error.error_code not in _PERMANENT_MLFLOW_ERRORS
    if isinstance(error, OperationalError):
        return not _SCHEMA_PROBLEM.search(str(error.orig))
    return isinstance(error, ConnectionError | TimeoutError | socket.gaierror)


def _audit_log(db_url: str, create: bool) -> AuditLog:
    with _AUDIT_LOGS_LOCK:
        audit = _AUDIT_LOGS.get(db_url)
        if audit is None:
            audit = open_audit_log(db_url, create=create)
            _AUDIT_LOGS[db_url] = audit
        return audit


@contextmanager
def fluent_mlflow(stores: Stores) -> Iterator[None]:
    """Point MLflow's fluent API at ``stores`` for the block, then restore what was there.

    ``mlflow.set_tracking_uri`` also exports the URI as an environment variable, which
    :func:`governance.stores.settings.get_settings` would then read as the user's override for
    every later work directory of the process; both are put back on exit.
    """
    import mlflow

    with _FLUENT_LOCK:
        saved_env = {name: os.environ.get(name) for name in _URI_VARIABLES}
        saved_uris = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
        mlflow.set_tracking_uri(stores.settings.tracking_uri)
        mlflow.set_registry_uri(stores.settings.registry_uri)
        try:
            yield
        finally:
            mlflow.set_tracking_uri(saved_uris[0])
            mlflow.set_registry_uri(saved_uris[1])
            for name, value in saved_env.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def download_artifacts(stores: Stores, uri: str) -> Path:
    """Download the artifacts at ``uri`` from ``stores``; return the local directory.

    MLflow resolves ``models:/<model id>`` URIs with a client of the process-wide tracking
    URI, whatever URI is passed to it, so the download runs under :func:`fluent_mlflow`.
    """
    import mlflow

    with fluent_mlflow(stores):
        return Path(
            mlflow.artifacts.download_artifacts(
                uri,
                tracking_uri=stores.settings.tracking_uri,
                registry_uri=stores.settings.registry_uri,
            )
        )
