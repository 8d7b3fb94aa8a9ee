"""Signed decisions: the statement each decision signs, recording it, checking them all.

Every lifecycle decision (a candidate registered and gated by its author, an approval or
rejection, a promotion, a rollback, a decommissioning, a policy adopted) is appended with a
signed *statement* in its payload (``payload["signed"]``)::

    {"model", "version", "decision",             what is decided, about which version
     "model_sha256", "dataset_sha256",           the evidence, from its candidate.trained event
     "gate_report_sha256",                       SHA-256 of the gate report it was gated on
     "policy_sha256",                            the policy in force (for an adoption: the new one)
     "details_sha256",                           the event's own payload (reason, comment, ...)
     "time", "prev_event_hash",                  when, and the newest earlier event of the version
     "signer", "public_key"}                     who, and the key the policy in force lists

signed with the signer's Ed25519 key over its canonical JSON. ``prev_event_hash`` is the
newest earlier event *of the same version* (of the policy, for an adoption): it pins the
state the decision was taken on, so a statement cannot be replayed later, and yet a
validator can sign it away from the machine that records it (``govern signoff sign``).

:func:`check_signatures` replays the whole log: which policy was in force at each event,
whether each signed statement says exactly what the log says, whether its key is the one
that policy lists for its signer, whether the signature verifies, and whether the signer
held the role the decision needs. An event appended without its signature, by someone not
in the policy, or edited after signing is a finding, whatever its hash chain says.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from governance.ledger import GENESIS_HASH, AuditEvent, AuditLog, os_identity
from governance.ledger.hashing import canonical_json, sha256_json, sha256_text
from governance.ledger.replay import ModelHistory
from governance.trust.identity import Signer, signature_is_valid
from validation.policy import PolicyError, PolicyFile, parse_policy
from vocabulary import Action, IntegrityError, NotAuthorised, Rule, UsageError
from vocabulary.rulebook import AUTO_APPROVER

__all__ = [
    "SIGNED",
    "Decision",
    "JUDGED_EVIDENCE",
    "Presigned",
    "RuleCheck",
    "SIGNED_ACTIONS",
    "SignatureProblem",
    "check_signatures",
    "key_sponsors",
    "valid_adoptions",
    "policy_in_force",
    "record_decisions",
    "read_token",
    "record_signed",
    "signature_token",
    "statement_for",
]

#: The payload key of an event's signed statement and signature.
SIGNED = "signed"
SIGNED_ACTIONS = frozenset(
    {
        Action.POLICY_ADOPTED,
        Action.CANDIDATE_TRAINED,
        Action.CANDIDATE_GATED,
        Action.CANDIDATE_FAILED,
        Action.SIGNOFF_APPROVED,
        Action.SIGNOFF_REJECTED,
        Action.VERSION_PROMOTED,
        Action.VERSION_ROLLED_BACK,
        Action.VERSION_DECOMMISSIONED,
        Action.VERSION_RELEASED,
        Action.REGISTRY_VERSION_DELETED,
    }
)
#: Evidence recorded unsigned between a version's signed registration and its signed gate
#: verdict; once the verdict is signed, what it judged is closed (and checkpointed).
JUDGED_EVIDENCE = frozenset({Action.CANDIDATE_COMPARED, Action.CANDIDATE_STRESSED})
# Written by the process that records, not by the signer, so not signed: a statement
# signed away from the recording machine could not know them.
_UNSIGNED_KEYS = frozenset({SIGNED, "recorded_by", "event_key"})


#: Judges a decision whose signature checks out where it stands in the log: the event, the
#: policy in force, the signer, their key, the model's history before it and who brought
#: each key into the policy (:func:`key_sponsors`); returns why it breaks a rule, or None.
RuleCheck = Callable[
    [AuditEvent, PolicyFile, str, str, ModelHistory | None, Mapping[str, str]], str | None
]


@dataclass(frozen=True)
class SignatureProblem:
    """A signed decision that does not check out: the event and why."""

    seq: int
    message: str


def details_of(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a payload its signer vouches for."""
    return {k: v for k, v in payload.items() if k not in _UNSIGNED_KEYS}


