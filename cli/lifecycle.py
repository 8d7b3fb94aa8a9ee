"""``govern promote | rollback | decommission``: moving versions in and out of production."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.options import (
    ActorOption,
    ModelArg,
    VersionArg,
    WorkdirOption,
    acting,
    existing_stores,
    exit_codes,
    model_policy,
)

__all__ = ["decommission", "promote", "rollback"]


def promote(
    model: ModelArg,
    version: VersionArg,
    actor: ActorOption,
    reason: Annotated[str, typer.Option(help="Why.")] = "manual promotion",
    workdir: WorkdirOption = None,
) -> None:
    """Make an approved version the champion (the old champion becomes previous)."""
    with exit_codes():
        from governance.lifecycle.actions import promote as promote_version

        stores = existing_stores(workdir)
        policy = model_policy(stores, model)
        signer = acting(stores, policy, actor)
        p = promote_version(stores, policy, model, version, signer, reason)
        typer.echo(f"promoted {model} v{version} to champion (previous: {p['previous']})")


def rollback(
    model: ModelArg,
    actor: ActorOption,
    reason: Annotated[str, typer.Option(help="Why (required).")],
    workdir: WorkdirOption = None,
) -> None:
    """Make the previous champion the champion again."""
    with exit_codes():
        from governance.lifecycle.actions import rollback as rollback_model

        stores = existing_stores(workdir)
        policy = model_policy(stores, model)
        p = rollback_model(stores, policy, model, acting(stores, policy, actor), reason)
        typer.echo(f"rolled back {model}: champion is v{p['champion']} (demoted: v{p['demoted']})")


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
    with exit_codes():
        from governance.lifecycle.actions import decommission as decommission_version

        stores = existing_stores(workdir)
        policy = model_policy(stores, model)
        decommission_version(
            stores,
            policy,
            model,
            version,
            acting(stores, policy, actor),
            reason,
            replacement,
            no_replacement,
        )
        typer.echo(
            f"decommissioned {model} v{version}"
            + (f"; champion is now v{replacement}" if replacement else "")
        )
