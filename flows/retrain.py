"""The governed retraining flow.

data -> contracts -> training -> registration -> challenger comparison -> stress
backtests (one mapped task per scenario) -> latency -> gates -> pending sign-off.

Runs in Prefect's ephemeral mode when no server is configured, against a server when
``PREFECT_API_URL`` is set. Each stage after the MLflow run opens is also an OpenLineage
run (:mod:`governance.records.run_events`). Each task is one expensive computation or one I/O step;
computing and recording are separate tasks, and only recording tasks retry (their writes
are idempotent per run, see :mod:`flows.recording`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows import recording as record
from flows.config import RetrainConfig
from flows.stress_fan_out import fan_out
from flows.timing import StageTimer
from governance.lifecycle.lease import retrain_beacon
from governance.loader.champion import Champion, champion_by_log
from governance.records.candidate import CandidateRun, data_report_path
from governance.records.run_events import LineageDataset, RetrainLineage, lineage_client
from governance.records.serving import decision_latency
from governance.stores.datasets import Snapshot, load_snapshot
from governance.stores.handle import Stores, open_stores
from governance.stores.settings import ensure_workdir, get_settings
from governance.trust.policy_store import LoadedPolicy, load_model_policy
from models import FittedModels, Split, get_family
from validation import judging
from validation.comparison import ComparisonReport
from validation.evaluation import holdout_metrics
from validation.gates import GateReport
from validation.intake import Intake, check_intake
from validation.stress import ScenarioLibrary, StressReport, load_scenarios
from vocabulary import CandidateRejected, Lifecycle

__all__ = ["RetrainOutcome", "retrain"]


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
def load_policy(stores: Stores, config: RetrainConfig, library: ScenarioLibrary) -> LoadedPolicy:
    """Read and validate the model's policy before any work is done."""
    return load_model_policy(stores.settings.policy_path, config.model_name, library)


@task(name="load-and-hash", cache_policy=NO_CACHE)
def load_and_hash(config: RetrainConfig) -> Snapshot:
    """Read the tables and hash their files."""
    return load_snapshot(config.data_dir)


@task(name="check-data", cache_policy=NO_CACHE)
def check_data(config: RetrainConfig, policy: LoadedPolicy, snapshot: Snapshot) -> Intake:
    """Run the data contracts and the family's admission checks; split out of time."""
    return check_intake(
        snapshot.tables,
        get_family(config.model_name),
        config.holdout_fraction,
        policy.policy.min_holdout_days,
    )


@task(name="train", cache_policy=NO_CACHE)
def train(config: RetrainConfig, split: Split) -> FittedModels:
    """Fit the candidate and the baselines on the training part of the split."""
    return get_family(config.model_name).fit(split.train, config.seed)


@task(name="evaluate", cache_policy=NO_CACHE)
def evaluate(config: RetrainConfig, split: Split, fitted: FittedModels) -> dict:
    """Score the candidate and the baselines on the holdout."""
    return holdout_metrics(get_family(config.model_name), fitted, split.holdout)


@task(name="load-champion", cache_policy=NO_CACHE, **record.RETRY)
def load_champion(stores: Stores, config: RetrainConfig) -> Champion | None:
    """Load the champion by the audit log (never by alias), its artifacts verified."""
    return champion_by_log(stores, config.model_name)


@task(name="challenge", cache_policy=NO_CACHE)
def challenge(
    config: RetrainConfig,
    split: Split,
    fitted: FittedModels,
    champion: Champion | None,
    policy: LoadedPolicy,
) -> ComparisonReport:
    """Compare the candidate with the champion and the baselines on the same holdout."""
    references = dict(fitted.baselines)
    if champion is not None:
        references = {"champion": champion.predictor, **references}
    return judging.challenge(
        get_family(config.model_name), split.holdout, fitted.candidate, references, policy.policy
    )


@task(name="schedule-stress-books", cache_policy=NO_CACHE)
def schedule_stress_books(
    config: RetrainConfig, split: Split, fitted: FittedModels, champion: Champion | None
) -> dict:
    """Let each model's policy schedule the stress orders (the reference is the champion)."""
    reference_name, reference = (
        ("champion", champion.predictor)
        if champion is not None
        else next(iter(fitted.baselines.items()))
    )
    return judging.stress_books(
        get_family(config.model_name), split.holdout, fitted.candidate, reference_name, reference
    )


@task(name="measure-latency", cache_policy=NO_CACHE, **record.RETRY)
def measure_latency(stores: Stores, config: RetrainConfig, version: str, split: Split) -> dict:
    """Time one pre-trade decision through the registered pyfunc."""
    family = get_family(config.model_name)
    return decision_latency(stores, config.model_name, version, family, split.holdout.head(1))


