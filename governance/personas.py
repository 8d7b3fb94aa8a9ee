"""Key pairs and an adopted policy for a set of people: what the demo and a first set-up need.

A desk sets up its people by hand (``govern keys create`` on each person's machine, the
public keys into the policy file, ``govern policy adopt``). The demo plays every persona on
one machine; :func:`set_up_personas` does the same steps for it, in the work directory.
"""

from __future__ import annotations

import re
from pathlib import Path

from governance.audit import AuditLog
from governance.identity import create_key, key_path, load_signer
from governance.policy_store import LoadedPolicy, adopt_policy, load_model_policy
from governance.settings import Settings
from governance.signatures import policy_in_force
from governance.signoff_rules import now
from vocabulary import UsageError

__all__ = ["set_up_personas", "with_members"]

# The top-level ``members:`` line and the indented lines of its block, if any.
_MEMBERS_BLOCK = re.compile(r"^members:.*(?:\n[ \t]+\S.*)*", re.MULTILINE)


def with_members(policy_text: str, members: dict[str, str]) -> str:
    """``policy_text`` with its top-level ``members:`` block replaced by ``members``.

    Text, not a YAML round trip, so that the file keeps the comments that give each
    limit its reason.

    Raises
    ------
    UsageError
        If the text has no top-level ``members:`` line.
    """
    block = "members:\n" + "".join(f"  {name}: {key}\n" for name, key in members.items())
    replaced, count = _MEMBERS_BLOCK.subn(block.rstrip("\n"), policy_text, count=1)
    if count != 1:
        raise UsageError("expected a top-level 'members:' line in the policy file, found none")
    return replaced


def set_up_personas(
    settings: Settings, audit: AuditLog, source: Path, names: list[str], owner: str, model: str
) -> LoadedPolicy:
    """Give each of ``names`` a key, write ``<workdir>/policy.yaml`` listing them, adopt it.

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
    path = settings.workdir / "policy.yaml"
    path.write_text(with_members(source.read_bytes().decode("utf-8"), members), encoding="utf-8")
    loaded = load_model_policy(path, model)
    current = policy_in_force(audit.events())
    if current is None or current.payload["policy_sha256"] != loaded.sha256:
        adopt_policy(audit, settings, path, owner, now())
    return loaded
