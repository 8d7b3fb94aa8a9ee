"""The retrain flow's recording tasks: every write to MLflow and the audit log.

Each task is one I/O step and retries with backoff on transient failures. Retrying is
safe because every write is idempotent per candidate run: the run is found again by the
Prefect flow run that opened it, a version already registered for the run is reused, and
each audit event carries a key (``<run id>:<action>``) under which it is appended once.
A deliberate verdict (data refused, gates failed) is never retried.
"""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.deployments import run_deployment
from prefect.runtime import flow_run

from flows.config import RetrainConfig
from governance.lifecycle.actions import hand_over_to_signoff
from governance.records import candidate as records
from governance.records import verdict as judgement
from governance.records.training_plots import stress_figures
from governance.stores.datasets import Snapshot
from governance.stores.handle import Stores, is_store_outage
from governance.trust.policy_store import LoadedPolicy, signer_for
from models import FittedModels, ModelFamily, Split
from validation.comparison import ComparisonReport
from validation.data_contracts import ContractReport
from validation.gates import GateReport
from validation.intake import Intake
from validation.stress import ScenarioLibrary, StressReport
from validation.stress.catalogue import gate_table

__all__ = [
    "RETRY",
    "comparison",
    "data_validation",
    "failure",
    "gates",
    "hand_over",
    "open_run",
    "request_signoff",
    "stress",
    "training",
]


def _transient(task, task_run, state) -> bool:
    """Retry what an outage causes; never a verdict (refused data stays refused) or a bug."""
    return is_store_outage(state.result(raise_on_failure=False))


#: Bounded retries with backoff for the tasks that talk to MLflow or the database.
RETRY = {"retries": 2, "retry_delay_seconds": [1, 5], "retry_condition_fn": _transient}


@task(name="open-run", cache_policy=NO_CACHE, **RETRY)
def open_run(
    stores: Stores, config: RetrainConfig, snapshot: Snapshot, policy: LoadedPolicy
) -> records.CandidateRun:
    """Open the candidate's MLflow run (or find the one this flow run opened before)."""
    return records.open_candidate_run(
        stores,
        config.model_name,
        config.author,
        config.model_dump(mode="json"),
        snapshot,
        policy,
        opened_by=str(flow_run.get_id() or ""),
    )


@task(name="record-data-validation", cache_policy=NO_CACHE, **RETRY)
def data_validation(
    stores: Stores, run: records.CandidateRun, snapshot: Snapshot, intake: Intake
) -> Intake:
    """Log the contract report and its audit event; fail the flow on refused data."""
    from prefect.artifacts import create_markdown_artifact

    if intake.report is not None:
        create_markdown_artifact(key="data-contracts", markdown=intake.report.to_markdown())
    records.record_data_validation(stores, run, snapshot, intake)
    return intake


@task(name="register", cache_policy=NO_CACHE, **RETRY)
def training(
    stores: Stores,
    family: ModelFamily,
    run: records.CandidateRun,
    snapshot: Snapshot,
    report: ContractReport,
    split: Split,
    fitted: FittedModels,
    metrics: dict,
) -> records.RegisteredVersion:
    """Log the model and training evidence; register a version under validation."""
    return records.record_training(
        stores,
        run,
        snapshot,
        family.table,
        family.target_column,
        fitted,
        family.features(split.holdout),
        metrics,
        report,
    )


@task(name="record-comparison", cache_policy=NO_CACHE, **RETRY)
def comparison(
    stores: Stores, run: records.CandidateRun, version: str, report: ComparisonReport
) -> None:
    """Log the challenger report and plots; audit the verdicts."""
    judgement.record_comparison(stores, run, version, report)


@task(name="record-stress", cache_policy=NO_CACHE, **RETRY)
def stress(
    stores: Stores,
    run: records.CandidateRun,
    version: str,
    report: StressReport,
    books: dict,
    library: ScenarioLibrary,
) -> None:
    """Log the merged stress report with its plots; audit the per-scenario table."""
    judgement.record_stress(
        stores,
        run,
        version,
        report.to_dict(),
        gate_table(report),
        stress_figures(report, books["candidate"], library),
        books["candidate"],
    )


@task(name="record-gates", cache_policy=NO_CACHE, **RETRY)
def gates(
    stores: Stores,
    run: records.CandidateRun,
    version: str,
    report: GateReport,
    challenger: ComparisonReport,
    stress_report: StressReport,
    latency: dict,
) -> None:
    """Record the verdict on the version, publish the report and close the run."""
    from prefect.artifacts import create_markdown_artifact

    create_markdown_artifact(key="gates", markdown=report.to_markdown())
    description = judgement.version_description(
        challenger, gate_table(stress_report), report, latency
    )
    judgement.record_gates(stores, run, version, report, latency, description)


# Not retried: an approval is not idempotent (a second one is refused as a repeat
# approver), and a second sign-off run would ask the validators twice.
@task(name="hand-over", cache_policy=NO_CACHE)
def hand_over(stores: Stores, config: RetrainConfig, policy: LoadedPolicy, version: str) -> str:
    """Approve automatically where a low-risk policy allows it; return the lifecycle state."""
    author = signer_for(stores.settings.keys_dir, policy.file, config.author)
    return hand_over_to_signoff(stores, policy, config.model_name, version, author)


@task(name="request-signoff", cache_policy=NO_CACHE)
def request_signoff(stores: Stores, config: RetrainConfig, version: str) -> str:
    """Start the sign-off deployment for the new version; return its flow run id."""
    started = run_deployment(
        config.signoff_deployment,
        parameters={
            "model": config.model_name,
            "version": version,
            "workdir": str(stores.settings.workdir),
        },
        timeout=0,
        # A separate run, not a subflow of this one: Prefect cannot suspend subflows.
        as_subflow=False,
    )
    return str(started.id)


def failure(
    stores: Stores, run: records.CandidateRun, version: str | None, error: BaseException
) -> None:
    """Close the run as FAILED and retire a half-validated version.

    A plain call rather than a task: it runs while the flow is already failing.
    """
    judgement.record_failure(stores, run, version, error)
