"""The MLflow model registry: versions, lifecycle tags and aliases."""

from __future__ import annotations

from collections.abc import Mapping

from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

__all__ = ["register_version", "registered_versions"]


def register_version(
    client: MlflowClient,
    name: str,
    model_uri: str,
    run_id: str,
    tags: Mapping[str, str],
    description: str,
) -> ModelVersion:
    """Register ``model_uri`` as a new version of ``name`` carrying ``tags``.

    The registered model is created on first use. Tags are written on creation, so a
    version never exists without its lineage. A ``models:/<model id>`` source is sent with
    its model id: an MLflow server refuses the source without it (the embedded store
    resolves it either way).
    """
    try:
        client.create_registered_model(
            name, description="Governed execution model; see version tags for lineage."
        )
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    return client.create_model_version(
        name,
        source=model_uri,
        run_id=run_id,
        tags={k: str(v) for k, v in tags.items()},
        description=description,
        await_creation_for=0,
        model_id=_logged_model_id(model_uri),
    )


def _logged_model_id(model_uri: str) -> str | None:
    """The logged model a ``models:/<model id>`` URI names; None for any other source."""
    prefix = "models:/"
    if not model_uri.startswith(prefix):
        return None
    ident = model_uri[len(prefix) :].strip("/")
    return ident if ident and "/" not in ident else None


def registered_versions(client: MlflowClient, name: str) -> dict[str, ModelVersion]:
    """The registry's versions of ``name`` by number (deleted ones are not among them)."""
    return {str(mv.version): mv for mv in client.search_model_versions(f"name = '{name}'")}
