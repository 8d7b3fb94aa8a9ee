"""``govern lineage``: a version's lineage report, or a model's inventory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.options import ModelArg, WorkdirOption, exit_codes

__all__ = ["lineage"]


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
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Which version was champion at this ISO 8601 time (UTC unless it says), "
            "and who approved it. Formats: md, json.",
        ),
    ] = None,
    workdir: WorkdirOption = None,
) -> None:
    """Trace a version, list every version (--inventory), or name the champion at a time (--at).

    Covers data, contracts, training, challenger, stress, gates, sign-off,
    lifecycle events and the audit-chain check. Formats: md, json, html.

    Exit codes: 0 written, 2 usage error or unknown model/version,
    6 audit chain broken (the report is still written; it says where; --at refuses).
    """
    with exit_codes():
        from vocabulary.errors import IntegrityError, UsageError

        chosen_modes = [
            name
            for name, given in (
                ("VERSION", version is not None),
                ("--inventory", show_inventory),
                ("--at", at is not None),
            )
            if given
        ]
        if not chosen_modes:
            raise UsageError("missing VERSION: give a version number, --inventory or --at")
        if chosen_modes == ["VERSION", "--inventory"]:
            raise UsageError(f"--inventory lists every version of {model}; got VERSION {version}")
        if len(chosen_modes) != 1:
            raise UsageError(
                f"give exactly one of VERSION, --inventory or --at; got {', '.join(chosen_modes)}"
            )
        from governance.stores.handle import open_stores
        from governance.stores.settings import get_settings
        from lineage import (
            INVENTORY_FORMATS,
            REPORT_FORMATS,
            choose_format,
            render_inventory,
            render_report,
            require_registry,
        )

        # Before open_stores: it would create an empty SQLite registry where a mistyped
        # --workdir points, and lineage names the missing database instead.
        stores = open_stores(require_registry(get_settings(workdir)), create_audit=False)
        report = None
        if at is not None:
            from governance.lifecycle.version_state import verified_history
            from lineage.at_moment import champion_at, parse_moment, render_champion_at

            moment = parse_moment(at)
            answer = champion_at(verified_history(stores, model), model, moment)
            text = render_champion_at(answer, choose_format(fmt, output, ("md", "json")))
        elif show_inventory:
            text = render_inventory(stores, model, choose_format(fmt, output, INVENTORY_FORMATS))
        else:
            chosen = choose_format(fmt, output, REPORT_FORMATS)
            text, report = render_report(stores, model, version, chosen)
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
