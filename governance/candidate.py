"""The records a retraining run leaves: MLflow run, registered version, audit events.

Each function is one I/O step the retrain flow calls as a task. Judging (contracts,
metrics) happens in :mod:`validation`; this module only writes down what was judged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from mlflow.tracking import MlflowClient

from governance import plots, tracking
from governance.audit import open_audit_log
from governance.code_version import code_version
from governance.datasets import Snapshot
from governance.errors import DataRejected
from governance.hashing import sha256_tree
from governance.registry import LIFECYCLE_TAG, register_version
from governance.settings import Settings
from models import FittedModels
from validation.data_contracts import ContractReport
from validation.evaluation import feature_contributions

__all__ = [
    "CandidateRun",
    "data_report_path",
    "open_candidate_run",
    "record_data_validation",
    "record_training",
    "register_candidate",
]

_CONTRIBUTION_SAMPLE = 5_000


@dataclass(frozen=True)
class CandidateRun:
    """Identifies the MLflow run that collects a candidate's evidence."""

    run_id: str
    model_name: str
    author: str
    code_version: str


def open_candidate_run(
    settings: Settings, model_name: str, author: str, params: dict[str, Any], snapshot: Snapshot
) -> CandidateRun:
    """Open the candidate's MLflow run, tagged with the dataset identity and code version."""
    client, experiment_id = tracking.connect(settings)
    version = code_version()
    run_id = tracking.start_candidate_run(
        client,
        experiment_id,
        model_name,
        author,
        params,
        tags={
            "lineage.dataset_uri": snapshot.uri,
            "lineage.dataset_sha256": snapshot.sha256,
            "lineage.code_version": version,
        },
    )
    return CandidateRun(run_id, model_name, author, version)


def data_report_path(settings: Settings, run_id: str) -> Path:
    """Where the human-readable data-contract report of ``run_id`` is written."""
    return settings.reports_dir / f"data-contracts-{run_id}.html"


def record_data_validation(
    settings: Settings, run: CandidateRun, snapshot: Snapshot, report: ContractReport
) -> str:
    """Log the data-contract report to the run and the audit log; refuse failed data.

    Returns
    -------
    str
        Path of the HTML report, see :func:`data_report_path`.

    Raises
    ------
    DataRejected
        If a critical check failed; the run is closed as FAILED and nothing is registered.
    """
    client = MlflowClient(settings.tracking_uri, settings.registry_uri)
    summary = report.summary()
    tracking.log_report(client, run.run_id, "data_contracts", summary, report.to_html())
    html_path = data_report_path(settings, run.run_id)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(report.to_html(), encoding="utf-8")
    payload = {
        "run_id": run.run_id,
        "dataset_uri": snapshot.uri,
        "dataset_sha256": snapshot.sha256,
        "files": snapshot.file_sha256,
        "summary": summary,
    }
    action = "data.validated" if report.passed else "data.rejected"
    with open_audit_log(settings.audit_db_url) as audit:
        audit.append(run.author, action, payload, model=run.model_name)
    if not report.passed:
        tracking.finish_run(client, run.run_id, "FAILED", "data-rejected")
        raise DataRejected(
            f"input data rejected by the data contracts (report: {html_path}):\n"
            f"{report.failure_message()}"
        )
    return str(html_path)


def record_training(
    settings: Settings,
    run: CandidateRun,
    snapshot: Snapshot,
    table: str,
    target: str,
    fitted: FittedModels,
    holdout_features: pd.DataFrame,
    metrics: dict[str, dict[str, float]],
) -> str:
    """Log parameters, holdout metrics, dataset input, model and contribution plot.

    Returns
    -------
    str
        URI of the logged LightGBM model.
    """
    client = MlflowClient(settings.tracking_uri, settings.registry_uri)
    tracking.log_params(client, run.run_id, {f"lgbm.{k}": v for k, v in fitted.params.items()})
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
    contributions = feature_contributions(fitted.candidate, sample)
    tracking.log_figure(
        client,
        run.run_id,
        plots.feature_contribution_figure(contributions, sample),
        "plots/feature_contributions.png",
    )
    return tracking.log_lightgbm_model(run.run_id, fitted.candidate, holdout_features.head(100))


def register_candidate(
    settings: Settings,
    run: CandidateRun,
    model_uri: str,
    snapshot: Snapshot,
    report: ContractReport,
    metrics: dict[str, dict[str, float]],
) -> str:
    """Register the model as a new version pending sign-off, with its lineage tags.

    Returns
    -------
    str
        The new version number.
    """
    import mlflow

    client = MlflowClient(settings.tracking_uri, settings.registry_uri)
    model_sha = sha256_tree(mlflow.artifacts.download_artifacts(model_uri))
    contract_summary = report.summary()
    tags = {
        LIFECYCLE_TAG: "pending-signoff",
        "lineage.dataset_uri": snapshot.uri,
        "lineage.dataset_sha256": snapshot.sha256,
        "lineage.dataset_rows": json.dumps(snapshot.rows, sort_keys=True),
        "lineage.code_version": run.code_version,
        "lineage.run_id": run.run_id,
        "lineage.author": run.author,
        "lineage.model_sha256": model_sha,
        "lineage.data_validation": _validation_tag(contract_summary),
    }
    description = _describe(metrics, contract_summary)
    version = register_version(
        client, run.model_name, model_uri, run.run_id, tags, description
    ).version
    client.set_registered_model_alias(run.model_name, "candidate", version)
    with open_audit_log(settings.audit_db_url) as audit:
        audit.append(
            run.author,
            "candidate.trained",
            {
                "run_id": run.run_id,
                "model_uri": model_uri,
                "model_sha256": model_sha,
                "dataset_sha256": snapshot.sha256,
                "code_version": run.code_version,
                "holdout_metrics": metrics,
            },
            model=run.model_name,
            version=version,
        )
    tracking.finish_run(client, run.run_id, "FINISHED", "registered")
    return str(version)


def _validation_tag(summary: dict[str, Any]) -> str:
    return (
        f"passed ({summary['checks']} checks, {summary['critical_failures']} critical "
        f"failures, {summary['warnings']} warnings)"
    )


def _describe(metrics: dict[str, dict[str, float]], contract_summary: dict[str, Any]) -> str:
    cand = metrics["candidate"]
    lines = [
        "Candidate pending sign-off.",
        f"Data contracts: {_validation_tag(contract_summary)}.",
        "Holdout (out-of-time): "
        + "; ".join(
            f"{name} MAE {m['mae']:.2f} bps, RMSE {m['rmse']:.2f}" for name, m in metrics.items()
        ),
        f"Candidate bias {cand['bias']:+.2f} bps, p95 |error| {cand['p95_abs_error']:.1f} bps.",
    ]
    return "\n".join(lines)
