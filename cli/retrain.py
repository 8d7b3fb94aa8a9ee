"""``govern retrain`` and ``govern demo``: the governed retraining flow and its story."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.options import StressPathsOption, WorkdirOption, exit_codes, quiet_network_and_local_state

if TYPE_CHECKING:  # imported for annotations only: the CLI must start fast
    from flows.config import RetrainConfig
    from flows.demo import DemoOutcome
    from flows.retrain import RetrainOutcome
    from governance.stores.settings import Settings

__all__ = ["demo", "retrain"]


def retrain(
    data: Annotated[Path, typer.Option("--data", help="Directory with executions.parquet.")],
    workdir: WorkdirOption = None,
    seed: Annotated[int, typer.Option(help="Estimator seed.")] = 0,
    author: Annotated[
        str | None,
        typer.Option("--as", help="Author of the candidate. Default: $GOVERN_USER or login."),
    ] = None,
    stress_paths: StressPathsOption = 10_000,
    signoff_deployment: Annotated[
        str | None,
        typer.Option(
            help="Prefect deployment that waits for sign-off, e.g. await-signoff/await-signoff."
        ),
    ] = None,
    dask_address: Annotated[
        str | None,
        typer.Option(help="Dask scheduler (tcp://host:8786) to fan stress scenarios out to."),
    ] = None,
) -> None:
    """Validate data, train, challenge, stress-test and gate a candidate for sign-off.

    Exit codes: 0 pending sign-off, 3 data rejected, 4 gates failed (registered as rejected).
    """
    with exit_codes():
        from flows.config import RetrainConfig, default_actor
        from governance.stores.settings import ensure_workdir, get_settings

        settings = ensure_workdir(get_settings(workdir))
        quiet_network_and_local_state(settings.workdir)
        config = RetrainConfig(
            data_dir=data,
            workdir=settings.workdir,
            seed=seed,
            author=author or default_actor(),
            stress_paths=stress_paths,
            signoff_deployment=signoff_deployment,
            dask_address=dask_address,
        )
        started = time.perf_counter()
        _admit(settings, config)
        from flows.retrain import retrain as retrain_flow

        outcome = retrain_flow(config)
        _print_outcome(outcome, time.perf_counter() - started)


def demo(
    workdir: WorkdirOption = None,
    orders: Annotated[int, typer.Option(help="Parent orders per synthetic data set.")] = 200_000,
    stress_paths: StressPathsOption = 10_000,
) -> None:
    """Run the whole lifecycle on synthetic data and print where to look.

    Day 1: data is synthesised, a candidate is trained by ``quant-researcher``, gated and
    approved by ``validator`` (maker-checker), which promotes it to champion. Day 2: new
    data, a second candidate is challenged by that champion, approved and promoted; the
    first becomes ``previous``.
    """
    with exit_codes():
        from governance.stores.settings import ensure_workdir, get_settings

        settings = ensure_workdir(get_settings(workdir))
        quiet_network_and_local_state(settings.workdir)
        from flows.demo import DemoConfig
        from flows.demo import demo as demo_flow

        started = time.perf_counter()
        outcome = demo_flow(
            DemoConfig(workdir=settings.workdir, orders=orders, stress_paths=stress_paths)
        )
        _print_demo(outcome, time.perf_counter() - started)


def _admit(settings: Settings, config: RetrainConfig) -> None:
    """Refuse bad data, an author without their key or a policy not in force, in seconds.

    All before the workflow engine starts: exit 3 for data (the refusal checkpointed with
    the author's key when this process holds it), 5 for the key, 6 for the policy.
    """
    from governance.ledger import open_audit_log
    from governance.records.admission import admit_snapshot
    from governance.trust.policy_store import load_model_policy, require_in_force, signer_for
    from models import get_family
    from vocabulary import NotAuthorised

    loaded = load_model_policy(settings.policy_path, config.model_name)
    try:
        author, unauthorised = signer_for(settings.keys_dir, loaded.file, config.author), None
    except NotAuthorised as refused:
        author, unauthorised = None, refused
    admit_snapshot(
        settings,
        config.data_dir,
        get_family(config.model_name),
        config.holdout_fraction,
        loaded.policy.min_holdout_days,
        config.author,
        author,
    )
    if unauthorised is not None:
        raise unauthorised
    with open_audit_log(settings.audit_db_url) as audit:
        require_in_force(audit, loaded)


def _print_outcome(outcome: RetrainOutcome, total: float) -> None:
    overhead = total - sum(seconds for _, seconds in outcome.timings)
    _print_timings(outcome.timings, overhead, total)
    cand = outcome.metrics["candidate"]
    counts = outcome.gates.summary()["counts"]
    challengers = (
        f"champion v{outcome.champion_version} and the baselines"
        if outcome.champion_version
        else "the baselines (no champion yet)"
    )
    typer.echo(
        f"\nregistered {outcome.model_name} version {outcome.version} "
        f"(lifecycle={outcome.lifecycle}), run {outcome.run_id}\n"
        f"challenged by {challengers}\n"
        f"holdout MAE {cand['mae']:.2f} bps, RMSE {cand['rmse']:.2f} bps, "
        f"p95 |error| {cand['p95_abs_error']:.1f} bps, bias {cand['bias']:+.2f} bps\n"
        f"gates passed: {counts['pass']} pass, {counts['warn']} warn, {counts['fail']} fail\n"
        f"data-contract report: {outcome.data_report}"
    )
    if outcome.signoff_flow_run:
        typer.echo(f"sign-off waits in Prefect: flow run {outcome.signoff_flow_run}")


def _print_timings(stages: list[tuple[str, float]], overhead: float, total: float) -> None:
    typer.echo("\nStage timings")
    typer.echo(f"  {'stage':<28}{'seconds':>10}")
    for stage, seconds in [("start-up (Prefect, MLflow)", overhead), *stages]:
        typer.echo(f"  {stage:<28}{seconds:>10.2f}")
    typer.echo(f"  {'total':<28}{total:>10.2f}")


def _print_demo(outcome: DemoOutcome, total: float) -> None:
    for day in outcome.days:
        typer.secho(f"\n== {day.name}: data in {day.data_dir}", bold=True)
        _print_outcome(day.retrain, day.seconds)
        promoted = f"; promoted v{day.retrain.version} to champion" if day.promoted else ""
        typer.echo(f"signed off by validator ({day.approvals} of {day.required}){promoted}")
    typer.echo("\n" + outcome.inventory_markdown)
    typer.echo(
        "\nThe demo's personas keep their private keys in one folder (GOVERN_KEYS_DIR, "
        "default <workdir>/keys), so whoever reads it can sign as any of them (the author "
        "as the validator): a demo, not a desk. A desk runs `govern init` with each "
        "person's own public key (--public-key NAME=KEY)."
    )
    typer.echo(
        f"\ndemo finished in {total:.1f} s. Where to look:\n"
        f"  lineage report of the champion: {outcome.lineage_path}\n"
        f"  govern lineage execution-impact {outcome.champion} --workdir {outcome.workdir}\n"
        f"  govern audit verify --workdir {outcome.workdir}\n"
        f"  govern stress execution-impact {outcome.champion} --scenario flash_crash_recovery "
        f"--workdir {outcome.workdir}   (a what-if on the champion's own stress book)\n"
        f"  {_mlflow_ui(outcome.tracking_uri, outcome.artifact_location)} -> Models -> "
        f"execution-impact, or the experiment '{outcome.experiment_name}'"
    )


def _mlflow_ui(tracking_uri: str, artifact_location: str | None) -> str:
    """How to open MLflow's UI on the demo's stores: the server itself, or a local UI."""
    if artifact_location is None:
        return f"open {tracking_uri}"
    return (
        f"mlflow ui --backend-store-uri {tracking_uri} --default-artifact-root "
        f"{artifact_location}\n  then open http://127.0.0.1:5000"
    )
