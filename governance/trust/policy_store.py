"""The policy at the edge: reading the file, adopting it, and who may sign under it.

A policy is in force once an owner adopted it: a signed ``policy.adopted`` event that
holds the file's text and SHA-256 (:mod:`governance.trust.signatures`). A process acts only
under the policy in force: one holding a different file is refused (exit 6) before it
changes anything, and so is one that would act as someone the policy lists with another
key than the one it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from governance.ledger import AuditLog
from governance.ledger.hashing import sha256_text
from governance.trust.identity import Signer, load_signer, signature_is_valid
from governance.trust.signatures import (
    Presigned,
    check_in_force,
    read_token,
    statement_bytes,
)
from validation.policy import ModelPolicy, PolicyError, PolicyFile, parse_policy
from validation.stress import ScenarioLibrary, load_scenarios
from vocabulary import NotAuthorised, Rule, UsageError

__all__ = [
    "LoadedPolicy",
    "load_model_policy",
    "presigned_for",
    "read_policy_file",
    "require_in_force",
    "signer_for",
]


@dataclass(frozen=True)
class LoadedPolicy:
    """A model's policy, the whole file it came from and the file's identity."""

    policy: ModelPolicy
    path: Path
    sha256: str
    file: PolicyFile


def read_policy_file(path: Path) -> tuple[PolicyFile, str, str]:
    """Read and validate a policy file; return it, its text and the text's SHA-256.

    Raises
    ------
    UsageError
        If the file is missing, not UTF-8 or malformed.
    """
    if not path.is_file():
        raise UsageError(f"expected a policy file at {path} (set GOVERN_POLICY), found none")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: expected UTF-8 text, found {exc}") from exc
    try:
        return parse_policy(text, str(path)), text, sha256_text(text)
    except PolicyError as exc:
        raise UsageError(str(exc)) from exc


def load_model_policy(
    path: Path, model_name: str, library: ScenarioLibrary | None = None
) -> LoadedPolicy:
    """Read, hash and validate the policy file; return the entry of ``model_name``.

    Parameters
    ----------
    path, model_name
        The policy file and the registered model whose entry is wanted.
    library
        The scenario library the policy's scenario names are checked against; the shipped
        one when ``None`` (a run passes the library it loaded once).

    Raises
    ------
    UsageError
        If the file is missing, malformed, or has no entry for the model.
    """
    whole, _, sha256 = read_policy_file(path)
    try:
        policy = whole.for_model(model_name)
    except PolicyError as exc:
        raise UsageError(f"{path}: {exc}") from exc
    known = set((library or load_scenarios()).names)
    named = {
        *policy.stress_scenarios,
        *policy.risk_metric_scenarios,
        *policy.decision_scenarios,
        *(s for levels in policy.risk_metrics.values() for s in levels.scenarios or ()),
    }
    unknown = sorted(named - known)
    if unknown:
        raise UsageError(
            f"{path}: scenarios {unknown} of {model_name} are not in the scenario library "
            f"({', '.join(sorted(known))}); a typo would silently apply the default limits"
        )
    return LoadedPolicy(policy, path, sha256, whole)


def require_in_force(audit: AuditLog, loaded: LoadedPolicy) -> None:
    """Refuse to act unless ``loaded`` is the policy the audit log says is in force.

    Raises
    ------
    IntegrityError
        Naming the adopted SHA-256 and the one this process holds.
    """
    check_in_force(audit.events(), loaded.sha256)


def signer_for(keys_dir: Path, policy: PolicyFile, name: str) -> Signer:
    """The private key of ``name`` from ``keys_dir``, checked against ``policy``.

    Raises
    ------
    NotAuthorised
        If this process holds no key for ``name``, the policy lists no key for ``name``,
        or it lists another key than the one held.
    """
    listed = policy.members.get(name)
    if listed is None:
        raise NotAuthorised.by(
            Rule.SIGNED_DECISIONS,
            f"{name!r} has no public key in the policy "
            f"(members: {', '.join(sorted(policy.members)) or 'none'})",
        )
    signer = load_signer(keys_dir, name)
    if signer.public_key != listed:
        raise NotAuthorised.by(
            Rule.SIGNED_DECISIONS,
            f"the key held for {name!r} is "
            f"{signer.public_key}, the policy lists {listed} for {name!r}",
        )
    return signer


def presigned_for(policy: PolicyFile, name: str, token: str) -> Presigned:
    """The decision ``name`` signed elsewhere (``govern signoff sign``), checked like a key.

    Raises
    ------
    UsageError
        If ``token`` is not a signature from ``govern signoff sign``.
    NotAuthorised
        If it was signed by someone else than ``name``, with a key the policy does not
        list for ``name``, or the signature does not verify.
    """
    statement, signature = read_token(token)
    signer = statement.get("signer")
    if signer != name:
        raise NotAuthorised.by(
            Rule.SIGNED_DECISIONS,
            f"the signature was made by {signer!r}, the decision names {name!r}",
        )
    listed = policy.members.get(name)
    if listed is None or statement.get("public_key") != listed:
        raise NotAuthorised.by(
            Rule.SIGNED_DECISIONS,
            f"the signature's key is "
            f"{statement.get('public_key')}, the policy lists {listed} for {name!r}",
        )
    if not signature_is_valid(listed, statement_bytes(statement), signature):
        raise NotAuthorised.by(Rule.SIGNED_DECISIONS, f"the signature is not {name}'s ({listed})")
    return Presigned(name, listed, statement, signature)
