"""``govern signoff``: review and sign off candidates (maker-checker)."""

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

__all__ = ["signoff_app"]

signoff_app = typer.Typer(
    help="Review and sign off candidates (maker-checker).", no_args_is_help=True
)


@signoff_app.command("list")
def signoff_list(
    model: Annotated[str | None, typer.Option("--model", help="Only this model.")] = None,
    workdir: WorkdirOption = None,
) -> None:
    """Show versions waiting for sign-off by the audit log, their gate results and MLflow runs.

    Read from the verified log, not from registry tags anyone with the MLflow UI can edit;
    a version whose tags disagree is shown as the log has it, with a note.
    """
    with exit_codes():
        from governance.lifecycle.actions import pending_signoffs

        rows = pending_signoffs(existing_stores(workdir), model)
        if not rows:
            typer.echo("no version is waiting for sign-off")
        for r in rows:
            gates = "passed" if r.gates_passed else f"FAILED: {r.gates_failed}"
            run = (
                f"<mlflow ui>/#/experiments/{r.experiment_id}/runs/{r.run_id}"
                if r.experiment_id
                else "not in the registry"
            )
            typer.echo(
                f"{r.model} v{r.version}  author={r.author}  gates {gates}  "
                f"approvals={', '.join(r.approvals) or 'none'}\n"
                f"    MLflow run {r.run_id}: {run}"
            )
            if not r.registry_agrees:
                typer.echo(
                    "    the registry's tags disagree with the log (shown): "
                    "`govern audit verify` names the edit"
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
    with exit_codes():
        from governance.lifecycle.actions import approve

        stores = existing_stores(workdir)
        policy = model_policy(stores, model)
        outcome = approve(stores, policy, model, version, acting(stores, policy, actor), comment)
        typer.echo(
            f"approved {model} v{version} as {actor} "
            f"({outcome['approvals']} of {outcome['required']} approvals)"
        )
        if outcome["gated_under_policy_sha256"]:
            typer.secho(
                f"warning: v{version} was gated under policy {outcome['gated_under_policy_sha256']}"
                f", not under the policy in force ({outcome['policy_sha256']}); the approval "
                f"records both",
                err=True,
                fg=typer.colors.YELLOW,
            )
        for edit in outcome["registry_edited"]:
            typer.secho(
                f"warning: the registry entry of v{version} was edited outside governance "
                f"({edit}); the approval records it. `govern audit reconcile` restores the "
                f"tags the log sets; review the description against the run's gate report",
                err=True,
                fg=typer.colors.YELLOW,
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
    with exit_codes():
        from governance.lifecycle.actions import reject

        stores = existing_stores(workdir)
        policy = model_policy(stores, model)
        reject(stores, policy, model, version, acting(stores, policy, actor), comment)
        typer.echo(f"rejected {model} v{version} as {actor}")


@signoff_app.command("sign")
def signoff_sign(
    model: ModelArg,
    version: VersionArg,
    actor: ActorOption,
    decision: Annotated[
        str, typer.Option(help="approve or reject (as you will choose in the form).")
    ] = "approve",
    comment: Annotated[str, typer.Option(help="Why (as you will write it in the form).")] = "",
    workdir: WorkdirOption = None,
) -> None:
    """Sign a decision here, to submit it in the Prefect-UI sign-off form.

    Prints one line: your signed statement over the decision as the version stands now
    (the same statement `govern signoff approve|reject` would sign, after the same rules).
    Paste it into the form's signature field with the same decision and comment.
    """
    with exit_codes():
        from governance.lifecycle.actions import sign_decision
        from vocabulary.errors import UsageError

        if decision not in ("approve", "reject"):
            raise UsageError(f"--decision must be approve or reject, got {decision!r}")
        stores = existing_stores(workdir)
        policy = model_policy(stores, model)
        signer = acting(stores, policy, actor)
        typer.echo(sign_decision(stores, policy, model, version, signer, decision, comment))
