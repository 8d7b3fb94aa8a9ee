"""Loading registered models, refusing any whose artifacts changed since registration."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mlflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from governance.hashing import sha256_tree
from governance.stores import Stores, download_artifacts
from vocabulary import IntegrityError, Tag, UsageError

__all__ = ["LoadedModel", "find_alias", "load_alias", "load_verified"]


@dataclass(frozen=True)
class LoadedModel:
    """A registered version, its verified artifact directory and the loaded predictor."""

    version: ModelVersion
    local_path: Path
    predictor: object


def find_alias(client: MlflowClient, name: str, alias: str) -> ModelVersion | None:
    """Return the version holding ``alias``, or ``None`` when no version holds it."""
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise


def load_verified(stores: Stores, version: ModelVersion) -> LoadedModel:
    """Download a version's artifacts, check their SHA-256 against its tag, and load it.

    Raises
    ------
    IntegrityError
        If the version has no recorded hash or the artifacts hash differently.
    """
    recorded = version.tags.get(Tag.MODEL_SHA256)
    if not recorded:
        raise IntegrityError(
            f"{version.name} version {version.version} has no {Tag.MODEL_SHA256} tag; "
            f"refusing to load an artifact whose integrity cannot be checked"
        )
    local = download_artifacts(stores, version.source)
    actual = sha256_tree(local)
    if actual != recorded:
        raise IntegrityError(
            f"{version.name} version {version.version}: model artifacts at {version.source} "
            f"hash to {actual}, but {recorded} was recorded at registration; refusing to load"
        )
    return LoadedModel(version, local, mlflow.lightgbm.load_model(str(local)))


def load_alias(stores: Stores, name: str, alias: str) -> LoadedModel:
    """Load the version behind ``name@alias`` after verifying it.

    Raises
    ------
    UsageError
        If no version holds the alias (for ``champion``: none was ever promoted, or the
        champion was decommissioned without a replacement).
    """
    version = find_alias(stores.client, name, alias)
    if version is None:
        raise UsageError(f"no version of {name!r} holds the alias {alias!r}")
    return load_verified(stores, version)