def statement_for(
    action: str,
    model: str | None,
    version: str | None,
    details: Mapping[str, Any],
    subject_events: list[AuditEvent],
    policy_sha256: str,
    signer: str,
    public_key: str,
    time: str,
) -> dict[str, Any]:
    """The statement a decision signs, built from the log as it stands before the decision.

    Parameters
    ----------
    action, model, version, details
        The decision and its payload (see :func:`details_of`).
    subject_events
        The earlier events of the same version (the earlier adoptions, for a policy).
    policy_sha256
        The policy in force; for an adoption, the policy adopted.
    signer, public_key, time
        Who signs, with which key, when.
    """
    trained = next((e for e in subject_events if e.action == Action.CANDIDATE_TRAINED), None)
    evidence = details if action == Action.CANDIDATE_TRAINED else (trained and trained.payload)
    gated = [e.payload for e in subject_events if e.action == Action.CANDIDATE_GATED]
    gates = details if action == Action.CANDIDATE_GATED else (gated[-1] if gated else None)
    return {
        "model": model,
        "version": version,
        "decision": str(action),
        "model_sha256": (evidence or {}).get("model_sha256"),
        "dataset_sha256": (evidence or {}).get("dataset_sha256"),
        "gate_report_sha256": sha256_json(gates["gates"]) if gates else None,
        "policy_sha256": policy_sha256,
        "details_sha256": sha256_json(dict(details)),
        "time": time,
        "prev_event_hash": subject_events[-1].event_hash if subject_events else GENESIS_HASH,
        "signer": signer,
        "public_key": public_key,
    }


def statement_bytes(statement: Mapping[str, Any]) -> bytes:
    """What is signed: the statement's canonical JSON in UTF-8."""
    return canonical_json(dict(statement), label="statement").encode("utf-8")


@dataclass(frozen=True)
class Presigned:
    """A decision its maker signed elsewhere (``govern signoff sign``): statement, signature.

    It "signs" only the statement it carries: when the decision is recorded, the statement
    built from the log as it stands then must be that one to the byte, or the decision is
    refused (the version changed since, or the comment differs).
    """

    name: str
    public_key: str
    statement: dict[str, Any]
    signature: str

    @property
    def time(self) -> str:
        """The time the maker stated."""
        return str(self.statement["time"])

    def sign(self, message: bytes) -> str:
        """Return the carried signature if ``message`` is the carried statement.

        Raises
        ------
        NotAuthorised
            Naming the fields that differ.
        """
        if message == statement_bytes(self.statement):
            return self.signature
        now = json.loads(message)
        differ = sorted(
            k for k in now.keys() | self.statement.keys() if now.get(k) != self.statement.get(k)
        )
        raise NotAuthorised.by(
            Rule.SIGNED_DECISIONS,
            f"the statement {self.name} signed differs from "
            f"the decision as it stands now in {', '.join(differ)} (the version changed since, or "
            f"the comment differs); sign it again with `govern signoff sign`",
        )


def signature_token(statement: Mapping[str, Any], signature: str) -> str:
    """A signed statement as one line of text, for a form field."""
    raw = canonical_json({"statement": dict(statement), "signature": signature}, label="token")
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii")


def read_token(token: str) -> tuple[dict[str, Any], str]:
    """The statement and signature of a :func:`signature_token`.

    Raises
    ------
    UsageError
        If ``token`` is not one.
    """
    try:
        raw = json.loads(base64.urlsafe_b64decode(token.strip().encode("ascii")))
        statement, signature = raw["statement"], raw["signature"]
    except (ValueError, KeyError, TypeError, UnicodeEncodeError) as exc:
        raise UsageError(
            f"expected a signature from `govern signoff sign`, got {token[:24]!r}...: {exc}"
        ) from exc
    if not isinstance(statement, dict) or not isinstance(signature, str):
        raise UsageError("expected a signature from `govern signoff sign`, got another JSON")
    return statement, signature


