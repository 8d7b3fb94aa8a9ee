"""The ``govern`` application: every command group, registered in one place.

Heavy libraries (Prefect, MLflow, Great Expectations, LightGBM) are imported inside
commands so that ``govern --help`` answers at once. Exit codes: :mod:`cli.exit_codes`.
"""

from __future__ import annotations

import typer

from cli import lifecycle, retrain
from cli.audit import audit_app
from cli.data import data_app
from cli.decisions import decisions
from cli.drift import drift
from cli.init import init
from cli.keys import keys_app
from cli.lineage import lineage
from cli.outcomes import outcomes
from cli.policy import policy_app
from cli.signoff import signoff_app
from cli.stress import stress

__all__ = ["app"]

app = typer.Typer(
    name="govern",
    help="Governance pipeline for block-trade execution models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(init)
app.add_typer(data_app, name="data")
app.add_typer(audit_app, name="audit")
app.add_typer(signoff_app, name="signoff")
app.add_typer(keys_app, name="keys")
app.add_typer(policy_app, name="policy")
app.command()(retrain.retrain)
app.command()(retrain.demo)
app.command()(lifecycle.promote)
app.command()(lifecycle.rollback)
app.command()(lifecycle.decommission)
app.command()(lineage)
app.command()(stress)
app.command()(decisions)
app.command()(drift)
app.command()(outcomes)

if __name__ == "__main__":
    app()
