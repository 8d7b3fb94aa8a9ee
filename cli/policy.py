"""``govern policy``: adopting a policy file as the one in force (a signed audit event)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.options import ActorOption, WorkdirOption, exit_codes

__all__ = ["policy_app"]

policy_app = typer.Typer(help="The governance policy in force.", no_args_is_help=True)


@policy_app.command("adopt")
def policy_adopt(
    file: Annotated[Path, typer.Argument(help="The policy file to put in force.")],
    owner: ActorOption,
    workdir: WorkdirOption = None,
) -> None:
    """Make FILE the policy in force, signed by one of the owners of the policy in force.

    Every process acting on this work directory must then hold the same file (its
    GOVERN_POLICY, or <workdir>/policy.yaml); one holding another refuses with exit 6.
    """
    with exit_codes():
        from governance.ledger import open_audit_log
        from governance.lifecycle.adoption import adopt_policy
        from governance.lifecycle.version_state import now
        from governance.stores.settings import ensure_workdir, get_settings

        settings = ensure_workdir(get_settings(workdir))
        with open_audit_log(settings.audit_db_url) as audit:
            event = adopt_policy(audit, settings, file.resolve(), owner, now())
        typer.echo(
            f"adopted {file} as the policy in force: SHA-256 {event.payload['policy_sha256']}, "
            f"signed by {owner} (audit event seq {event.seq})"
        )
        if settings.policy_path != file.resolve():
            typer.echo(
                f"note: this work directory's processes read {settings.policy_path}; "
                f"point GOVERN_POLICY at {file} (or copy it there) or they will refuse to act"
            )