@dataclass(frozen=True)
class Decision:
    """One decision to append: who signs it, under which actor, what, about which version.

    ``signer`` holds a key, or carries a statement signed elsewhere (:class:`Presigned`,
    whose stated time the statement keeps).
    """

    signer: Signer | Presigned
    actor: str
    action: Action
    payload: Mapping[str, Any]
    model: str | None
    version: str | None


def record_signed(
    audit: AuditLog,
    signer: Signer,
    actor: str,
    action: Action,
    payload: Mapping[str, Any],
    model: str | None,
    version: str | None,
    *,
    policy_sha256: str,
    time: str,
    key: str | None = None,
) -> AuditEvent:
    """Append a decision with ``signer``'s signed statement, at most once per ``key``.

    Parameters
    ----------
    audit
        The log to append to.
    signer
        Holder of the private key; the policy in force must list its public key.
    actor
        The event's actor: ``signer.name``, or :data:`AUTO_APPROVER`.
    action, payload, model, version
        The decision, as for :func:`governance.ledger.record_event`.
    policy_sha256
        The policy this process decides under; for an adoption, the policy adopted.
    time
        The time the signer states.
    key
        Idempotency key, as for :func:`governance.ledger.record_event`.

    Raises
    ------
    IntegrityError
        If the policy this process holds is not the one in force.
    """
    decision = Decision(signer, actor, action, payload, model, version)
    (event,) = record_decisions(audit, [decision], policy_sha256=policy_sha256, time=time, key=key)
    return event


def record_decisions(
    audit: AuditLog,
    decisions: list[Decision],
    *,
    policy_sha256: str,
    time: str,
    key: str | None = None,
) -> list[AuditEvent]:
    """Append ``decisions`` with their signed statements, all or none, in one transaction.

    Each statement is built and signed under the log's append lock, so the event it names
    as its version's newest is still the newest when it is appended (an earlier decision
    of the same batch included). One transaction is what makes a lifecycle action that
    decides several things (an approval that releases and promotes) happen at once or
    not at all. With ``key`` (idempotency, as for :func:`governance.ledger.record_event`),
    a decision already recorded under it is returned instead of appended again.

    Raises
    ------
    IntegrityError
        If the policy this process holds is not the one in force.
    """
    events = []
    with audit.locked() as transaction:
        for decision in decisions:
            earlier = (
                None if key is None else transaction.find_key(key, decision.model, decision.version)
            )
            if earlier is not None:  # a retry: the decision is on the record already
                events.append(earlier)
                continue
            body = {**decision.payload, "recorded_by": os_identity()}
            if key is not None:
                body["event_key"] = key
            model, version = decision.model, decision.version
            adoptions = transaction.events(action=Action.POLICY_ADOPTED)
            if decision.action == Action.POLICY_ADOPTED:
                subject = adoptions
            else:
                check_in_force(adoptions, policy_sha256)
                subject = transaction.events(model=model, version=version)
            statement = statement_for(
                decision.action,
                model,
                version,
                details_of(body),
                subject,
                policy_sha256,
                decision.signer.name,
                decision.signer.public_key,
                decision.signer.time if isinstance(decision.signer, Presigned) else time,
            )
            body[SIGNED] = {
                "statement": statement,
                "signature": decision.signer.sign(statement_bytes(statement)),
            }
            events.append(
                transaction.append(
                    decision.actor, decision.action, body, model=model, version=version
                )
            )
    return events


def policy_in_force(events: Iterable[AuditEvent]) -> AuditEvent | None:
    """The ``policy.adopted`` event in force after ``events``, or None if none was adopted.

    Only an adoption that checks out counts (signed by an owner of the policy before it,
    over the text it records): one appended by a database writer without an owner's key is
    a finding for ``govern audit verify``, and must not make every process refuse to act
    under the policy actually in force.
    """
    valid = valid_adoptions(events)
    return valid[-1] if valid else None


