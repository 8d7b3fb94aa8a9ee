"""Key pairs and an adopted policy for a team: what a first set-up and the demo need.

``govern init`` (:func:`initialise`) makes a key pair for every person and service of a
:class:`Team`, writes ``<workdir>/policy.yaml`` from the shipped policy with their public
keys and roles, and has the owner adopt it; it refuses to overwrite anything. The demo plays
every persona on one machine through the same policy writing (:func:`set_up_personas`),
keeping the keys a previous run made. A desk whose people hold their keys on their own
machines does the same by hand: ``govern keys create`` on each machine, the public keys into
the policy file, ``govern policy adopt``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from governance.ledger import AuditLog, open_audit_log
from governance.lifecycle.adoption import adopt_policy
from governance.lifecycle.version_state import now
from governance.stores.settings import Settings, ensure_workdir
from governance.trust.identity import (
    create_key,
    create_release_key,
    held_release_key,
    key_path,
    load_signer,
    release_key_path,
)
from governance.trust.policy_store import LoadedPolicy, load_model_policy
from governance.trust.signatures import policy_in_force
from vocabulary import UsageError

__all__ = ["Initialised", "Team", "initialise", "set_up_personas", "with_members", "with_team"]


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


@dataclass(frozen=True)
class Team:
    """Who governs: the names the policy lists with their keys and roles.

    Attributes
    ----------
    owner
        Adopts policies (the policy's ``owners``).
    authors
        Train candidates (people, and services such as ``scheduled-retraining``).
    validators
        Approve or reject versions (never their own).
    operators
        Promote, roll back and decommission.
    release_signer
        Holds the ECDSA P-256 key that signs approved versions as releases.
    public_keys
        Public keys their holders made themselves (``govern keys create NAME`` on their own
        machine): no private key is made here for them, so nobody at this machine can sign
        as them. The owner signs the adoption here, so their key is made or held here.
    """

    owner: str
    authors: tuple[str, ...]
    validators: tuple[str, ...]
    operators: tuple[str, ...]
    release_signer: str = "release-signer"
    public_keys: Mapping[str, str] = field(default_factory=dict)

    @property
    def members(self) -> tuple[str, ...]:
        """Every name that signs decisions, each once, in role order."""
        names = (self.owner, *self.authors, *self.validators, *self.operators)
        return tuple(dict.fromkeys(names))

    def check(self) -> None:
        """Refuse a team that could not govern a version from training to champion.

        Raises
        ------
        UsageError
            If a role is empty, or every validator is also an author (nobody could
            approve their versions: a validator never approves their own).
        """
        empty = [
            role
            for role, names in (
                ("--author", self.authors),
                ("--validator", self.validators),
                ("--operator", self.operators),
            )
            if not names
        ]
        if empty:
            raise UsageError(f"a team needs at least one of each role; missing {empty}")
        strangers = sorted(set(self.public_keys) - set(self.members))
        if strangers:
            raise UsageError(
                f"--public-key names {', '.join(strangers)}, who hold no role in the team "
                f"({', '.join(self.members)})"
            )
        if self.owner in self.public_keys:
            raise UsageError(
                f"the owner {self.owner!r} signs the policy's adoption here, so their private "
                f"key must be here: drop --public-key {self.owner}=..."
            )
        if set(self.validators) <= set(self.authors):
            raise UsageError(
                f"every validator ({', '.join(self.validators)}) is also an author: a validator "
                f"never approves their own version, so name a validator who does not train"
            )


def _role_line(key: str, names: tuple[str, ...]) -> tuple[re.Pattern[str], str]:
    """A ``key: [...]`` line at any indentation, and its replacement (comment kept)."""
    pattern = re.compile(rf"^([ \t]*){key}: \[[^\]\n]*\]", re.MULTILINE)
    return pattern, rf"\g<1>{key}: [{', '.join(names)}]"


def with_team(policy_text: str, team: Team, keys: dict[str, str], release_key: str) -> str:
    """``policy_text`` with the team's keys, release signer and roles written in.

    ``members`` and ``release`` are replaced (:func:`with_members`), ``owners`` becomes the
    team's owner and every model's ``validators`` and ``operators`` the team's; the rest of
    the file, comments included, is kept.

    Raises
    ------
    UsageError
        If the text lacks one of those lines.
    """
    text = with_members(policy_text, keys, (team.release_signer, release_key))
    for key, names in (
        ("owners", (team.owner,)),
        ("validators", team.validators),
        ("operators", team.operators),
    ):
        pattern, replacement = _role_line(key, names)
        text, count = pattern.subn(replacement, text)
        if count == 0:
            raise UsageError(f"expected a '{key}: [...]' line in the policy file, found none")
    return text


@dataclass(frozen=True)
class Initialised:
    """What :func:`initialise` made: the keys, the policy file and its hash."""

    keys: dict[str, Path]
    release_key: Path
    policy_path: Path
    policy_sha256: str


def initialise(settings: Settings, source: Path, team: Team, model: str) -> Initialised:
    """Set up a work directory (or a server deployment's audit log) for ``team``, once.

    Makes a key pair for each member and the release signer, writes
    ``<workdir>/policy.yaml`` from ``source`` with their keys and roles, and has the owner
    adopt it in the audit log (created if missing).

    Raises
    ------
    UsageError
        If the team cannot govern (:meth:`Team.check`), or a policy file, any of the keys
        or a policy in force exists already: nothing is overwritten. Files are checked
        before anything is made.
    """
    team.check()
    path = settings.workdir / "policy.yaml"
    keys = {
        name: key_path(settings.keys_dir, name)
        for name in team.members
        if name not in team.public_keys
    }
    release = release_key_path(settings.keys_dir, team.release_signer)
    _refuse_to_overwrite([str(p) for p in (path, *keys.values(), release) if p.exists()])
    settings = ensure_workdir(settings)
    with open_audit_log(settings.audit_db_url) as audit:
        if policy_in_force(audit.events()) is not None:
            _refuse_to_overwrite([f"a policy in force in the audit log {settings.audit_db_url}"])
        loaded = _write_and_adopt(settings, audit, source, team, model, keep_keys=False)
    return Initialised(keys, release, path, loaded.sha256)


def _refuse_to_overwrite(found: list[str]) -> None:
    if found:
        raise UsageError(
            "govern init sets up a new work directory and never overwrites; found "
            + "; ".join(found)
            + " (adopt a changed policy with `govern policy adopt`, add a person with "
            "`govern keys create`)"
        )


def set_up_personas(
    settings: Settings, audit: AuditLog, source: Path, team: Team, model: str
) -> LoadedPolicy:
    """Give ``team`` keys, write ``<workdir>/policy.yaml`` for it and adopt it: the demo's set-up.

    Keys already in the keys directory are kept; a policy already in force is kept when
    the file written is the same.

    Parameters
    ----------
    settings, audit
        The work directory and its audit log (no registry is touched).
    source
        The policy file to copy.
    team
        The personas and their roles; the owner adopts the policy.
    model
        The model whose entry is returned.

    Returns
    -------
    LoadedPolicy
        The policy in force, as written.
    """
    return _write_and_adopt(settings, audit, source, team, model, keep_keys=True)


def _write_and_adopt(
    settings: Settings,
    audit: AuditLog,
    source: Path,
    team: Team,
    model: str,
    *,
    keep_keys: bool,
) -> LoadedPolicy:
    keys_dir = settings.keys_dir
    members = dict(team.public_keys)
    for name in team.members:
        if name in members:
            continue
        held = keep_keys and key_path(keys_dir, name).is_file()
        members[name] = (
            load_signer(keys_dir, name).public_key if held else create_key(keys_dir, name)
        )
    signer = team.release_signer
    held = keep_keys and release_key_path(keys_dir, signer).is_file()
    release_key = (
        held_release_key(keys_dir, signer) if held else create_release_key(keys_dir, signer)
    )
    path = settings.workdir / "policy.yaml"
    text = with_team(source.read_bytes().decode("utf-8"), team, members, release_key)
    path.write_text(text, encoding="utf-8")
    loaded = load_model_policy(path, model)
    current = policy_in_force(audit.events())
    if current is None or current.payload["policy_sha256"] != loaded.sha256:
        adopt_policy(audit, settings, path, team.owner, now())
    return loaded
