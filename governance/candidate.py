"""The records a retraining run leaves: MLflow run, registered version, audit events.

Each function is one I/O step the retrain flow calls as a task. Judging (contracts,
comparison, stress, gates) happens in :mod:`validation`; this module only writes down
what was judged, on the candidate's MLflow run, its registered version and the audit log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from matplotlib.figure import Figure
from mlflow.tracking import MlflowClient

from governance import plots, tracking
from governance.audit import record_event
from governance.code_version import code_version
from governance.datasets import Snapshot
from vocabulary.errors import DataRejected
from governance.hashing import sha256_tree
from governance.registry import LIFECYCLE_TAG, register_version
from governance.settings import Settings
from models import FittedModels
from validation.comparison import ComparisonReport
from validation.data_contracts import ContractReport
from validation.evaluation import feature_contributions
from validation.gates import GateReport

__all__ = [
    "CandidateRun",
    "data_report_path",
    "open_candidate_run",
    "record_data_validation",
    "record_failure",
    "record_comparison",
    "record_gates",
    "record_stress",
    "record_training",
    "version_description",
]

_CONTRIBUTION_SAMPLE = 2_000


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
    record_event(settings.audit_db_url, run.author, action, payload, model=run.model_name)
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
    report: ContractReport,
) -> str:
    """Log the training evidence and register the model as a version under validation.

    Logs parameters, holdout metrics, the dataset input, the LightGBM model (native
    format) and the feature-contribution plot, then registers the version with
    ``lifecycle=validating`` and its lineage tags. The version cannot be signed off until
    :func:`record_gates` moves it to ``pending-signoff``.

    Returns
    -------
    str
        The new version number.
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
    model_uri = tracking.log_lightgbm_model(
        run.run_id, fitted.candidate, holdout_features.head(100)
    )
    model_sha = sha256_tree(mlflow.artifacts.download_artifacts(model_uri))
    tags = {
        LIFECYCLE_TAG: "validating",
        "lineage.dataset_uri": snapshot.uri,
        "lineage.dataset_sha256": snapshot.sha256,
        "lineage.dataset_rows": json.dumps(snapshot.rows, sort_keys=True),
        "lineage.code_version": run.code_version,
        "lineage.run_id": run.run_id,
        "lineage.author": run.author,
        "lineage.model_sha256": model_sha,
        "lineage.data_validation": _validation_tag(report.summary()),
    }
    version = str(
        register_version(
            client, run.model_name, model_uri, run.run_id, tags, "Candidate under validation."
        ).version
    )
    _audit(
        settings,
        run,
        "candidate.trained",
        {
            "run_id": run.run_id,
            "model_uri": model_uri,
            "model_sha256": model_sha,
            "dataset_uri": snapshot.uri,
            "dataset_sha256": snapshot.sha256,
            "dataset_files": snapshot.file_sha256,
            "code_version": run.code_version,
            "holdout_metrics": metrics,
        },
        version,
    )
    return version


def record_comparison(
    settings: Settings, run: CandidateRun, version: str, comparison: ComparisonReport
) -> None:
    """Log the challenger report and residual plots; audit the verdicts."""
    client = MlflowClient(settings.tracking_uri, settings.registry_uri)
    tracking.log_report(client, run.run_id, "challenger", comparison.summary(), None)
    client.log_text(run.run_id, comparison.to_markdown(), "reports/challenger.md")
    for name, c in comparison.comparisons.items():
        tracking.log_metrics(
            client,
            run.run_id,
            {
                f"challenge.{name}.mae_diff": c.mae_difference,
                f"challenge.{name}.ci_high": c.ci_high,
            },
        )
    tracking.log_figure(
        client, run.run_id, plots.residual_figure(comparison), "plots/challenger_residuals.png"
    )
    _audit(
        settings,
        run,
        "candidate.compared",
        {
            "run_id": run.run_id,
            "verdicts": {n: c.verdict for n, c in comparison.comparisons.items()},
            "comparisons": {n: c.as_dict() for n, c in comparison.comparisons.items()},
        },
        version,
    )


def record_stress(
    settings: Settings,
    run: CandidateRun,
    version: str,
    report: dict[str, Any],
    table: pd.DataFrame,
    figures: dict[str, Figure],
) -> None:
    """Log the stress report, its gate table and figures; audit the per-scenario table."""
    client = MlflowClient(settings.tracking_uri, settings.registry_uri)
    tracking.log_report(client, run.run_id, "stress", report, None)
    client.log_text(run.run_id, table.to_csv(index=False), "reports/stress_table.csv")
    for path, figure in figures.items():
        tracking.log_figure(client, run.run_id, figure, path)
    candidate = table.loc[table["model"] == "candidate"]
    tracking.log_metrics(
        client,
        run.run_id,
        {f"stress.{r.scenario}.cvar95_bps": r.cvar95_shortfall_bps for r in candidate.itertuples()},
    )
    _audit(
        settings,
        run,
        "candidate.stressed",
        {"run_id": run.run_id, "table": table.to_dict(orient="records")},
        version,
    )


