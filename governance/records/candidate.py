"""The records a retraining run leaves: MLflow run, registered version, audit events.

Each function is one I/O step the retrain flow calls as a task. Judging (contracts,
comparison, stress, gates) happens in :mod:`validation`; this module only writes down
what was judged, on the candidate's MLflow run, its registered version and the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from governance.ledger.hashing import sha256_tree
from governance.lifecycle.version_state import now
from governance.records import training_plots as plots
from governance.records.admission import refusal_payload, refuse
from governance.stores import tracking
from governance.stores.code_version import code_version
from governance.stores.datasets import Snapshot
from governance.stores.handle import Stores, download_artifacts, fluent_mlflow
from governance.stores.registry import register_version
from governance.stores.settings import Settings
from governance.stores.version_tags import data_validation_tag, rows_tag
from governance.trust.checkpoints import Recorder, write_checkpoint
from governance.trust.identity import load_signer
from governance.trust.policy_store import LoadedPolicy, require_in_force, signer_for
from governance.trust.signatures import SIGNED_ACTIONS, record_signed
from models import FittedModels, get_family
from validation.data_contracts import ContractReport
from validation.intake import Intake
from vocabulary import Action, Lifecycle, Tag

__all__ = [
    "CandidateRun",
    "audit_candidate",
    "data_report_path",
    "open_candidate_run",
    "record_data_validation",
    "record_training",
]

_CONTRIBUTION_SAMPLE = 2_000
_OPENED_BY_TAG = "governance.opened_by"


@dataclass(frozen=True)
class CandidateRun:
    """Identifies the MLflow run that collects a candidate's evidence.

    ``policy_sha256`` is the policy in force the run was opened under; the author signs
    the version's registration and its gate verdict under it.
    """

    run_id: str
    model_name: str
    author: str
    code_version: str
    policy_sha256: str


def open_candidate_run(
    stores: Stores,
    model_name: str,
    author: str,
    params: dict[str, Any],
    snapshot: Snapshot,
    policy: LoadedPolicy,
    *,
    opened_by: str = "",
) -> CandidateRun:
    """Open the candidate's MLflow run, tagged with the dataset identity and code version.

    Parameters
    ----------
    stores
        Where to write.
    model_name, author, params, snapshot
        What the run is about: the registered model, who trains it, the flow's
        configuration (logged as parameters) and the data.
    policy
        The policy the run is judged under; it must be the one in force, and list the
        key this process holds for ``author``.
    opened_by
        Id of the orchestration run opening it. A retry of the same orchestration run
        finds and reuses the run it opened before instead of opening a second one.

    Raises
    ------
    NotAuthorised
        If this process does not hold the author's key the policy lists.
    IntegrityError
        If the policy is not the one in force.
    """
    signer_for(stores.settings.keys_dir, policy.file, author)
    require_in_force(stores.audit, policy)
    version = code_version()
    earlier = _run_opened_by(stores, opened_by) if opened_by else None
    if earlier is not None:
        return CandidateRun(earlier, model_name, author, version, policy.sha256)
    run_id = tracking.start_candidate_run(
        stores.client,
        stores.experiment_id(),
        model_name,
        author,
        params,
        tags={
            Tag.DATASET_URI: snapshot.uri,
            Tag.DATASET_SHA256: snapshot.sha256,
            Tag.CODE_VERSION: version,
            _OPENED_BY_TAG: opened_by,
        },
    )
    return CandidateRun(run_id, model_name, author, version, policy.sha256)


def _run_opened_by(stores: Stores, opened_by: str) -> str | None:
    runs = stores.client.search_runs(
        [stores.experiment_id()], f"tags.`{_OPENED_BY_TAG}` = '{opened_by}'", max_results=1
    )
    return runs[0].info.run_id if runs else None


def data_report_path(settings: Settings, run_id: str) -> Path:
    """Where the human-readable data-contract report of ``run_id`` is written."""
    return settings.reports_dir / f"data-contracts-{run_id}.html"


def record_data_validation(
    stores: Stores, run: CandidateRun, snapshot: Snapshot, intake: Intake
) -> str:
    """Log the data-contract report to the run and the audit log; refuse data not admitted.

    Returns
    -------
    str
        Path of the HTML report, see :func:`data_report_path`.

    Raises
    ------
    DataRejected
        If a critical check or an admission check failed; the run is closed as FAILED,
        one ``data.rejected`` event is appended and nothing is registered.
    """
    client = stores.client
    html_path = data_report_path(stores.settings, run.run_id)
    if intake.report is not None:
        tracking.log_report(
            client, run.run_id, "data_contracts", intake.report.summary(), intake.report.to_html()
        )
        html_path.parent.mkdir(parents=True, exist_ok=True)
        html_path.write_text(intake.report.to_html(), encoding="utf-8")
    if not intake.passed:
        tracking.finish_run(client, run.run_id, "FAILED", "data-rejected")
        refuse(
            _author_recorder(stores, run),
            run.model_name,
            snapshot.uri,
            snapshot.file_sha256,
            intake,
            html_path,
            run.run_id,
            run.author,
        )
    payload = refusal_payload(snapshot.uri, snapshot.file_sha256, intake, run.run_id)
    _author_recorder(stores, run).record(
        Action.DATA_VALIDATED,
        {key: value for key, value in payload.items() if key != "reason"},
        model=run.model_name,
        key=_key(run, Action.DATA_VALIDATED),
    )
    return str(html_path)


@dataclass(frozen=True)
class RegisteredVersion:
    """A version registered for a candidate's run, and the model artifacts it holds."""

    version: str
    model_uri: str
    model_sha256: str


