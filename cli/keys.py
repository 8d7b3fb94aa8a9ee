"""``govern keys``: the key pairs people and services sign their decisions with."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.options import WorkdirOption, exit_codes

__all__ = ["keys_app"]

keys_app = typer.Typer(help="Key pairs for signed decisions.", no_args_is_help=True)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="Who will sign with it, as the policy names them.")],
    workdir: WorkdirOption = None,
    release: Annotated[
        bool,
        typer.Option(
            "--release", help="An ECDSA P-256 key that signs approved versions as releases."
        ),
    ] = False,
) -> None:
    """Make an Ed25519 key pair for NAME; print the public key for the policy's members.

    The private key is written to GOVERN_KEYS_DIR (default <workdir>/keys) as NAME.pem,
    readable by its owner only, and never overwritten. With --release, an ECDSA P-256
    pair (NAME.release.pem) for signing releases in the OpenSSF model-signing format.
    """
    with exit_codes():
        from governance.stores.settings import get_settings
        from governance.trust.identity import (
            create_key,
            create_release_key,
            key_path,
            release_key_path,
        )

        keys_dir = get_settings(workdir).keys_dir
        if release:
            public = create_release_key(keys_dir, name)
            path = release_key_path(keys_dir, name)
            typer.echo(f"wrote the release key of {name} to {path} (mode 0600)")
            typer.echo("put this under 'release:' in the policy, then have an owner adopt it:")
            typer.echo(f"  {{signer: {name}, public_key: {public}}}")
            return
        public = create_key(keys_dir, name)
        typer.echo(f"wrote the private key of {name} to {key_path(keys_dir, name)} (mode 0600)")
        typer.echo("add this line under 'members:' in the policy, then have an owner adopt it:")
        typer.echo(f"  {name}: {public}")
