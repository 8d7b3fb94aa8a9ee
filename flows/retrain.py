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

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
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
from models import FittedModels, ModelFamily, Split, get_family
from validation import judging
from validation.comparison import ComparisonReport
from validation.evaluation import holdout_metrics
from validation.gates import GateReport
from validation.intake import Intake, check_intake
from validation.policy import ModelPolicy
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
def load_policy(stores: Stores, model_name: str, library: ScenarioLibrary) -> LoadedPolicy:
    """Read and validate the model's policy before any work is done."""
    return load_model_policy(stores.settings.policy_path, model_name, library)


@task(name="load-and-hash", cache_policy=NO_CACHE)
def load_and_hash(data_dir: Path) -> Snapshot:
    """Read the tables and hash their files."""
    return load_snapshot(data_dir)


@task(name="check-data", cache_policy=NO_CACHE)
def check_data(
    family: ModelFamily, snapshot: Snapshot, holdout_fraction: float, min_holdout_days: int
) -> Intake:
    """Run the data contracts and the family's admission checks; split out of time."""
    return check_intake(
        snapshot.tables, family, holdout_fraction, min_holdout_days, pd.Timestamp.now(tz="UTC")
    )


@task(name="train", cache_policy=NO_CACHE)
def train(family: ModelFamily, split: Split, seed: int) -> FittedModels:
    """Fit the candidate and the baselines on the training part of the split."""
    return family.fit(split.train, seed)


@task(name="evaluate", cache_policy=NO_CACHE)
def evaluate(family: ModelFamily, split: Split, fitted: FittedModels) -> dict:
    """Score the candidate and the baselines on the holdout."""
    return holdout_metrics(family, fitted, split.holdout)


@task(name="load-champion", cache_policy=NO_CACHE, **record.RETRY)
def load_champion(stores: Stores, model_name: str) -> Champion | None:
    """Load the champion by the audit log (never by alias), its artifacts verified."""
    return champion_by_log(stores, model_name)


@task(name="challenge", cache_policy=NO_CACHE)
def challenge(
    family: ModelFamily,
    holdout: pd.DataFrame,
    fitted: FittedModels,
    champion: Champion | None,
    policy: ModelPolicy,
) -> ComparisonReport:
    """Compare the candidate with the champion and the baselines on the same holdout."""
    references = dict(fitted.baselines)
    if champion is not None:
        references = {"champion": champion.predictor, **references}
    return judging.challenge(family, holdout, fitted.candidate, references, policy)


@task(name="schedule-stress-books", cache_policy=NO_CACHE)
def schedule_stress_books(
    family: ModelFamily, holdout: pd.DataFrame, fitted: FittedModels, champion: Champion | None
) -> dict:
    """Let each model's policy schedule the stress orders (the reference is the champion)."""
    reference_name, reference = (
        ("champion", champion.predictor)
        if champion is not None
        else next(iter(fitted.baselines.items()))
    )
    return judging.stress_books(family, holdout, fitted.candidate, reference_name, reference)


@task(name="measure-latency", cache_policy=NO_CACHE, **record.RETRY)
def measure_latency(
    stores: Stores, family: ModelFamily, version: str, holdout: pd.DataFrame
) -> dict:
    """Time one pre-trade decision through the registered pyfunc."""
    return decision_latency(stores, family.registered_name, version, family, holdout.head(1))


@task(name="judge", cache_policy=NO_CACHE)
def judge(
    family: ModelFamily,
    policy: LoadedPolicy,
    scenarios: tuple[str, ...],
    comparison: ComparisonReport,
    stress: StressReport,
    latency: dict,
    seed: int,
) -> GateReport:
    """Apply the policy's gates to the evidence, the candidate's decisions judged first."""
    return judging.judge(
        family,
        policy.policy,
        policy.sha256,
        comparison,
        stress,
        latency,
        seed,
        required_scenarios=scenarios,
    )


@dataclass(frozen=True)
class _Registered:
    """A trained candidate, registered as a version: what judging it needs."""

    version: str
    split: Split
    fitted: FittedModels
    metrics: dict[str, dict[str, float]]


@flow(name="retrain", log_prints=True)
def retrain(config: RetrainConfig) -> RetrainOutcome:
    """Validate, train, register, challenge, stress and gate a candidate."""
    stores = open_stores(ensure_workdir(get_settings(config.workdir)))
    family = get_family(config.model_name)
    timer = StageTimer(prefix=f"{config.model_name}: ")
    with timer("load policy, data, hash"):
        library = load_scenarios()
        policy = load_policy(stores, config.model_name, library)
        snapshot = load_and_hash(config.data_dir)
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
    # The beacon tells `govern audit reconcile` this run is alive; if the process dies, the
    # version it left validating is closed as failed there.
    with retrain_beacon(stores.audit.engine, run.run_id, config.author):
        with _closed_on_failure(stores, run, lineage, version=None):
            registered = _train_and_register(stores, config, family, policy, snapshot, run, timer)
        with _closed_on_failure(stores, run, lineage, version=registered.version):
            outcome = _judge(stores, config, family, policy, library, run, registered, timer)
    lineage.finish()
    return outcome


@contextmanager
def _closed_on_failure(
    stores: Stores, run: CandidateRun, lineage: RetrainLineage, version: str | None
) -> Iterator[None]:
    """Whatever fails, close the run and retire ``version`` (half-validated) for good."""
    try:
        yield
    except BaseException as error:
        record.failure(stores, run, version, error)
        lineage.finish(error)
        raise


def _train_and_register(
    stores: Stores,
    config: RetrainConfig,
    family: ModelFamily,
    policy: LoadedPolicy,
    snapshot: Snapshot,
    run: CandidateRun,
    timer: StageTimer,
) -> _Registered:
    with timer("data contracts") as stage:
        checked = check_data(
            family, snapshot, config.holdout_fraction, policy.policy.min_holdout_days
        )
        stage.checked(checked.report)
        intake = record.data_validation(stores, run, snapshot, checked)
        split = intake.split
    with timer("train"):
        fitted = train(family, split, config.seed)
        metrics = evaluate(family, split, fitted)
    with timer("log and register") as stage:
        registered = record.training(
            stores, family, run, snapshot, intake.report, split, fitted, metrics
        )
        stage.produced(LineageDataset.of_version(stores, registered))
    return _Registered(registered.version, split, fitted, metrics)


def _judge(
    stores: Stores,
    config: RetrainConfig,
    family: ModelFamily,
    policy: LoadedPolicy,
    library: ScenarioLibrary,
    run: CandidateRun,
    registered: _Registered,
    timer: StageTimer,
) -> RetrainOutcome:
    version, holdout, fitted = registered.version, registered.split.holdout, registered.fitted
    with timer("challenger comparison"):
        champion = load_champion(stores, config.model_name)
        comparison = challenge(family, holdout, fitted, champion, policy.policy)
        record.comparison(stores, run, version, comparison)
    with timer("stress backtests"):
        books = schedule_stress_books(family, holdout, fitted, champion)
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
        latency = measure_latency(stores, family, version, holdout)
        scenarios = tuple(library.names)
        gates = judge(family, policy, scenarios, comparison, stress, latency, config.seed)
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
        metrics=registered.metrics,
        gates=gates,
        champion_version=champion.version if champion else None,
        data_report=str(data_report_path(stores.settings, run.run_id)),
        signoff_flow_run=signoff_run,
        timings=timer.stages,
    )
