"""``govern data``: synthetic demo data with a documented ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.options import exit_codes

__all__ = ["data_app"]

data_app = typer.Typer(help="Synthetic demo data.", no_args_is_help=True)


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
    with exit_codes():
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
