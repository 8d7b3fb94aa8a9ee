"""``govern outcomes``: the champion's decisions against the costs they realised."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.options import ModelArg, WorkdirOption, exit_codes

__all__ = ["outcomes"]


def outcomes(
    model: ModelArg,
    data: Annotated[
        Path,
        typer.Option("--data", help="Realised executions (with outcomes) and market bars."),
    ],
    workdir: WorkdirOption = None,
) -> None:
    """Judge the logged decisions by what their orders cost: calibration, by size.

    Each order of DATA with a logged decision is judged by the version that decided it:
    that version's prediction for the order as executed against its realised,
    market-adjusted cost, with the verdicts' calibration check (bias and slope,
    day-clustered 95 % intervals, the policy's limits). A version outside its limits is
    FLAGGED. Exit codes: 0 reported (flagged or not), 2 no decision or no outcomes.
    """
    with exit_codes():
        from cli.options import existing_stores, model_policy
        from governance.outcomes_report import outcomes_report

        stores = existing_stores(workdir)
        limits = model_policy(stores, model).policy.calibration
        typer.echo(outcomes_report(stores, model, data, limits).to_markdown())
