"""``govern``: the command line of the governance pipeline (Typer), one module per group."""

from cli.app import app

__all__ = ["app"]
