"""Loading registered models by what the audit log recorded, refusing any that changed.

A version's artifacts are found at the URI its ``candidate.trained`` event recorded and
must hash to the SHA-256 recorded there: registry tags and aliases can be edited in the
MLflow UI, the log cannot be edited without breaking its hash chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mlflow

from governance.ledger import AuditEvent
from governance.ledger.hashing import sha256_tree
from governance.stores.handle import Stores, download_artifacts
from models import get_family
from vocabulary import Action, IntegrityError, UsageError

__all__ = ["LoadedModel", "load_verified", "trained_event", "verified_artifacts"]


@dataclass(frozen=True)
class LoadedModel:
    """A registered version, its verified artifact directory and the loaded predictor."""

    model: str
    version: str
    local_path: Path
    predictor: object


def trained_event(stores: Stores, model: str, version: str) -> AuditEvent:
    """The verified ``candidate.trained`` event of ``model`` ``version``.

    Raises
    ------
    IntegrityError
        If the chain is broken or the log never recorded the version's training.
    """
    stores.audit.verify_or_raise(model)
    for event in stores.audit.events(model=model, version=version):
        if event.action == Action.CANDIDATE_TRAINED:
            return event
    raise IntegrityError(
        f"{model} version {version}: the audit log never recorded its training; refusing "
        f"to load a model whose origin cannot be checked"
    )


def verified_artifacts(stores: Stores, model: str, version: str) -> tuple[Path, AuditEvent]:
    """Download the artifacts the log recorded for a version and check their hash.

    Returns
    -------
    tuple of Path and AuditEvent
        The local artifact directory and the version's ``candidate.trained`` event.

    Raises
    ------
    IntegrityError
        If the log has no training record of the version, or the artifacts hash
        differently from what it recorded.
    """
    event = trained_event(stores, model, str(version))
    uri, recorded = event.payload["model_uri"], event.payload["model_sha256"]
    local = download_artifacts(stores, uri)
    actual = sha256_tree(local)
    if actual != recorded:
        raise IntegrityError(
            f"{model} version {version}: model artifacts at {uri} hash to {actual}, but "
            f"{recorded} was recorded at registration (event seq {event.seq}); refusing to load"
        )
    return local, event


def load_verified(stores: Stores, model: str, version: str) -> LoadedModel:
    """Download the artifacts the log recorded for a version, check their hash, load them.

    Raises
    ------
    IntegrityError
        If the log has no training record of the version, or the artifacts hash
        differently from what it recorded.
    """
    local, _ = verified_artifacts(stores, model, version)
    family = get_family(model)
    pyfunc = mlflow.models.Model.load(str(local)).flavors.get("python_function", {})
    if pyfunc.get("loader_module") != family.pyfunc_loader_module:
        raise UsageError(
            f"{model} version {version} was registered in a format this release does not read "
            f"(pyfunc loader {pyfunc.get('loader_module')!r}, expected "
            f"{family.pyfunc_loader_module!r}: the former LightGBM-only candidate); retrain, "
            f"then decommission it"
        )
    return LoadedModel(model, str(version), local, family.load_model(local / pyfunc["data"]))
