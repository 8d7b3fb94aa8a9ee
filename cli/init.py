"""``govern init``: the first set-up of a work directory or a server deployment."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.options import WorkdirOption, exit_codes

__all__ = ["init"]


def init(
    owner: Annotated[str, typer.Option(help="Adopts policies (head of model risk).")],
    author: Annotated[
        list[str], typer.Option(help="Trains candidates; repeat for each person or service.")
    ],
    validator: Annotated[
        list[str], typer.Option(help="Approves or rejects versions (never their own); repeat.")
    ],
    operator: Annotated[
        list[str], typer.Option(help="Promotes, rolls back and decommissions; repeat.")
    ],
    release_signer: Annotated[
        str, typer.Option(help="Signs approved versions as OpenSSF model-signing releases.")
    ] = "release-signer",
    model: Annotated[str, typer.Option(help="Model whose policy entry is checked.")] = (
        "execution-impact"
    ),
    workdir: WorkdirOption = None,
) -> None:
    """Make everyone's keys, write the policy with their keys and roles, have OWNER adopt it.

    Key pairs go to GOVERN_KEYS_DIR (default <workdir>/keys), one per person or service
    (hand each private key to its holder), and the policy, the shipped one with the team's
    keys and roles, to <workdir>/policy.yaml. Refuses (exit 2) if any of them, or a policy
    in force, exists already.
    """
    with exit_codes():
        from governance.lifecycle.personas import Team, initialise
        from governance.stores.settings import DEFAULT_POLICY, get_settings

        team = Team(owner, tuple(author), tuple(validator), tuple(operator), release_signer)
        made = initialise(get_settings(workdir), DEFAULT_POLICY, team, model)
        for name, path in made.keys.items():
            typer.echo(f"key of {name}: {path} (mode 0600)")
        typer.echo(f"release key of {release_signer}: {made.release_key} (mode 0600)")
        typer.echo(
            f"policy: {made.policy_path}, adopted by {owner} (SHA-256 {made.policy_sha256})\n"
            f"roles: authors {', '.join(author)}; validators {', '.join(validator)}; "
            f"operators {', '.join(operator)}; owner {owner}\n"
            f"next: govern retrain --data DATA_DIR --as {author[0]} "
            f"--workdir {made.policy_path.parent}"
        )