def valid_adoptions(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    """The ``policy.adopted`` events that check out, in order (forged ones left out)."""
    adopted = [e for e in events if e.action == Action.POLICY_ADOPTED]
    forged = {problem.seq for problem in check_signatures(adopted)}
    return [e for e in adopted if e.seq not in forged]


def check_in_force(events: Iterable[AuditEvent], held_sha256: str) -> None:
    """Refuse a process whose policy file is not the one the log says is in force.

    Raises
    ------
    IntegrityError
        Naming the adopted hash and the one held.
    """
    adopted = policy_in_force(events)
    if adopted is None:
        raise IntegrityError(
            f"no policy was adopted in this audit log; the policy file held here has SHA-256 "
            f"{held_sha256}: an owner adopts it first (`govern policy adopt FILE --as OWNER`)"
        )
    expected = adopted.payload["policy_sha256"]
    if expected != held_sha256:
        raise IntegrityError(
            f"the policy in force has SHA-256 {expected} (adopted by {adopted.actor}, event seq "
            f"{adopted.seq}), but this process holds a policy file with SHA-256 {held_sha256}; "
            f"refusing to act (set GOVERN_POLICY to the adopted file, or have an owner adopt "
            f"this one with `govern policy adopt`)"
        )


def key_sponsors(adoptions: Iterable[AuditEvent]) -> dict[str, str]:
    """Who brought each public key into the policy.

    That is the owner who adopted the first policy listing it. The first adoption is the
    root of trust, set up once and anchored outside the system: the keys it lists have no
    sponsor. Every later key has one, and separation of duties reaches through it: an
    owner who lists a new key may not approve what that key trains
    (:mod:`governance.lifecycle.rule_checks`).
    """
    return _sponsors(valid_adoptions(adoptions))


def _sponsors(valid: list[AuditEvent]) -> dict[str, str]:
    """:func:`key_sponsors` of adoptions known to check out."""
    sponsors: dict[str, str] = {}
    listed: set[str] = set()
    for index, adoption in enumerate(valid):
        keys = set(parse_policy(adoption.payload["policy_yaml"]).members.values())
        if index > 0:
            sponsors.update({key: adoption.actor for key in keys - listed})
        listed |= keys
    return sponsors


@dataclass
class _Replay:
    """What the checks need to know at each point of the log."""

    policy: PolicyFile | None = None
    policy_sha256: str | None = None
    adoptions: list[AuditEvent] = field(default_factory=list)
    sponsors: dict[str, str] = field(default_factory=dict)
    subjects: dict[tuple[str | None, str | None], list[AuditEvent]] = field(default_factory=dict)
    histories: dict[str, ModelHistory] = field(default_factory=dict)

    def advance(self, event: AuditEvent) -> None:
        """Apply ``event`` to its model's lifecycle, as :func:`~.replay.replay` does."""
        if event.model is None or event.version is None:
            return
        history = self.histories.setdefault(event.model, ModelHistory())
        if event.action == Action.CANDIDATE_TRAINED or history.state(event.version) is not None:
            history.apply(event)

    def subject(self, event: AuditEvent) -> list[AuditEvent]:
        """The earlier events of ``event``'s version (of the policy, for an adoption)."""
        if event.action == Action.POLICY_ADOPTED:
            return self.subjects.setdefault((None, None), [])
        return self.subjects.setdefault((event.model, event.version), [])


def check_signatures(
    events: Iterable[AuditEvent], rules: RuleCheck | None = None
) -> list[SignatureProblem]:
    """Check every signed decision of a log against the policy in force when it was made.

    With ``rules`` (the lifecycle's rulebook,
    :func:`governance.lifecycle.rule_checks.rule_problem`), each decision that checks out is
    also judged where it stands in the replayed log.

    Evidence of a version (:data:`JUDGED_EVIDENCE`) appended after its signed gate verdict
    is a problem too: consumers read a version's latest evidence, and nobody signed that.

    Parameters
    ----------
    events
        The whole log, in order (its hash chain verified separately).

    Returns
    -------
    list of SignatureProblem
        Empty when every decision is signed by whom it names, with the key the policy in
        force lists for them, over what the log says, and the signer held the role.
    """
    state = _Replay()
    problems = []
    for event in events:
        subject = state.subject(event)
        message = None
        if event.action in SIGNED_ACTIONS:
            message = _problem(event, subject, state, rules)
        elif event.action in JUDGED_EVIDENCE and any(
            e.action == Action.CANDIDATE_GATED for e in subject
        ):
            message = (
                f"evidence appended after version {event.version} was judged: the signed gate "
                f"verdict covers only what was recorded before it"
            )
        if message is not None:
            where = f"event seq {event.seq} ({event.action} by {event.actor!r})"
            problems.append(SignatureProblem(event.seq, f"{where}: {message}"))
        elif event.action == Action.POLICY_ADOPTED:
            # Only an adoption that checks out changes the policy later decisions answer to.
            state.policy = parse_policy(event.payload["policy_yaml"], f"event seq {event.seq}")
            state.policy_sha256 = event.payload["policy_sha256"]
            state.adoptions.append(event)
            state.sponsors = _sponsors(state.adoptions)
        subject.append(event)
        if message is None:
            # Only what checks out changes the states later decisions are judged against:
            # a forgery is a finding, never the ground a rule stands on.
            state.advance(event)
    return problems


def _problem(
    event: AuditEvent, subject: list[AuditEvent], state: _Replay, rules: RuleCheck | None
) -> str | None:
    payload = event.payload
    signed = payload.get(SIGNED)
    if not isinstance(signed, dict) or not isinstance(signed.get("statement"), dict):
        return "no signed statement (appended without its signer's key)"
    claimed = signed["statement"]
    policy, policy_sha = state.policy, state.policy_sha256
    if event.action == Action.POLICY_ADOPTED:
        found = _adoption_problem(payload)
        if found is not None:
            return found
        proposed = parse_policy(payload["policy_yaml"], f"event seq {event.seq}")
        policy_sha = payload["policy_sha256"]
        if policy is None:
            policy = proposed  # the first policy is its own root of trust
    elif policy is None:
        return "no policy was adopted before it"
    signer = _expected_signer(event, subject)
    public_key = policy.members.get(signer)
    if public_key is None:
        return f"signer {signer!r} has no key in the policy in force ({policy_sha})"
    expected = statement_for(
        event.action,
        event.model,
        event.version,
        details_of(payload),
        subject,
        policy_sha,
        signer,
        public_key,
        str(claimed.get("time")),
    )
    for name, value in expected.items():
        if claimed.get(name) != value:
            return f"its signed statement says {name} {claimed.get(name)!r}, the log says {value!r}"
    if not signature_is_valid(public_key, statement_bytes(expected), str(signed.get("signature"))):
        return f"the signature is not {signer}'s ({public_key})"
    if rules is None:
        return None
    history = state.histories.get(event.model or "")
    return rules(event, policy, signer, public_key, history, state.sponsors)


def _adoption_problem(payload: Mapping[str, Any]) -> str | None:
    text = payload.get("policy_yaml")
    if not isinstance(text, str) or sha256_text(text) != payload.get("policy_sha256"):
        return "the adopted policy's text does not hash to the SHA-256 it records"
    try:
        parse_policy(text)
    except PolicyError as exc:
        return f"the adopted policy does not parse: {exc}"
    return None


def _expected_signer(event: AuditEvent, subject: list[AuditEvent]) -> str:
    if event.actor != AUTO_APPROVER:
        return event.actor
    trained = next((e for e in subject if e.action == Action.CANDIDATE_TRAINED), None)
    return trained.actor if trained is not None else event.actor
