"""Key pairs and an adopted policy for a set of people: what the demo and a first set-up need.

A desk sets up its people by hand (``govern keys create`` on each person's machine, the
public keys into the policy file, ``govern policy adopt``). The demo plays every persona on
one machine; :func:`set_up_personas` does the same steps for it, in the work directory.
"""

from __future__ import annotations

import re
from pathlib import Path

from governance.audit import AuditLog
from governance.identity import (
    create_key,
    create_release_key,
    held_release_key,
    key_path,
    load_signer,
    release_key_path,
)
from governance.policy_store import LoadedPolicy, adopt_policy, load_model_policy
from governance.settings import Settings
from governance.signatures import policy_in_force
from governance.signoff_rules import now
from vocabulary import UsageError

__all__ = ["set_up_personas", "with_members"]


def _block(key: str) -> re.Pattern[str]:
    """A top-level ``key:`` line and the indented lines of its block, if any."""
    return re.compile(rf"^{key}:.*(?:\n[ \t]+\S.*)*", re.MULTILINE)


def with_members(policy_text: str, members: dict[str, str], release: tuple[str, str]) -> str:
    """``policy_text`` with its ``members:`` and ``release:`` blocks replaced.

    Text, not a YAML round trip, so that the file keeps the comments that give each
    limit its reason.

    Parameters
    ----------
    policy_text
        The policy file's text.
    members
        Name to Ed25519 public key.
    release
        The release signer's name and ECDSA P-256 public key.

    Raises
    ------
    UsageError
        If the text has no top-level ``members:`` or ``release:`` line.
    """
    blocks = {
        "members": "members:\n" + "".join(f"  {n}: {k}\n" for n, k in members.items()),
        "release": f"release:\n  signer: {release[0]}\n  public_key: {release[1]}\n",
    }
    for key, block in blocks.items():
        policy_text, count = _block(key).subn(block.rstrip("\n"), policy_text, count=1)
        if count != 1:
            raise UsageError(f"expected a top-level '{key}:' line in the policy file, found none")
    return policy_text


def set_up_personas(
    settings: Settings,
    audit: AuditLog,
    source: Path,
    names: list[str],
    owner: str,
    model: str,
    release_signer: str = "release-signer",
) -> LoadedPolicy:
    """Give each of ``names`` a key, write ``<workdir>/policy.yaml`` listing them, adopt it.

    ``release_signer`` gets the ECDSA P-256 key that signs approved versions as releases.

    Keys already in the keys directory are kept; a policy already in force is kept when
    the file written is the same.

    Parameters
    ----------
    settings, audit
        The work directory and its audit log (no registry is touched).
    source
        The policy file to copy (its ``members:`` line is replaced).
    names
        The personas; ``owner`` among them adopts the policy.
    owner, model
        Who adopts, and the model whose entry is returned.

    Returns
    -------
    LoadedPolicy
        The policy in force, as written.
    """
    keys_dir = settings.keys_dir
    members = {}
    for name in names:
        existing = key_path(keys_dir, name).is_file()
        members[name] = (
            load_signer(keys_dir, name).public_key if existing else create_key(keys_dir, name)
        )
    release_path = release_key_path(keys_dir, release_signer)
    release_key = (
        held_release_key(keys_dir, release_signer)
        if release_path.is_file()
        else create_release_key(keys_dir, release_signer)
    )
    path = settings.workdir / "policy.yaml"
    text = with_members(source.read_bytes().decode("utf-8"), members, (release_signer, release_key))
    path.write_text(text, encoding="utf-8")
    loaded = load_model_policy(path, model)
    current = policy_in_force(audit.events())
    if current is None or current.payload["policy_sha256"] != loaded.sha256:
        adopt_policy(audit, settings, path, owner, now())
    return loaded
