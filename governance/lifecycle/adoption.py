"""Adopting a policy: the rulebook's one decision about the policy rather than a version.

An owner of the policy in force (of the file itself, for a log's very first adoption)
makes a file the policy in force with a signed ``policy.adopted`` event that holds its text
and SHA-256; from then on every process acts only under it
(:mod:`governance.trust.policy_store`).
"""

from __future__ import annotations

from pathlib import Path

from governance.ledger import AuditEvent, AuditLog
from governance.lifecycle.rule_checks import Request, enforce
from governance.stores.settings import Settings
from governance.trust.checkpoints import write_checkpoint
from governance.trust.policy_store import read_policy_file, signer_for
from governance.trust.signatures import policy_in_force, record_signed
from validation.policy import parse_policy
from vocabulary import Action, UsageError
from vocabulary.rulebook import transition

__all__ = ["adopt_policy"]


def adopt_policy(
    audit: AuditLog, settings: Settings, path: Path, owner: str, time: str
) -> AuditEvent:
    """Make the policy file at ``path`` the one in force, signed by ``owner``.

    Needs the audit log, the owner's key (in ``settings.keys_dir``) and the checkpoint
    file only: adopting a policy touches no registry.

    The owner must be an owner of the policy in force, with the key it lists; the very
    first adoption of a log is checked against the adopted file itself (the root of trust,
    which docs/design.md says how to anchor).

    Raises
    ------
    UsageError
        If the file is malformed or already in force.
    NotAuthorised
        If ``owner`` is not an owner, or does not hold the key the policy lists.
    """
    proposed, text, sha256 = read_policy_file(path)
    current = policy_in_force(audit.events())
    if current is not None and current.payload["policy_sha256"] == sha256:
        raise UsageError(f"{path} (SHA-256 {sha256}) is already the policy in force")
    authority = proposed if current is None else parse_policy(current.payload["policy_yaml"])
    enforce(Request(transition("adopt"), authority, None, None, owner, owner), None)
    signer = signer_for(settings.keys_dir, authority, owner)
    payload = {"policy_sha256": sha256, "policy_yaml": text, "path": str(path)}
    event = record_signed(
        audit,
        signer,
        owner,
        Action.POLICY_ADOPTED,
        payload,
        None,
        None,
        policy_sha256=sha256,
        time=time,
    )
    write_checkpoint(settings.checkpoint_path, None, None, signer, event, time)
    return event
