"""Judging one lifecycle decision against the rulebook, the same way before and after.

:func:`refusal` answers, for a decision about to be taken or one found on the record,
which rule of :mod:`vocabulary.rulebook` refuses it and why: the state the version is in
by the log, the signer's role in the policy in force, then the sign-off's own rules.
:mod:`governance.lifecycle.actions` raises it before acting (:func:`enforce`), ``govern audit
verify`` reports it for every signed event (:mod:`governance.trust.signatures`), and both read
the version's state from the same replay (:mod:`governance.ledger.replay`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from governance.ledger import AuditEvent
from governance.ledger.replay import ModelHistory, VersionHistory
from governance.trust.signatures import SignatureProblem, check_signatures
from validation.policy import ModelPolicy, PolicyFile
from vocabulary import Lifecycle, NotAuthorised, Role, Rule
from vocabulary.rulebook import AUTO_APPROVER, REPLACES, Transition, transition_for

__all__ = [
    "Refusal",
    "Request",
    "check_decisions",
    "enforce",
    "moves_refusal",
    "refusal",
    "require_role",
    "rule_problem",
]

#: What the automatic approver may do: approve, and release and promote what it approved.
_AUTOMATIC_STEPS = frozenset({"approve", "release", "promote"})


@dataclass(frozen=True)
class Refusal:
    """The rule that refuses a decision, and why."""

    rule: Rule
    reason: str

    def error(self) -> NotAuthorised:
        """The refusal as the exception a lifecycle command exits 5 with."""
        return NotAuthorised.by(self.rule, self.reason)


@dataclass(frozen=True)
class Request:
    """One lifecycle decision, as the rulebook judges it.

    Attributes
    ----------
    step : Transition
        Its row of the rulebook.
    policy : PolicyFile
        The policy in force when it is taken.
    model, version : str or None
        What it is about (None, None for a policy adoption).
    actor : str
        The name it is recorded under (:data:`~vocabulary.rulebook.AUTO_APPROVER` for an
        automatic approval, which the version's author signs).
    signer : str
        Who signs it.
    key : str or None
        The public key it is signed with.
    payload : Mapping
        What it records (a release's key is judged from it).
    sponsors : Mapping
        Who brought each public key into the policy
        (:func:`~governance.trust.signatures.key_sponsors`), for separation of duties
        through policy changes.
    """

    step: Transition
    policy: PolicyFile
    model: str | None
    version: str | None
    actor: str
    signer: str
    key: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    sponsors: Mapping[str, str] = field(default_factory=dict)


def enforce(request: Request, history: ModelHistory | None) -> None:
    """Raise the refusal of :func:`refusal`, if any, as :class:`NotAuthorised`."""
    refused = refusal(request, history)
    if refused is not None:
        raise refused.error()


def refusal(request: Request, history: ModelHistory | None) -> Refusal | None:
    """Which rule refuses ``request`` where the model's ``history`` stands, if any.

    Checked in order: the policy covers the model; the version's state by the log is one
    the step may start from (a decommissioned version is final); the signer holds the
    step's role (or the automatic approver is allowed); then the step's own rules
    (maker-checker, gates must pass, distinct approvers, the release key, the rollback
    target's record).
    """
    step, policy = request.step, request.policy
    if not step.on_version:
        return _role_refusal(request, None, None)
    model_policy = policy.models.get(request.model or "")
    if model_policy is None:
        return Refusal(
            Rule.MODEL_IN_POLICY,
            f"the policy in force has no entry for model {request.model!r} "
            f"(it covers {', '.join(sorted(policy.models)) or 'none'})",
        )
    state = history.state(request.version or "") if history is not None else None
    return (
        _state_refusal(request, state)
        or _role_refusal(request, model_policy, state)
        or _step_refusal(request, state)
    )


def require_role(policy: PolicyFile, model: str, role: Role, actor: str, what: str) -> None:
    """Refuse ``actor`` who does not hold ``role`` for ``model`` (an action outside the table).

    Raises
    ------
    NotAuthorised
        Naming the rule of that role and who holds it.
    """
    model_policy = policy.for_model(model)
    if not _holds(role, policy, model_policy, actor, None):
        raise NotAuthorised.by(
            _ROLE_RULES[role], f"{actor!r} may not {what} {model} ({_holders(role, model_policy)})"
        )


def moves_refusal(request: Request, history: ModelHistory) -> Refusal | None:
    """Whether a recorded promotion or rollback moves the versions the log says it moves.

    Its fields (``previous``, ``retired``, ``demoted``) change other versions' states in
    the replay, so a signer must not choose them: a rollback naming a decommissioned
    version as ``demoted`` would otherwise put it back in the line of succession. A
    replacement is recorded after the decommissioning it completes: the champion is then
    vacant and the version it replaces decommissioned.
    """
    payload, name = request.payload, request.step.name
    if name == "replace":
        replaced = history.state(str(payload.get(REPLACES)))
        if replaced is None or replaced.lifecycle != Lifecycle.DECOMMISSIONED:
            return Refusal(
                Rule.MOVES_BY_THE_LOG,
                f"it replaces version {payload.get(REPLACES)!r}, which the log does not show "
                f"decommissioned",
            )
    if name in ("promote", "replace"):
        moves = history.promotion_moves()
    elif name == "rollback":
        moves = history.rollback_moves()
    else:
        return None
    for key, value in {"champion": request.version, **moves}.items():
        if payload.get(key) != value:
            return Refusal(
                Rule.MOVES_BY_THE_LOG,
                f"it names {payload.get(key)!r} as {key}, but by the log that is {value!r}",
            )
    return None


def _state_refusal(request: Request, state: VersionHistory | None) -> Refusal | None:
    step = request.step
    where = f"{request.model} version {request.version}"
    if step.from_states is None:
        return None if state is None else Refusal(step.rule, f"{where} was already trained")
    if state is None:
        return Refusal(Rule.KNOWN_VERSIONS, f"{where} was never trained according to the log")
    lifecycle = Lifecycle(state.lifecycle)
    if lifecycle in step.from_states:
        return None
    if lifecycle == Lifecycle.DECOMMISSIONED:
        return Refusal(Rule.DECOMMISSIONED_IS_FINAL, f"{where} was decommissioned")
    expected = " or ".join(repr(str(s)) for s in sorted(step.from_states))
    return Refusal(step.rule, f"{where} is {str(lifecycle)!r}, expected {expected}")


def _role_refusal(
    request: Request, model_policy: ModelPolicy | None, state: VersionHistory | None
) -> Refusal | None:
    step = request.step
    if request.actor == AUTO_APPROVER:
        return _automatic_refusal(request, model_policy)
    if model_policy is None:  # the policy's own adoption
        if request.signer in request.policy.owners:
            return None
        return Refusal(
            Rule.OWNERS_ADOPT,
            f"{request.signer!r} is not an owner of the policy in force "
            f"(owners: {', '.join(request.policy.owners)})",
        )
    if _holds(step.role, request.policy, model_policy, request.signer, state):
        return None
    return Refusal(
        _ROLE_RULES[step.role],
        f"{request.signer!r} may not {step.name} {request.model} version {request.version} "
        f"({_holders(step.role, model_policy, state)})",
    )


def _automatic_refusal(request: Request, model_policy: ModelPolicy | None) -> Refusal | None:
    if model_policy is None or request.step.name not in _AUTOMATIC_STEPS:
        return Refusal(
            Rule.AUTOMATIC_APPROVAL,
            "the automatic approver only approves, and releases and promotes what it approved",
        )
    if not model_policy.auto_approve_when_gates_pass:
        return Refusal(
            Rule.AUTOMATIC_APPROVAL,
            f"the policy of {request.model} (risk tier {model_policy.risk_tier}) does not allow it",
        )
    return None


def _holds(
    role: Role,
    policy: PolicyFile,
    model_policy: ModelPolicy,
    signer: str,
    state: VersionHistory | None,
) -> bool:
    author = state.author if state is not None else None
    return {
        Role.OWNER: signer in policy.owners,
        Role.MEMBER: signer in policy.members,
        Role.VERSION_AUTHOR: signer == author,
        Role.AUTHOR_OR_OPERATOR: signer == author or model_policy.may_operate(signer),
        Role.VALIDATOR: signer in model_policy.validators,
        Role.OPERATOR: model_policy.may_operate(signer),
    }[role]


def _holders(role: Role, model_policy: ModelPolicy, state: VersionHistory | None = None) -> str:
    validators = f"validators: {', '.join(model_policy.validators)}"
    operators = f"operators: {', '.join(model_policy.operators) or 'none'}"
    author = f"author: {state.author}" if state is not None else "its author"
    return {
        Role.OWNER: "owners only",
        Role.MEMBER: "members of the policy only",
        Role.VERSION_AUTHOR: author,
        Role.AUTHOR_OR_OPERATOR: f"{author}; {validators}; {operators}",
        Role.VALIDATOR: validators,
        Role.OPERATOR: f"{validators}; {operators}",
    }[role]


_ROLE_RULES = {
    Role.OWNER: Rule.OWNERS_ADOPT,
    Role.MEMBER: Rule.SIGNED_DECISIONS,
    Role.VERSION_AUTHOR: Rule.AUTHORS_GATE,
    Role.AUTHOR_OR_OPERATOR: Rule.AUTHORS_OR_OPERATORS_CLOSE,
    Role.VALIDATOR: Rule.VALIDATORS_ONLY,
    Role.OPERATOR: Rule.OPERATORS_ONLY,
}


def _step_refusal(request: Request, state: VersionHistory | None) -> Refusal | None:
    name = request.step.name
    where = f"{request.model} version {request.version}"
    if name == "approve" and state is not None:
        return _approval_refusal(request, state, where)
    if name == "release":
        release = request.policy.release
        if release is None or request.payload.get("release_public_key") != release.public_key:
            return Refusal(
                Rule.SIGNED_RELEASES,
                "released with another key than the policy in force names for releases",
            )
    if name == "rollback" and state is not None and not (state.gates_passed and state.approvers):
        return Refusal(
            Rule.ROLLBACK_TARGET, f"{where} was never both gated and approved by the log"
        )
    return None


def _approval_refusal(request: Request, state: VersionHistory, where: str) -> Refusal | None:
    actor, key = request.actor, request.key
    automatic = actor == AUTO_APPROVER
    if not automatic and actor == state.author:
        return Refusal(Rule.MAKER_CHECKER, f"{actor!r} trained {where} and may not approve it")
    if not automatic and key is not None and key == state.author_key:
        return Refusal(
            Rule.MAKER_CHECKER,
            f"{actor!r} signs with {key}, the key that signed the training of {where} "
            f"(as {state.author!r})",
        )
    if not automatic:
        sponsored = _sponsorship_refusal(request, state, where)
        if sponsored is not None:
            return sponsored
    if not state.gates_passed:
        return Refusal(Rule.GATES_MUST_PASS, f"the gates of {where} failed")
    approver_keys = {a.key for a in state.approvals if a.key}
    if actor in state.approvers or (key is not None and key in approver_keys):
        return Refusal(Rule.DISTINCT_APPROVERS, f"{actor!r} (key {key}) already approved {where}")
    return None


def _sponsorship_refusal(request: Request, state: VersionHistory, where: str) -> Refusal | None:
    """Maker-checker through policy changes: an owner's new keys are the owner's hands.

    An owner who brought the author's key into the policy may not approve, nor may a key
    the same owner brought in; and the author may not be the owner who brought in the
    approver's key. Otherwise one owner could list a second key, train with it and approve
    with the first (or list a validator and train themselves).
    """
    sponsors, actor = request.sponsors, request.actor
    author_sponsor = sponsors.get(state.author_key or "")
    approver_sponsor = sponsors.get(request.key or "")
    if author_sponsor is not None and author_sponsor in (actor, approver_sponsor):
        by = "they" if author_sponsor == actor else f"{author_sponsor}, who also listed theirs,"
        return Refusal(
            Rule.SEPARATION_THROUGH_POLICY,
            f"{actor!r} may not approve {where}: its author's key was brought into the policy "
            f"by {author_sponsor}, and {by} cannot check what it trains",
        )
    if approver_sponsor is not None and approver_sponsor == state.author:
        return Refusal(
            Rule.SEPARATION_THROUGH_POLICY,
            f"{actor!r} may not approve {where}: their key was brought into the policy by "
            f"{approver_sponsor}, who trained it",
        )
    return None


def rule_problem(
    event: AuditEvent,
    policy: PolicyFile,
    signer: str,
    public_key: str,
    history: ModelHistory | None,
    sponsors: Mapping[str, str],
) -> str | None:
    """Whether the rulebook allowed ``event`` where it stands in the log, as before acting."""
    step = transition_for(event.action, event.payload)
    if step is None:
        return None
    request = Request(
        step,
        policy,
        event.model,
        event.version,
        event.actor,
        signer,
        public_key,
        event.payload,
        sponsors,
    )
    refused = refusal(request, history)
    if refused is None and history is not None:
        refused = moves_refusal(request, history)
    return None if refused is None else f"rule '{refused.rule}': {refused.reason}"


def check_decisions(events: Iterable[AuditEvent]) -> list[SignatureProblem]:
    """Every signed decision of a log: its signature and key, and the rulebook where it stands."""
    return check_signatures(events, rule_problem)
