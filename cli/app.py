"""``govern``: the command line of the governance pipeline.

Heavy libraries (Prefect, MLflow, Great Expectations, LightGBM) are imported inside
commands so that ``govern --help`` answers at once.

Exit codes: 0 done, 1 unexpected error, 2 usage error, 3 input data rejected,
4 candidate rejected by gates, 5 not authorised, 6 integrity check failed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.exit_codes import EXIT_UNEXPECTED, EXIT_USAGE, exit_code_for
from vocabulary.errors import GovernanceError

if TYPE_CHECKING:  # imported for annotations only: the CLI must start fast
    from flows.retrain import RetrainOutcome
    from governance.settings import Settings
    from validation.policy import ModelPolicy

__all__ = ["app"]

app = typer.Typer(
    name="govern",
    help="Governance pipeline for block-trade execution models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Synthetic demo data.", no_args_is_help=True)
app.add_typer(data_app, name="data")
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
signoff_app = typer.Typer(
    help="Review and sign off candidates (maker-checker).", no_args_is_help=True
)
app.add_typer(signoff_app, name="signoff")

WorkdirOption = Annotated[
    Path | None,
    typer.Option(
        "--workdir",
        help="Work directory (MLflow database, artifacts, reports). "
        "Default: $GOVERN_HOME, else ./.govern",
    ),
]


def _fail(message: str, code: int) -> None:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


@contextmanager
def _exit_codes() -> Iterator[None]:
    """Map the product's errors (and bad parameters) to documented exit codes."""
    from pydantic import ValidationError

    try:
        yield
    except GovernanceError as exc:
        _fail(str(exc), exit_code_for(exc))
    except ValidationError as exc:
        _fail(_validation_message(exc), EXIT_USAGE)
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:  # the CLI is the last line: report, never hang or dump silently
        if os.environ.get("GOVERN_DEBUG"):
            raise
        _fail(
            f"unexpected {type(exc).__name__}: {exc} (set GOVERN_DEBUG=1 for a traceback)",
            EXIT_UNEXPECTED,
        )


def _validation_message(exc: Exception) -> str:
    parts = []
    for err in exc.errors():  # type: ignore[attr-defined]
        where = ".".join(str(p) for p in err["loc"]) or "value"
        parts.append(f"{where}: {err['msg']} (got {err.get('input')!r})")
    return "invalid parameters: " + "; ".join(parts)


