"""The governed retraining flow.

data -> contracts -> training -> registration -> challenger comparison -> stress
backtests (one mapped task per scenario) -> latency -> gates -> pending sign-off.

Runs in Prefect's ephemeral mode when no server is configured, against a server when
``PREFECT_API_URL`` is set. Each task is one expensive step or one I/O boundary.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pandas as pd
from prefect import Flow, flow, task, unmapped
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.deployments import run_deployment

from flows.config import RetrainConfig
from flows.timing import StageTimer
from governance import candidate as records
from governance.datasets import Snapshot, load_snapshot
from vocabulary.errors import CandidateRejected
from governance.lifecycle import hand_over_to_signoff
from governance.loading import LoadedModel, find_alias, load_verified
from governance.plots import stress_figures
from governance.policy_store import LoadedPolicy, load_model_policy
from governance.serving import decision_latency
from governance.settings import Settings, ensure_workdir, get_settings
from governance.tracking import connect
from models import FittedModels, Split, get_family, out_of_time_split
from validation.comparison import ComparisonReport, compare_candidate, require_holdout_days
from validation.data_contracts import ContractReport, run_contracts
from validation.evaluation import holdout_metrics
from validation.gates import GateReport, evaluate_gates
from validation.stress import StressConfig, StressReport, load_scenarios, run_stress
from validation.stress_book import gate_table, schedule_book, stress_book

__all__ = ["RetrainOutcome", "retrain"]

# One process launches one parallel numba kernel at a time: the kernels already use every
# core, and numba's fallback threading layer (workqueue) aborts on concurrent launches.
# Across processes (Dask workers) scenarios do run in parallel.
_KERNEL_LAUNCH = threading.Lock()


@dataclass(frozen=True)
class RetrainOutcome:
    """What a retraining run produced and how long each stage took."""

    model_name: str
    version: str
    run_id: str
    lifecycle: str
    metrics: dict[str, dict[str, float]]
    gates: GateReport
    champion_version: str | None
    data_report: str
    signoff_flow_run: str | None = None
    timings: list[tuple[str, float]] = field(default_factory=list)


@task(name="load-policy", cache_policy=NO_CACHE)
def load_policy(settings: Settings, config: RetrainConfig) -> LoadedPolicy:
    """Read and validate the model's policy before any work is done."""
    return load_model_policy(settings.policy_path, config.model_name)


@task(name="load-and-hash", cache_policy=NO_CACHE)
def load_and_hash(config: RetrainConfig) -> Snapshot:
    """Read the tables and hash their files."""
    return load_snapshot(config.data_dir)


@task(name="open-run", cache_policy=NO_CACHE)
def open_run(settings: Settings, config: RetrainConfig, snapshot: Snapshot) -> records.CandidateRun:
    """Open the candidate's MLflow run."""
    return records.open_candidate_run(
        settings, config.model_name, config.author, config.model_dump(mode="json"), snapshot
    )


@task(name="validate-data", cache_policy=NO_CACHE)
def validate_data(
    settings: Settings, run: records.CandidateRun, snapshot: Snapshot
) -> ContractReport:
    """Run the data contracts; fail the flow on a critical failure."""
    report = run_contracts(snapshot.tables)
    create_markdown_artifact(key="data-contracts", markdown=report.to_markdown())
    records.record_data_validation(settings, run, snapshot, report)
    return report


@task(name="train", cache_policy=NO_CACHE)
def train(
    config: RetrainConfig, policy: LoadedPolicy, snapshot: Snapshot
) -> tuple[Split, FittedModels]:
    """Split out of time, check the holdout is long enough to judge, fit the models."""
    family = get_family(config.model_name)
    split = out_of_time_split(
        snapshot.tables[family.table], family.time_column, config.holdout_fraction
    )
    require_holdout_days(split, family.time_column, policy.policy.min_holdout_days)
    return split, family.fit(split.train, config.seed)


@task(name="evaluate", cache_policy=NO_CACHE)
def evaluate(config: RetrainConfig, split: Split, fitted: FittedModels) -> dict:
    """Score the candidate and the baselines on the holdout."""
    return holdout_metrics(get_family(config.model_name), fitted, split.holdout)


