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
    public_key: Annotated[
        list[str] | None,
        typer.Option(
            help="NAME=KEY: a public key its holder made on their own machine "
            "(`govern keys create NAME`); no private key is made here for NAME. Repeat."
        ),
    ] = None,
    workdir: WorkdirOption = None,
) -> None:
    """Make the team's keys, write the policy with their keys and roles, have OWNER adopt it.

    Key pairs go to GOVERN_KEYS_DIR (default <workdir>/keys), one per person or service
    without a --public-key, and the policy, the shipped one with the team's keys and roles,
    to <workdir>/policy.yaml. Whoever can read a private key can sign as its holder: on a
    desk, each person makes their own key and gives only its public half (--public-key), and
    a key made here is moved to its holder and deleted. Refuses (exit 2) if any file, or a
    policy in force, exists already.
    """
    with exit_codes():
        from governance.lifecycle.personas import Team, initialise
        from governance.stores.settings import DEFAULT_POLICY, get_settings

        given = _public_keys(public_key or [])
        team = Team(owner, tuple(author), tuple(validator), tuple(operator), release_signer, given)
        made = initialise(get_settings(workdir), DEFAULT_POLICY, team, model)
        for name in given:
            typer.echo(f"key of {name}: the public key given (the private key never came here)")
        for name, path in made.keys.items():
            note = "" if name == owner else f"; move it to {name} and delete it here"
            typer.echo(f"key of {name}: {path} (mode 0600, made here{note})")
        typer.echo(f"release key of {release_signer}: {made.release_key} (mode 0600)")
        typer.echo(
            f"policy: {made.policy_path}, adopted by {owner} (SHA-256 {made.policy_sha256})\n"
            f"roles: authors {', '.join(author)}; validators {', '.join(validator)}; "
            f"operators {', '.join(operator)}; owner {owner}\n"
            f"next: govern retrain --data DATA_DIR --as {author[0]} "
            f"--workdir {made.policy_path.parent}"
        )


def _public_keys(pairs: list[str]) -> dict[str, str]:
    """``NAME=KEY`` options as a mapping.

    Raises
    ------
    UsageError
        If one lacks its ``=`` or names a person twice.
    """
    from vocabulary import UsageError

    found: dict[str, str] = {}
    for pair in pairs:
        name, sep, key = pair.partition("=")
        if not sep or not name or not key:
            raise UsageError(f"--public-key expects NAME=KEY, got {pair!r}")
        if name in found:
            raise UsageError(f"--public-key names {name!r} twice")
        found[name] = key
    return found
