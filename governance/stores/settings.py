"""Where the pipeline keeps its state, resolved from the environment at call time.

Resolution order for the work directory: the ``--workdir`` option, then
``GOVERN_HOME``, then ``./.govern``. ``MLFLOW_TRACKING_URI`` (and
``MLFLOW_REGISTRY_URI``) override the embedded SQLite default, which lives in the
work directory with artifacts under ``<workdir>/artifacts`` (also when MLflow talks to a
database directly); an MLflow server (``http(s)://``) keeps the artifacts where it was told
to (``--artifacts-destination``, proxied), so that every host reads the same ones. The
audit log uses
``GOVERN_AUDIT_DB_URL`` if set, else the tracking database when that is SQL, else the
embedded SQLite database. ``GOVERN_POLICY`` points at the policy file (default
``<workdir>/policy.yaml`` when there is one, else ``governance/default_policy.yaml``,
shipped in the package). ``GOVERN_KEYS_DIR`` holds the private keys of whoever acts from
this process (default ``<workdir>/keys``). ``GOVERN_CHECKPOINT_FILE`` is where signed
checkpoints of the audit chain's head are appended (default
``<workdir>/audit-checkpoints.jsonl``, beside the artifacts). ``GOVERN_SERVICE_ACTOR`` names
the identity a Prefect worker records decisions signed elsewhere under (it must hold that
identity's key).
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from vocabulary import UsageError

__all__ = [
    "DEFAULT_POLICY",
    "DEFAULT_WORKDIR",
    "Settings",
    "ensure_workdir",
    "get_settings",
    "require_existing",
]

DEFAULT_WORKDIR = Path(".govern")
#: The policy shipped with the package (found through ``importlib.resources``, so that an
#: installed wheel finds it outside the checkout).
DEFAULT_POLICY = Path(str(files("governance").joinpath("default_policy.yaml")))
_CHECKPOINTS = "audit-checkpoints.jsonl"
_SQL_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql")


class Settings(BaseModel):
    """Resolved locations of every store the pipeline writes to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workdir: Path
    tracking_uri: str
    registry_uri: str
    artifact_location: str | None
    audit_db_url: str
    reports_dir: Path
    policy_path: Path
    keys_dir: Path
    checkpoint_path: Path
    service_actor: str | None = None
    experiment_name: str = "governed-retraining"


def get_settings(workdir: Path | str | None = None) -> Settings:
    """Resolve settings from ``workdir`` and the environment (creates nothing).

    Raises
    ------
    UsageError
        If ``MLFLOW_TRACKING_URI`` is a plain path or ``file:`` URI (MLflow's file store
        is not supported), or an MLflow server while ``GOVERN_AUDIT_DB_URL`` is unset.
    """
    root = Path(workdir or os.environ.get("GOVERN_HOME") or DEFAULT_WORKDIR).resolve()
    default_db = f"sqlite:///{root / 'mlflow.db'}"
    tracking = os.environ.get("MLFLOW_TRACKING_URI") or default_db
    if tracking.startswith("file:") or "://" not in tracking:
        raise UsageError(
            f"MLFLOW_TRACKING_URI must be a database URI (sqlite:///..., postgresql://...) or "
            f"an MLflow server URL (http://...), got {tracking!r}: the file store is not supported"
        )
    audit = os.environ.get("GOVERN_AUDIT_DB_URL") or _audit_default(tracking, default_db)
    return Settings(
        workdir=root,
        tracking_uri=tracking,
        registry_uri=os.environ.get("MLFLOW_REGISTRY_URI") or tracking,
        artifact_location=None if _is_server(tracking) else (root / "artifacts").as_uri(),
        audit_db_url=audit,
        reports_dir=root / "reports",
        policy_path=Path(os.environ.get("GOVERN_POLICY") or _workdir_policy(root)).resolve(),
        keys_dir=Path(os.environ.get("GOVERN_KEYS_DIR") or root / "keys").resolve(),
        service_actor=os.environ.get("GOVERN_SERVICE_ACTOR") or None,
        checkpoint_path=Path(
            os.environ.get("GOVERN_CHECKPOINT_FILE") or root / _CHECKPOINTS
        ).resolve(),
    )


def _workdir_policy(root: Path) -> Path:
    """A work directory's own policy (the demo writes one with its personas' keys)."""
    own = root / "policy.yaml"
    return own if own.is_file() else DEFAULT_POLICY


def ensure_workdir(settings: Settings) -> Settings:
    """Create the work directory (for commands that write)."""
    settings.workdir.mkdir(parents=True, exist_ok=True)
    return settings


def require_existing(settings: Settings) -> Settings:
    """Refuse to read from an embedded work directory that was never written to.

    Without this, MLflow would silently create an empty registry where a mistyped
    ``--workdir`` points, and report that nothing is there.

    Raises
    ------
    UsageError
        If the embedded SQLite database of the work directory does not exist.
    """
    embedded = settings.workdir / "mlflow.db"
    if settings.tracking_uri == f"sqlite:///{embedded}" and not embedded.is_file():
        raise UsageError(
            f"expected a work directory with {embedded.name} at {settings.workdir}, found "
            f"none (check --workdir or GOVERN_HOME; `govern retrain` or `govern demo` create it)"
        )
    return settings


def _is_server(tracking_uri: str) -> bool:
    """Whether MLflow is reached through a tracking server rather than its database."""
    return tracking_uri.split(":", 1)[0] in ("http", "https")


def _audit_default(tracking_uri: str, default_db: str) -> str:
    """The audit log shares MLflow's database when MLflow talks to one directly.

    With an MLflow server (``http(s)://``) there is no database to share, and a local
    SQLite file per host would split the chain and the promotion lease: the audit
    database must then be named explicitly.
    """
    scheme = tracking_uri.split(":", 1)[0].split("+", 1)[0]
    if scheme in _SQL_SCHEMES:
        return tracking_uri
    if _is_server(tracking_uri):
        raise UsageError(
            f"MLFLOW_TRACKING_URI is an MLflow server ({tracking_uri}); set "
            f"GOVERN_AUDIT_DB_URL to the SQL database every worker shares for the audit log "
            f"(e.g. postgresql+psycopg://user@host/governance)"
        )
    return default_db