def record_gates(
    settings: Settings,
    run: CandidateRun,
    version: str,
    gates: GateReport,
    latency: dict[str, float],
    description: str,
) -> str:
    """Record the gate verdict on the version and close the run.

    A passed version moves to ``pending-signoff`` and takes the ``candidate`` alias; a
    failed one becomes ``rejected`` for good.

    Returns
    -------
    str
        The lifecycle state the version ends in.
    """
    client = MlflowClient(settings.tracking_uri, settings.registry_uri)
    tracking.log_report(client, run.run_id, "gates", gates.summary(), None)
    client.log_text(run.run_id, gates.to_markdown(), "reports/gates.md")
    tracking.log_metrics(client, run.run_id, {f"latency.{k}": v for k, v in latency.items()})
    lifecycle = "pending-signoff" if gates.passed else "rejected"
    tags = {
        "gates.passed": str(gates.passed).lower(),
        "gates.policy_sha256": gates.policy_sha256,
        "gates.failed": ", ".join(f"{c.gate} [{c.subject}]" for c in gates.failures) or "none",
        LIFECYCLE_TAG: lifecycle,
    }
    for key, value in tags.items():
        client.set_model_version_tag(run.model_name, version, key, value)
    client.update_model_version(run.model_name, version, description=description)
    if gates.passed:
        client.set_registered_model_alias(run.model_name, "candidate", version)
    _audit(
        settings,
        run,
        "candidate.gated",
        {"run_id": run.run_id, "lifecycle": lifecycle, "gates": gates.summary()},
        version,
    )
    tracking.finish_run(client, run.run_id, "FINISHED", lifecycle)
    return lifecycle


def record_failure(
    settings: Settings, run: CandidateRun, version: str | None, error: BaseException
) -> None:
    """Close the run as FAILED and retire a half-validated version for good.

    Called when a step fails after the run was opened. A version still ``validating``
    becomes ``failed`` (it can never be signed off) with a ``candidate.failed`` event.
    """
    client = MlflowClient(settings.tracking_uri, settings.registry_uri)
    message = f"{type(error).__name__}: {error}"[:2000]
    if client.get_run(run.run_id).info.status == "RUNNING":
        tracking.finish_run(client, run.run_id, "FAILED", "failed")
    if version is None:
        return
    tags = client.get_model_version(run.model_name, version).tags
    if tags.get(LIFECYCLE_TAG) != "validating":
        return
    client.set_model_version_tag(run.model_name, version, LIFECYCLE_TAG, "failed")
    client.set_model_version_tag(run.model_name, version, "failure.reason", message[:500])
    _audit(settings, run, "candidate.failed", {"run_id": run.run_id, "error": message}, version)


def _audit(
    settings: Settings, run: CandidateRun, action: str, payload: dict[str, Any], version: str
) -> None:
    record_event(
        settings.audit_db_url, run.author, action, payload, model=run.model_name, version=version
    )


def _validation_tag(summary: dict[str, Any]) -> str:
    return (
        f"passed ({summary['checks']} checks, {summary['critical_failures']} critical "
        f"failures, {summary['warnings']} warnings)"
    )


def version_description(
    comparison: ComparisonReport,
    stress: pd.DataFrame,
    gates: GateReport,
    latency: dict[str, float],
) -> str:
    """A summary a validator reads on the model version page before opening the run."""
    verdicts = "; ".join(
        f"vs {name}: {c.verdict} (MAE diff {c.mae_difference:+.2f} bps, 95% CI "
        f"[{c.ci_low:+.2f}, {c.ci_high:+.2f}])"
        for name, c in comparison.comparisons.items()
    )
    cand = stress.loc[stress["model"] == "candidate"]
    worst = cand.loc[cand["cvar95_shortfall_bps"].idxmax()]
    counts = gates.summary()["counts"]
    lines = [
        f"Gates {'PASSED' if gates.passed else 'FAILED'}: {counts['pass']} pass, "
        f"{counts['warn']} warn, {counts['fail']} fail (policy sha256 {gates.policy_sha256[:12]}).",
        f"Challenger: {verdicts}.",
        f"Stress: {len(cand)} scenarios; worst CVaR95 {worst['cvar95_shortfall_bps']:.0f} bps "
        f"in {worst['scenario']}.",
        f"Latency of one decision: p50 {latency['p50_ms']:.2f} ms, p99 {latency['p99_ms']:.2f} ms.",
    ]
    if not gates.passed:
        lines.append("Failed checks:\n" + gates.failure_message())
    lines.append("Reports: run artifacts reports/*.json|md|html, plots/*.png.")
    return "\n".join(lines)