@task(name="register", cache_policy=NO_CACHE)
def register(
    settings: Settings,
    config: RetrainConfig,
    run: records.CandidateRun,
    snapshot: Snapshot,
    report: ContractReport,
    split: Split,
    fitted: FittedModels,
    metrics: dict,
) -> str:
    """Log the model and training evidence; register a version under validation."""
    family = get_family(config.model_name)
    return records.record_training(
        settings,
        run,
        snapshot,
        family.table,
        "shortfall_bps",
        fitted,
        family.features(split.holdout),
        metrics,
        report,
    )


@task(name="load-champion", cache_policy=NO_CACHE)
def load_champion(settings: Settings, config: RetrainConfig) -> LoadedModel | None:
    """Load the current champion after checking its artifact hash, if there is one."""
    client, _ = connect(settings)
    version = find_alias(client, config.model_name, "champion")
    return None if version is None else load_verified(client, version)


@task(name="challenge", cache_policy=NO_CACHE)
def challenge(
    settings: Settings,
    config: RetrainConfig,
    run: records.CandidateRun,
    version: str,
    split: Split,
    fitted: FittedModels,
    champion: LoadedModel | None,
    policy: LoadedPolicy,
) -> ComparisonReport:
    """Compare the candidate with the champion and the baselines on the same holdout."""
    family = get_family(config.model_name)
    references = dict(fitted.baselines)
    if champion is not None:
        references = {"champion": champion.predictor, **references}
    comparison = compare_candidate(
        family.features(split.holdout),
        split.holdout,
        family.target(split.holdout),
        fitted.candidate,
        references,
        family.time_column,
        policy.policy.non_inferiority_margin,
        seed=config.seed,
    )
    records.record_comparison(settings, run, version, comparison)
    return comparison


@task(name="schedule-stress-books", cache_policy=NO_CACHE)
def schedule_stress_books(
    config: RetrainConfig, split: Split, fitted: FittedModels, champion: LoadedModel | None
) -> dict:
    """Let each model's policy schedule the stress orders (the reference is the champion)."""
    family = get_family(config.model_name)
    book = stress_book(split.holdout)
    reference_name, reference = (
        ("champion", champion.predictor)
        if champion is not None
        else next(iter(fitted.baselines.items()))
    )
    return {
        "candidate": schedule_book(family, fitted.candidate, book),
        reference_name: schedule_book(family, reference, book),
    }


@task(name="stress-scenario", cache_policy=NO_CACHE)
def stress_scenario(scenario: str, books: dict, stress_config: StressConfig) -> StressReport:
    """Execute every model's schedules under one scenario on common random numbers."""
    return _run_scenario_serialised(scenario, books, stress_config)


def _run_scenario_serialised(
    scenario: str, books: dict, stress_config: StressConfig
) -> StressReport:
    # A module-level function, so that Dask pickles it by reference and not its lock.
    frames = {name: pd.DataFrame(columns) for name, columns in books.items()}
    with _KERNEL_LAUNCH:
        return run_stress(frames, [scenario], stress_config)


@flow(name="stress-fan-out")
def stress_fan_out(
    books: dict[str, dict[str, list]], scenarios: list[str], stress_config: StressConfig
) -> list[StressReport]:
    """One task per scenario on this flow's task runner (threads, or a Dask cluster).

    The books travel as plain columns so that Prefect can record them as parameters.
    """
    return stress_scenario.map(scenarios, unmapped(books), unmapped(stress_config)).result()


def _fan_out_runner(config: RetrainConfig) -> Flow:
    """The fan-out flow, on the Dask cluster of ``config.dask_address`` when one is given."""
    if config.dask_address is None:
        return stress_fan_out
    from prefect_dask import DaskTaskRunner

    return stress_fan_out.with_options(task_runner=DaskTaskRunner(address=config.dask_address))


@task(name="record-stress", cache_policy=NO_CACHE)
def record_stress(
    settings: Settings,
    run: records.CandidateRun,
    version: str,
    reports: list[StressReport],
    books: dict,
) -> StressReport:
    """Merge the per-scenario reports and log them with their plots."""
    merged = StressReport(
        {name: by_model for r in reports for name, by_model in r.results.items()},
        reports[0].config,
    )
    records.record_stress(
        settings,
        run,
        version,
        merged.to_dict(),
        gate_table(merged),
        stress_figures(merged, books["candidate"]),
    )
    return merged


@task(name="measure-latency", cache_policy=NO_CACHE)
def measure_latency(config: RetrainConfig, version: str, split: Split) -> dict:
    """Time one pre-trade decision through the registered pyfunc."""
    family = get_family(config.model_name)
    return decision_latency(config.model_name, version, family, split.holdout.head(1))


