"""``govern audit``: the hash-chained audit log."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.options import (
    ActorOption,
    ModelArg,
    WorkdirOption,
    acting,
    existing_stores,
    exit_codes,
    model_policy,
)

__all__ = ["audit_app"]

audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(
    model: Annotated[str | None, typer.Argument(help="Only this model's versions.")] = None,
    workdir: WorkdirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
    signer: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="Sign a checkpoint of the verified head as this member of the policy in "
            "force (this process must hold their key).",
        ),
    ] = None,
) -> None:
    """Recompute the audit chain, signatures, checkpoints, artifact and dataset hashes.

    Exit 6 on any mismatch. With --as, a clean log's head is checkpointed, signed, in the
    checkpoint file beside the artifacts.
    """
    with exit_codes():
        import json

        from governance.integrity import raise_on_problems, verify_integrity
        from governance.stores.handle import open_stores
        from governance.stores.settings import get_settings, require_existing

        stores = open_stores(require_existing(get_settings(workdir)), create_audit=False)
        report = verify_integrity(stores, model)
        if as_json:
            typer.echo(json.dumps(report.summary(), indent=2))
        raise_on_problems(report)
        if signer is not None:
            from governance.integrity import checkpoint_head
            from governance.lifecycle.version_state import now

            checkpoint_head(stores, report, signer, now())
            typer.echo(f"checkpointed head seq {report.chain.head_seq}, signed by {signer}")
        typer.echo(
            f"audit log verified: {report.chain.checked} events, head seq {report.chain.head_seq} "
            f"hash {report.chain.head_hash}; {report.versions_checked} versions and "
            f"{report.files_checked} files re-hashed; signed decisions, checkpoints, release "
            f"bundles, tags and aliases match the log"
            + (
                f"; {len(report.deleted_versions)} version(s) deleted from the registry, the "
                f"loss recorded in the log and their artifacts re-hashed: "
                f"{', '.join(report.deleted_versions)}"
                if report.deleted_versions
                else ""
            )
        )


@audit_app.command("reconcile")
def audit_reconcile(
    model: ModelArg,
    actor: ActorOption,
    workdir: WorkdirOption = None,
) -> None:
    """Put the registry's aliases and lifecycle tags back to what the audit log says."""
    with exit_codes():
        from governance.lifecycle.reconcile import reconcile

        stores = existing_stores(workdir)
        policy = model_policy(stores, model)
        changes = reconcile(stores, policy, model, acting(stores, policy, actor))
        for change in changes:
            typer.echo(f"{change['subject']}: {change['was']!r} -> {change['now']!r}")
        typer.echo(
            f"registry of {model} reconciled with the audit log: {len(changes)} change(s)"
            + (", recorded as registry.reconciled" if changes else "")
        )
