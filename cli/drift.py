"""``govern drift``: today's orders against the champion's training data, before outcomes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.options import ModelArg, WorkdirOption, exit_codes

__all__ = ["drift"]


def drift(
    model: ModelArg,
    data: Annotated[
        Path, typer.Option("--data", help="Today's snapshot: executions and market bars.")
    ],
    workdir: WorkdirOption = None,
) -> None:
    """Each feature's shift from the champion's training data, and its expected error.

    Per feature: the population stability index with its band, a Kolmogorov-Smirnov test
    and the share of today's values outside the training range; then the champion's
    expected squared error on today's orders, from its holdout's errors re-weighted to
    them, with a 95 % interval for the error they will realise (and that error, when
    today's snapshot holds the outcomes). Exit codes: 0 reported, 2 no champion or
    missing tables, 6 the training data no longer hashes to what the log recorded.
    """
    with exit_codes():
        from cli.options import existing_stores
        from governance.drift_report import drift_report

        typer.echo(drift_report(existing_stores(workdir), model, data).to_markdown())
