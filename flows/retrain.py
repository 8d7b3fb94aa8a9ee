"""The governed retraining flow: data -> contracts -> training -> evaluation -> registry.

Runs in Prefect's ephemeral mode when no server is configured, against a server when
``PREFECT_API_URL`` is set. Each task is one expensive step or one I/O boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.config import RetrainConfig
from flows.timing import StageTimer
from governance.candidate import (
    CandidateRun,
    data_report_path,
    open_candidate_run,
    record_data_validation,
    record_training,
    register_candidate,
)
from governance.datasets import Snapshot, load_snapshot
from governance.settings import Settings, get_settings
from models import FittedModels, Split, get_family, out_of_time_split
from validation.data_contracts import ContractReport, run_contracts
from validation.evaluation import holdout_metrics

__all__ = ["RetrainOutcome", "retrain"]


@dataclass(frozen=True)
class RetrainOutcome:
    """What a retraining run produced and how long each stage took."""

    model_name: str
    version: str
    run_id: str
    metrics: dict[str, dict[str, float]]
    data_report: str
    timings: list[tuple[str, float]] = field(default_factory=list)


@task(name="load-and-hash", cache_policy=NO_CACHE)
def load_and_hash(config: RetrainConfig) -> Snapshot:
    """Read the tables and hash their files."""
    return load_snapshot(config.data_dir)


@task(name="open-run", cache_policy=NO_CACHE)
def open_run(settings: Settings, config: RetrainConfig, snapshot: Snapshot) -> CandidateRun:
    """Open the candidate's MLflow run."""
    return open_candidate_run(
        settings, config.model_name, config.author, config.model_dump(mode="json"), snapshot
    )


@task(name="validate-data", cache_policy=NO_CACHE)
def validate_data(settings: Settings, run: CandidateRun, snapshot: Snapshot) -> ContractReport:
    """Run the data contracts; fail the flow on a critical failure."""
    report = run_contracts(snapshot.tables)
    create_markdown_artifact(
        key="data-contracts", markdown=_contract_markdown(report), description="Data contracts"
    )
    record_data_validation(settings, run, snapshot, report)
    return report


@task(name="train", cache_policy=NO_CACHE)
def train(config: RetrainConfig, snapshot: Snapshot) -> tuple[Split, FittedModels]:
    """Split out of time and fit the candidate and baselines."""
    family = get_family(config.model_name)
    split = out_of_time_split(
        snapshot.tables[family.table], family.time_column, config.holdout_fraction
    )
    return split, family.fit(split.train, config.seed)


@task(name="evaluate", cache_policy=NO_CACHE)
def evaluate(config: RetrainConfig, split: Split, fitted: FittedModels) -> dict:
    """Score the candidate and the baselines on the holdout."""
    return holdout_metrics(get_family(config.model_name), fitted, split.holdout)


@task(name="register", cache_policy=NO_CACHE)
def register(
    settings: Settings,
    config: RetrainConfig,
    run: CandidateRun,
    snapshot: Snapshot,
    report: ContractReport,
    split: Split,
    fitted: FittedModels,
    metrics: dict,
) -> str:
    """Log the model and evidence to MLflow and register a version pending sign-off."""
    family = get_family(config.model_name)
    model_uri = record_training(
        settings,
        run,
        snapshot,
        family.table,
        "shortfall_bps",
        fitted,
        family.features(split.holdout),
        metrics,
    )
    return register_candidate(settings, run, model_uri, snapshot, report, metrics)


@flow(name="retrain", log_prints=True)
def retrain(config: RetrainConfig) -> RetrainOutcome:
    """Validate the data, train a candidate, evaluate it and register it for sign-off."""
    settings = get_settings(config.workdir)
    timer = StageTimer()
    with timer("load and hash data"):
        snapshot = load_and_hash(config)
    with timer("open MLflow run"):
        run = open_run(settings, config, snapshot)
    with timer("data contracts"):
        report = validate_data(settings, run, snapshot)
    with timer("train"):
        split, fitted = train(config, snapshot)
    with timer("evaluate"):
        metrics = evaluate(config, split, fitted)
    with timer("log and register"):
        version = register(settings, config, run, snapshot, report, split, fitted, metrics)
    return RetrainOutcome(
        config.model_name,
        version,
        run.run_id,
        metrics,
        str(data_report_path(settings, run.run_id)),
        timer.stages,
    )


def _contract_markdown(report: ContractReport) -> str:
    status = "PASSED" if report.passed else "REJECTED"
    lines = [
        f"# Data contracts: {status}",
        "",
        "| table | check | severity | result |",
        "|---|---|---|---|",
    ]
    for check in report.checks:
        lines.append(f"| {check.location()} | {check.check} | {check.severity} | {check.status} |")
    return "\n".join(lines)