def _quiet_network_and_local_state(workdir: Path) -> None:
    """Keep Prefect's and GX's state local and stop them phoning home (no network here)."""
    os.environ.setdefault("PREFECT_HOME", str(workdir / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")


def _print_timings(stages: list[tuple[str, float]], overhead: float, total: float) -> None:
    typer.echo("\nStage timings")
    typer.echo(f"  {'stage':<28}{'seconds':>10}")
    for stage, seconds in [("start-up (Prefect, MLflow)", overhead), *stages]:
        typer.echo(f"  {stage:<28}{seconds:>10.2f}")
    typer.echo(f"  {'total':<28}{total:>10.2f}")


@data_app.command("synth")
def data_synth(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the Parquet tables to.")],
    seed: Annotated[int, typer.Option(help="Seed; same seed, same bytes.")] = 42,
    days: Annotated[int, typer.Option(help="Trading days.")] = 60,
    orders: Annotated[int, typer.Option(help="Parent orders in executions.parquet.")] = 200_000,
    assets: Annotated[int, typer.Option(help="Number of assets.")] = 20,
    shift_after_day: Annotated[
        int | None,
        typer.Option(help="Inject a regime shift (impact x1.6, vol x1.5) from this day."),
    ] = None,
    corrupt: Annotated[
        list[str] | None,
        typer.Option(help="Inject a data defect (repeatable), e.g. crossed_book, null_qty."),
    ] = None,
) -> None:
    """Write executions, market_bars and rfq tables with a documented ground truth."""
    with _exit_codes():
        from synthetic import SynthConfig, generate, write

        cfg = SynthConfig(
            seed=seed,
            days=days,
            orders=orders,
            assets=assets,
            shift_after_day=shift_after_day,
            corruption=tuple(corrupt or ()),
        )
        paths = write(generate(cfg), out)
        for name, path in paths.items():
            typer.echo(f"wrote {path}  ({name})")


def _run_retrain(
    data: Path,
    workdir: Path | None,
    seed: int,
    author: str | None,
    stress_paths: int,
    signoff_deployment: str | None = None,
    dask_address: str | None = None,
) -> RetrainOutcome:
    from flows.config import RetrainConfig, default_actor
    from governance.settings import ensure_workdir, get_settings

    settings = ensure_workdir(get_settings(workdir))
    _quiet_network_and_local_state(settings.workdir)
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
    from flows.retrain import retrain

    outcome = retrain(config)
    total = time.perf_counter() - started
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
    return outcome


StressPathsOption = Annotated[
    int, typer.Option(help="Monte Carlo paths per stress order, scenario and model.")
]


@app.command()
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
    with _exit_codes():
        _run_retrain(data, workdir, seed, author, stress_paths, signoff_deployment, dask_address)


@app.command()
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
    with _exit_codes():
        from governance.lifecycle import approve
        from governance.settings import ensure_workdir, get_settings
        from synthetic import SynthConfig, generate, write

        settings = ensure_workdir(get_settings(workdir))
        policy = _policy_for(settings, "execution-impact")
        days = {
            "day-1": SynthConfig(orders=orders, seed=42),
            "day-2": SynthConfig(orders=orders, seed=43, start_date="2026-02-02"),
        }
        for day, cfg in days.items():
            data_dir = settings.workdir / "data" / day
            typer.secho(
                f"\n== {day}: synthesising {orders:,} parent orders into {data_dir}", bold=True
            )
            write(generate(cfg), data_dir)
            outcome = _run_retrain(data_dir, settings.workdir, 0, "quant-researcher", stress_paths)
            result = approve(
                settings,
                policy,
                outcome.model_name,
                outcome.version,
                "validator",
                f"{day}: reviewed data, challenger, stress and gate reports",
            )
            promoted = f"; promoted v{outcome.version} to champion" if result["promoted"] else ""
            typer.echo(
                f"signed off by validator ({result['approvals']} of {result['required']}){promoted}"
            )
        from governance.lineage import render_inventory, render_report

        champion = outcome.version
        lineage_path = settings.reports_dir / f"lineage-execution-impact-v{champion}.html"
        lineage_path.write_text(
            render_report(settings, "execution-impact", champion, "html")[0], encoding="utf-8"
        )
        typer.echo("\n" + render_inventory(settings, "execution-impact", "md"))
        typer.echo(
            "\nWhere to look:\n"
            f"  lineage report of the champion: {lineage_path}\n"
            f"  govern lineage execution-impact {champion} --workdir {settings.workdir}\n"
            f"  govern audit verify --workdir {settings.workdir}\n"
            f"  mlflow ui --backend-store-uri {settings.tracking_uri} "
            f"--default-artifact-root {settings.artifact_location}\n"
            f"  then open http://127.0.0.1:5000 -> Models -> execution-impact, or the "
            f"experiment '{settings.experiment_name}'"
        )


@audit_app.command("verify")
def audit_verify(
    model: Annotated[str | None, typer.Argument(help="Only this model's versions.")] = None,
    workdir: WorkdirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
) -> None:
    """Recompute the audit chain, artifact and dataset hashes; exit 6 on any mismatch."""
    with _exit_codes():
        import json

        from governance.integrity import raise_on_problems, verify_integrity
        from governance.settings import get_settings, require_existing

        report = verify_integrity(require_existing(get_settings(workdir)), model)
        if as_json:
            typer.echo(json.dumps(report.summary(), indent=2))
        raise_on_problems(report)
        typer.echo(
            f"audit log verified: {report.chain.checked} events, head seq {report.chain.head_seq} "
            f"hash {report.chain.head_hash}; {report.versions_checked} versions and "
            f"{report.files_checked} files re-hashed, champion aliases match the log"
        )


ActorOption = Annotated[
    str, typer.Option("--as", help="Who is acting (checked against the policy).")
]
ModelArg = Annotated[str, typer.Argument(help="Registered model name, e.g. execution-impact.")]
VersionArg = Annotated[str, typer.Argument(help="Model version number.")]


def _policy_for(settings: Settings, model: str) -> ModelPolicy:
    from governance.policy_store import load_model_policy

    return load_model_policy(settings.policy_path, model).policy


@signoff_app.command("list")
def signoff_list(
    model: Annotated[str | None, typer.Option("--model", help="Only this model.")] = None,
    workdir: WorkdirOption = None,
) -> None:
    """Show versions waiting for sign-off, their gate results and MLflow runs."""
    with _exit_codes():
        from governance.lifecycle import pending_signoffs
        from governance.settings import get_settings, require_existing

        settings = require_existing(get_settings(workdir))
        rows = pending_signoffs(settings, model)
        if not rows:
            typer.echo("no version is waiting for sign-off")
        for r in rows:
            gates = "passed" if r["gates_passed"] else f"FAILED: {r['gates_failed']}"
            typer.echo(
                f"{r['model']} v{r['version']}  author={r['author']}  gates {gates}  "
                f"approvals={r['approvals'] or 'none'}\n"
                f"    MLflow run {r['run_id']}: "
                f"<mlflow ui>/#/experiments/{r['experiment_id']}/runs/{r['run_id']}"
            )


@signoff_app.command("approve")
def signoff_approve(
    model: ModelArg,
    version: VersionArg,
    actor: ActorOption,
    comment: Annotated[str, typer.Option(help="Why you approve.")] = "",
    workdir: WorkdirOption = None,
) -> None:
    """Approve a pending version; the last required approval promotes it to champion."""
    with _exit_codes():
        from governance.lifecycle import approve
        from governance.settings import get_settings, require_existing

        settings = require_existing(get_settings(workdir))
        outcome = approve(settings, _policy_for(settings, model), model, version, actor, comment)
        typer.echo(
            f"approved {model} v{version} as {actor} "
            f"({outcome['approvals']} of {outcome['required']} approvals)"
        )
        if outcome["promoted"]:
            p = outcome["promoted"]
            typer.echo(f"promoted {model} v{version} to champion (previous: {p['previous']})")


@signoff_app.command("reject")
def signoff_reject(
    model: ModelArg,
    version: VersionArg,
    actor: ActorOption,
    comment: Annotated[str, typer.Option(help="Why you reject (required).")],
    workdir: WorkdirOption = None,
) -> None:
    """Reject a pending version for good."""
    with _exit_codes():
        from governance.lifecycle import reject
        from governance.settings import get_settings, require_existing

        settings = require_existing(get_settings(workdir))
        reject(settings, _policy_for(settings, model), model, version, actor, comment)
        typer.echo(f"rejected {model} v{version} as {actor}")


@app.command()
def promote(
    model: ModelArg,
    version: VersionArg,
    actor: ActorOption,
    reason: Annotated[str, typer.Option(help="Why.")] = "manual promotion",
    workdir: WorkdirOption = None,
) -> None:
    """Make an approved version the champion (the old champion becomes previous)."""
    with _exit_codes():
        from governance.lifecycle import promote as promote_version
        from governance.settings import get_settings, require_existing

        settings = require_existing(get_settings(workdir))
        p = promote_version(settings, _policy_for(settings, model), model, version, actor, reason)
        typer.echo(f"promoted {model} v{version} to champion (previous: {p['previous']})")


@app.command()
def rollback(
    model: ModelArg,
    actor: ActorOption,
    reason: Annotated[str, typer.Option(help="Why (required).")],
    workdir: WorkdirOption = None,
) -> None:
    """Make the previous champion the champion again."""
    with _exit_codes():
        from governance.lifecycle import rollback as rollback_model
        from governance.settings import get_settings, require_existing

        settings = require_existing(get_settings(workdir))
        p = rollback_model(settings, _policy_for(settings, model), model, actor, reason)
        typer.echo(f"rolled back {model}: champion is v{p['champion']} (demoted: v{p['demoted']})")


@app.command()
def decommission(
    model: ModelArg,
    version: VersionArg,
    actor: ActorOption,
    reason: Annotated[str, typer.Option(help="Why (required).")],
    replacement: Annotated[
        str | None, typer.Option(help="Version that becomes champion (when retiring the champion).")
    ] = None,
    no_replacement: Annotated[
        bool, typer.Option("--no-replacement", help="Retire the champion and leave none.")
    ] = False,
    workdir: WorkdirOption = None,
) -> None:
    """Retire a version for good: aliases removed, artifacts kept, never promotable again."""
    with _exit_codes():
        from governance.lifecycle import decommission as decommission_version
        from governance.settings import get_settings, require_existing

        settings = require_existing(get_settings(workdir))
        decommission_version(
            settings,
            _policy_for(settings, model),
            model,
            version,
            actor,
            reason,
            replacement,
            no_replacement,
        )
        typer.echo(
            f"decommissioned {model} v{version}"
            + (f"; champion is now v{replacement}" if replacement else "")
        )


@app.command()
def lineage(
    model: ModelArg,
    version: Annotated[
        str | None, typer.Argument(help="Model version number (omit with --inventory).")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="Report: json, md or html; inventory: csv, json or md. "
            "Default: the suffix of -o, else md.",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file and print its path."),
    ] = None,
    show_inventory: Annotated[
        bool, typer.Option("--inventory", help="List every version of MODEL instead.")
    ] = False,
    workdir: WorkdirOption = None,
) -> None:
    """Trace a version from its data to today, or list every version (--inventory).

    Covers data, contracts, training, challenger, stress, gates, sign-off,
    lifecycle events and the audit-chain check. Formats: md, json, html.

    Exit codes: 0 written, 2 usage error or unknown model/version,
    6 audit chain broken (the report is still written; it says where).
    """
    with _exit_codes():
        from vocabulary.errors import IntegrityError, UsageError

        if show_inventory and version is not None:
            raise UsageError(f"--inventory lists every version of {model}; got VERSION {version}")
        if not show_inventory and version is None:
            raise UsageError("missing VERSION: give a version number, or --inventory")
        from governance.lineage import (
            INVENTORY_FORMATS,
            REPORT_FORMATS,
            choose_format,
            render_inventory,
            render_report,
        )
        from governance.settings import get_settings

        settings = get_settings(workdir)
        report = None
        if show_inventory:
            text = render_inventory(settings, model, choose_format(fmt, output, INVENTORY_FORMATS))
        else:
            chosen = choose_format(fmt, output, REPORT_FORMATS)
            text, report = render_report(settings, model, version, chosen)
        if output is None:
            typer.echo(text, nl=False)
        else:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
            typer.echo(str(output))
        if report is not None and not report["audit"]["chain_ok"]:
            raise IntegrityError(
                f"audit chain does not verify: {report['audit']['reason']} "
                f"(lineage of {model} v{report['version']} written all the same)"
            )


if __name__ == "__main__":
    app()