def record_training(
    stores: Stores,
    run: CandidateRun,
    snapshot: Snapshot,
    table: str,
    target: str,
    fitted: FittedModels,
    holdout_features: pd.DataFrame,
    metrics: dict[str, dict[str, float]],
    report: ContractReport,
) -> RegisteredVersion:
    """Log the training evidence and register the model as a version under validation.

    Logs parameters, holdout metrics, the dataset input, the candidate (in its family's
    own format, as a pyfunc model) and the plot of the parts of its predictions, then
    registers the version with ``lifecycle=validating`` and its lineage tags. The version
    cannot be signed off until :func:`record_gates` moves it to ``pending-signoff``. A
    retry after the version was registered reuses it (one version per run) and completes
    its audit event.

    Returns
    -------
    RegisteredVersion
        The version number and the model artifacts it holds.
    """
    existing = _version_of_run(stores, run)
    if existing is not None:
        mv = stores.client.get_model_version(run.model_name, existing)
        model_uri, model_sha = mv.source, mv.tags[Tag.MODEL_SHA256]
    else:
        model_uri, model_sha = _log_training_evidence(
            stores, run, snapshot, table, target, fitted, holdout_features, metrics
        )
        existing = _register(stores, run, snapshot, model_uri, model_sha, report)
    audit_candidate(
        stores,
        run,
        Action.CANDIDATE_TRAINED,
        {
            "run_id": run.run_id,
            "model_uri": model_uri,
            "model_sha256": model_sha,
            "dataset_uri": snapshot.uri,
            "dataset_sha256": snapshot.sha256,
            "dataset_files": snapshot.file_sha256,
            "code_version": run.code_version,
            "dataset_rows": dict(snapshot.rows),
            "holdout_metrics": metrics,
        },
        existing,
    )
    return RegisteredVersion(existing, model_uri, model_sha)