@task(name="judge", cache_policy=NO_CACHE)
def judge(
    config: RetrainConfig,
    policy: LoadedPolicy,
    library: ScenarioLibrary,
    comparison: ComparisonReport,
    stress: StressReport,
    latency: dict,
) -> GateReport:
    """Apply the policy's gates to the evidence, the candidate's decisions judged first."""
    return judging.judge(
        get_family(config.model_name),
        policy.policy,
        policy.sha256,
        comparison,
        stress,
        latency,
        config.seed,
        required_scenarios=tuple(library.names),
    )


@flow(name="retrain", log_prints=True)
def retrain(config: RetrainConfig) -> RetrainOutcome:
    """Validate, train, register, challenge, stress and gate a candidate."""
    stores = open_stores(ensure_workdir(get_settings(config.workdir)))
    timer = StageTimer(prefix=f"{config.model_name}: ")
    with timer("load policy, data, hash"):
        library = load_scenarios()
        policy = load_policy(stores, config, library)
        snapshot = load_and_hash(config)
    with timer("open MLflow run"):
        run = record.open_run(stores, config, snapshot, policy)
    lineage = RetrainLineage(
        lineage_client(stores.settings.workdir),
        config.model_name,
        run.run_id,
        LineageDataset.of_snapshot(snapshot),
    )
    lineage.start()
    timer.around = lineage.stage
    registered: list[str] = []
    # The beacon tells `govern audit reconcile` this run is alive; if the process dies, the
    # version it left validating is closed as failed there.
    with retrain_beacon(stores.audit.engine, run.run_id, config.author):
        try:
            outcome = _govern_candidate(
                stores, config, policy, library, snapshot, run, timer, registered
            )
        except BaseException as error:
            # Whatever failed, the run is closed and a half-validated version retired.
            record.failure(stores, run, registered[0] if registered else None, error)
            lineage.finish(error)
            raise
    lineage.finish()
    return outcome


def _govern_candidate(
    stores: Stores,
    config: RetrainConfig,
    policy: LoadedPolicy,
    library: ScenarioLibrary,
    snapshot: Snapshot,
    run: CandidateRun,
    timer: StageTimer,
    registered: list[str],
) -> RetrainOutcome:
    with timer("data contracts") as stage:
        checked = check_data(config, policy, snapshot)
        stage.checked(checked.report)
        intake = record.data_validation(stores, run, snapshot, checked)
        split = intake.split
    with timer("train"):
        fitted = train(config, split)
        metrics = evaluate(config, split, fitted)
    with timer("log and register") as stage:
        version = record.training(
            stores, config, run, snapshot, intake.report, split, fitted, metrics
        )
        registered.append(version)
        stage.produced(LineageDataset.of_version(stores, config.model_name, version))
    with timer("challenger comparison"):
        champion = load_champion(stores, config)
        comparison = challenge(config, split, fitted, champion, policy)
        record.comparison(stores, run, version, comparison)
    with timer("stress backtests"):
        books = schedule_stress_books(config, split, fitted, champion)
        per_scenario = fan_out(
            config.dask_address,
            {name: book.to_dict(orient="list") for name, book in books.items()},
            list(config.scenarios or library.names),
            library,
            judging.stress_config(policy.policy, config.stress_paths, config.seed),
        )
        stress = StressReport.merge(per_scenario)
        record.stress(stores, run, version, stress, books, library)
    with timer("latency and gates"):
        latency = measure_latency(stores, config, version, split)
        gates = judge(config, policy, library, comparison, stress, latency)
        record.gates(stores, run, version, gates, comparison, stress, latency)
    if not gates.passed:
        raise CandidateRejected(
            f"{config.model_name} version {version} failed its gates and is registered as "
            f"rejected (never promotable):\n{gates.failure_message()}"
        )
    lifecycle = record.hand_over(stores, config, policy, version)
    signoff_run = (
        record.request_signoff(stores, config, version)
        if config.signoff_deployment and lifecycle == Lifecycle.PENDING_SIGNOFF
        else None
    )
    return RetrainOutcome(
        model_name=config.model_name,
        version=version,
        run_id=run.run_id,
        lifecycle=lifecycle,
        metrics=metrics,
        gates=gates,
        champion_version=champion.version if champion else None,
        data_report=str(data_report_path(stores.settings, run.run_id)),
        signoff_flow_run=signoff_run,
        timings=timer.stages,
    )
