"""``govern stress``: re-run stress scenarios on a registered version, without retraining."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cli.options import ModelArg, VersionArg, WorkdirOption, exit_codes

__all__ = ["stress"]


def stress(
    model: ModelArg,
    version: VersionArg,
    scenario: Annotated[
        list[str] | None,
        typer.Option("--scenario", help="Scenario to run (repeat it); all of the library if none."),
    ] = None,
    paths: Annotated[
        int, typer.Option("--paths", min=1, help="Simulated paths per order.")
    ] = 10_000,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the random streams.")] = 0,
    no_controls: Annotated[
        bool, typer.Option("--no-controls", help="Switch every risk control off.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    workdir: WorkdirOption = None,
) -> None:
    """Re-run scenarios on VERSION's recorded stress book (its orders and chosen schedules).

    The book is the one the version was judged on, checked against the SHA-256 the audit log
    recorded; costs include the completion of whatever the schedule or a control left. The
    same seed gives the same numbers.

    Exit codes: 0 done, 2 unknown model, version or scenario, or a version with no recorded
    stress book, 6 audit chain broken or stress book altered.
    """
    with exit_codes():
        from cli.options import existing_stores, model_policy, quiet_network_and_local_state
        from governance.what_if import rerun_stress

        stores = existing_stores(workdir)
        quiet_network_and_local_state(stores.settings.workdir)

        def progress(name: str, _model: str) -> None:
            if not as_json:
                typer.echo(f"  {name} ...", err=True)

        result = rerun_stress(
            stores,
            model,
            version,
            model_policy(stores, model).policy,
            scenarios=scenario or (),
            n_paths=paths,
            seed=seed,
            controls=not no_controls,
            progress=progress,
        )
        if as_json:
            typer.echo(json.dumps(result, indent=2))
            return
        typer.echo(_table(result))


def _table(result: dict) -> str:
    controls = "on" if result["controls"] else "off"
    lines = [
        f"{result['model']} version {result['version']}: {result['paths']:,} paths, seed "
        f"{result['seed']}, controls {controls}, scenario library "
        f"{result['scenario_library_sha256'][:12]}, engine {result['engine_sha256'][:12]}",
        *_engine_note(result),
        "",
        "| scenario | mean cost (bps) | CVaR95 (bps) | left for completion | kill switch |"
        " risk metrics over their action level (share of order-paths) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, s in result["scenarios"].items():
        breaches = ", ".join(
            f"{metric} {r['action_rate']:.0%}"
            for metric, r in s["risk_metrics"].items()
            if r["action_rate"]
        )
        lines.append(
            f"| {name} | {s['mean_cost_bps']:.1f} | {s['cvar95_cost_bps']:.1f} | "
            f"{s['completion_share']:.1%} | {s['control_rates']['kill_switch']:.1%} | "
            f"{breaches or 'none'} |"
        )
    return "\n".join(lines)


def _engine_note(result: dict) -> list[str]:
    """A warning when the engine re-running the book is not the one that judged it."""
    judged = result["judged_engine_sha256"]
    if judged == result["engine_sha256"]:
        return []
    by = f"engine {judged[:12]}" if judged else "an engine that did not record its hash"
    return [
        f"note: version {result['version']} was judged by {by}; these figures come from "
        f"engine {result['engine_sha256'][:12]} and may differ from its recorded ones"
    ]