def _log_training_evidence(
    stores: Stores,
    run: CandidateRun,
    snapshot: Snapshot,
    table: str,
    target: str,
    fitted: FittedModels,
    holdout_features: pd.DataFrame,
    metrics: dict[str, dict[str, float]],
) -> tuple[str, str]:
    """Log parameters, metrics, dataset, contribution plot and model; return URI and hash."""
    client = stores.client
    tracking.log_params(client, run.run_id, {f"fit.{k}": v for k, v in fitted.params.items()})
    tracking.log_metrics(
        client,
        run.run_id,
        {
            f"holdout.{model}.{name}": value
            for model, m in metrics.items()
            for name, value in m.items()
        },
    )
    tracking.log_dataset(
        stores,
        run.run_id,
        snapshot.tables[table],
        f"{snapshot.uri}/{table}.parquet",
        snapshot.file_sha256[f"{table}.parquet"],
        name=table,
        target=target,
    )
    sample = holdout_features.sample(
        min(_CONTRIBUTION_SAMPLE, len(holdout_features)), random_state=0
    )
    candidate = fitted.candidate
    tracking.log_figure(
        client,
        run.run_id,
        plots.feature_contribution_figure(
            candidate.contributions(sample), sample, candidate.contribution_drivers
        ),
        "plots/feature_contributions.png",
    )
    model_uri = tracking.log_candidate_model(
        stores, run.run_id, get_family(run.model_name), candidate, holdout_features.head(100)
    )
    local = download_artifacts(stores, model_uri)
    return model_uri, sha256_tree(local)


def _register(
    stores: Stores,
    run: CandidateRun,
    snapshot: Snapshot,
    model_uri: str,
    model_sha: str,
    report: ContractReport,
) -> str:
    tags = {
        Tag.LIFECYCLE: Lifecycle.VALIDATING,
        Tag.DATASET_URI: snapshot.uri,
        Tag.DATASET_SHA256: snapshot.sha256,
        Tag.DATASET_ROWS: rows_tag(snapshot.rows),
        Tag.CODE_VERSION: run.code_version,
        Tag.RUN_ID: run.run_id,
        Tag.AUTHOR: run.author,
        Tag.MODEL_SHA256: model_sha,
        Tag.DATA_VALIDATION: data_validation_tag(report.summary()),
    }
    # MLflow's registry resolves a ``models:/<id>`` source with a client of the process-wide
    # URI, whatever client registers it.
    with fluent_mlflow(stores):
        registered = register_version(
            stores.client,
            run.model_name,
            model_uri,
            run.run_id,
            tags,
            "Candidate under validation.",
        )
    return str(registered.version)


def _version_of_run(stores: Stores, run: CandidateRun) -> str | None:
    """The version a retried registration made for ``run`` already, if any."""
    found = stores.client.search_model_versions(
        f"name = '{run.model_name}' and run_id = '{run.run_id}'"
    )
    return str(found[0].version) if found else None


def audit_candidate(
    stores: Stores, run: CandidateRun, action: Action, payload: dict[str, Any], version: str
) -> None:
    """Append ``action`` for ``run``'s version, once per run (retries write nothing new).

    The registration and the gate verdict are the author's decisions and are signed with
    the author's key; the evidence between them is recorded as it is, under a checkpoint
    the author signs.
    """
    if action in SIGNED_ACTIONS:
        author = load_signer(stores.settings.keys_dir, run.author)
        event = record_signed(
            stores.audit,
            author,
            run.author,
            action,
            payload,
            run.model_name,
            version,
            policy_sha256=run.policy_sha256,
            time=now(),
            key=_key(run, action),
        )
        write_checkpoint(
            stores.settings.checkpoint_path, stores.client, run.model_name, author, event, now()
        )
        return
    _author_recorder(stores, run).record(
        action, payload, model=run.model_name, version=version, key=_key(run, action)
    )


def _author_recorder(stores: Stores, run: CandidateRun) -> Recorder:
    """Appends the run's unsigned events as its author, checkpointed with the author's key."""
    return Recorder.of(stores, load_signer(stores.settings.keys_dir, run.author))


def _key(run: CandidateRun, action: Action) -> str:
    """One event per run and action: the idempotency key of a candidate's records."""
    return f"{run.run_id}:{action}"