@task(name="judge", cache_policy=NO_CACHE)
def judge(
    settings: Settings,
    run: records.CandidateRun,
    version: str,
    policy: LoadedPolicy,
    comparison: ComparisonReport,
    stress: StressReport,
    latency: dict,
) -> GateReport:
    """Apply the gates, record the verdict on the version and publish the report."""
    gates = evaluate_gates(
        policy.policy,
        policy.sha256,
        comparison,
        gate_table(stress),
        latency,
        required_scenarios=tuple(load_scenarios().names),
    )
    create_markdown_artifact(key="gates", markdown=gates.to_markdown())
    description = records.version_description(comparison, gate_table(stress), gates, latency)
    records.record_gates(settings, run, version, gates, latency, description)
    return gates


@task(name="hand-over", cache_policy=NO_CACHE)
def hand_over(settings: Settings, config: RetrainConfig, policy: LoadedPolicy, version: str) -> str:
    """Approve automatically where a low-risk policy allows it; return the lifecycle state."""
    return hand_over_to_signoff(settings, policy.policy, config.model_name, version)


@task(name="request-signoff", cache_policy=NO_CACHE)
def request_signoff(settings: Settings, config: RetrainConfig, version: str) -> str:
    """Start the sign-off deployment for the new version; return its flow run id."""
    flow_run = run_deployment(
        config.signoff_deployment,
        parameters={
            "model": config.model_name,
            "version": version,
            "workdir": str(settings.workdir),
        },
        timeout=0,
        # A separate run, not a subflow of this one: Prefect cannot suspend subflows.
        as_subflow=False,
    )
    return str(flow_run.id)


@flow(name="retrain", log_prints=True)
def retrain(config: RetrainConfig) -> RetrainOutcome:
    """Validate, train, register, challenge, stress and gate a candidate."""
    settings = ensure_workdir(get_settings(config.workdir))
    timer = StageTimer()
    with timer("load policy, data, hash"):
        policy = load_policy(settings, config)
        snapshot = load_and_hash(config)
    with timer("open MLflow run"):
        run = open_run(settings, config, snapshot)
    registered: list[str] = []
    try:
        return _govern_candidate(settings, config, policy, snapshot, run, timer, registered)
    except BaseException as error:
        # Whatever failed, the run is closed and a half-validated version retired.
        records.record_failure(settings, run, registered[0] if registered else None, error)
        raise


def _govern_candidate(
    settings: Settings,
    config: RetrainConfig,
    policy: LoadedPolicy,
    snapshot: Snapshot,
    run: records.CandidateRun,
    timer: StageTimer,
    registered: list[str],
) -> RetrainOutcome:
    with timer("data contracts"):
        report = validate_data(settings, run, snapshot)
    with timer("train"):
        split, fitted = train(config, policy, snapshot)
        metrics = evaluate(config, split, fitted)
    with timer("log and register"):
        version = register(settings, config, run, snapshot, report, split, fitted, metrics)
        registered.append(version)
    with timer("challenger comparison"):
        champion = load_champion(settings, config)
        comparison = challenge(settings, config, run, version, split, fitted, champion, policy)
    with timer("stress backtests"):
        books = schedule_stress_books(config, split, fitted, champion)
        per_scenario = _fan_out_runner(config)(
            {name: book.to_dict(orient="list") for name, book in books.items()},
            list(config.scenarios or load_scenarios().names),
            StressConfig(n_paths=config.stress_paths, seed=config.seed),
        )
        stress = record_stress(settings, run, version, per_scenario, books)
    with timer("latency and gates"):
        latency = measure_latency(config, version, split)
        gates = judge(settings, run, version, policy, comparison, stress, latency)
    if not gates.passed:
        raise CandidateRejected(
            f"{config.model_name} version {version} failed its gates and is registered as "
            f"rejected (never promotable):\n{gates.failure_message()}"
        )
    lifecycle = hand_over(settings, config, policy, version)
    signoff_run = (
        request_signoff(settings, config, version)
        if config.signoff_deployment and lifecycle == "pending-signoff"
        else None
    )
    return RetrainOutcome(
        model_name=config.model_name,
        version=version,
        run_id=run.run_id,
        lifecycle=lifecycle,
        metrics=metrics,
        gates=gates,
        champion_version=str(champion.version.version) if champion else None,
        data_report=str(records.data_report_path(settings, run.run_id)),
        signoff_flow_run=signoff_run,
        timings=timer.stages,
    )
