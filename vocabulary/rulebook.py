"""The lifecycle's one rulebook: each decision, the states it may start from, who takes it.

One row per transition of a version's lifecycle. The checks before acting
(:mod:`governance.lifecycle.actions`), ``govern audit verify``
(:mod:`governance.lifecycle.rule_checks`) and the replay that turns the log into states
(:mod:`governance.ledger.replay`) all read this table,
so that what is allowed before acting is what is accepted on the record, and what the
replay makes of it::

    action                  from                               to                role
    policy.adopted          (the policy, not a version)        -                 owner
    candidate.trained       (a version the log has not seen)   validating        member
    candidate.gated         validating                         as judged         version author
    candidate.failed        validating                         failed            author/operator
    signoff.approved        pending-signoff                    approved (the     validator
                                                                 last one needed)
    signoff.rejected        pending-signoff                    rejected          validator
    version.released        approved                           -                 operator
    version.promoted        approved                           champion          operator
      (replacing a decommissioned champion: approved, previous or rolled-back)
    version.rolled_back     previous                           champion          operator
    version.decommissioned  any but decommissioned             decommissioned    operator
    registry.version_deleted  any                              -                 operator

"Operator" is a validator or an operator of the model. The sign-off's own rules
(maker-checker, gates must pass, distinct approvers, automatic approval) and the versions a
promotion or rollback moves besides its own are in :mod:`governance.lifecycle.rule_checks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vocabulary import Action, Lifecycle, Role, Rule

__all__ = [
    "AUTO_APPROVER",
    "REPLACES",
    "TRANSITIONS",
    "Transition",
    "transition",
    "transition_for",
]

#: Actor recorded when a low-risk policy approves a version whose gates all passed; the
#: retrain's author signs that approval, since the policy itself holds no key.
AUTO_APPROVER = "policy:auto-approval"

_LIVE = frozenset(Lifecycle) - {Lifecycle.DECOMMISSIONED}


@dataclass(frozen=True)
class Transition:
    """One row of the rulebook.

    Attributes
    ----------
    name : str
        The lifecycle step, as ``lifecycle.intent`` events and messages name it.
    action : Action
        The audit event that records it.
    from_states : frozenset of Lifecycle or None
        The states the version may be in; None for a version the log has not seen.
    to_state : Lifecycle or None
        The state it leaves the version in (an approval: once it is the last one the
        policy requires); None when the event decides (a gate verdict) or it changes no
        state.
    role : Role
        Who may take it.
    rule : Rule
        The rule that refuses it from any other state.
    on_version : bool
        False for the one decision about the policy rather than a version.
    """

    name: str
    action: Action
    from_states: frozenset[Lifecycle] | None
    to_state: Lifecycle | None
    role: Role
    rule: Rule
    on_version: bool = True


TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "adopt",
        Action.POLICY_ADOPTED,
        None,
        None,
        Role.OWNER,
        Rule.OWNERS_ADOPT,
        on_version=False,
    ),
    Transition(
        "train",
        Action.CANDIDATE_TRAINED,
        None,
        Lifecycle.VALIDATING,
        Role.MEMBER,
        Rule.TRAINED_ONCE,
    ),
    Transition(
        "gate",
        Action.CANDIDATE_GATED,
        frozenset({Lifecycle.VALIDATING}),
        None,
        Role.VERSION_AUTHOR,
        Rule.ONLY_VALIDATING_JUDGED,
    ),
    Transition(
        "fail",
        Action.CANDIDATE_FAILED,
        frozenset({Lifecycle.VALIDATING}),
        Lifecycle.FAILED,
        Role.AUTHOR_OR_OPERATOR,
        Rule.ONLY_VALIDATING_JUDGED,
    ),
    Transition(
        "approve",
        Action.SIGNOFF_APPROVED,
        frozenset({Lifecycle.PENDING_SIGNOFF}),
        Lifecycle.APPROVED,
        Role.VALIDATOR,
        Rule.ONLY_PENDING_SIGNED,
    ),
    Transition(
        "reject",
        Action.SIGNOFF_REJECTED,
        frozenset({Lifecycle.PENDING_SIGNOFF}),
        Lifecycle.REJECTED,
        Role.VALIDATOR,
        Rule.ONLY_PENDING_SIGNED,
    ),
    Transition(
        "release",
        Action.VERSION_RELEASED,
        frozenset({Lifecycle.APPROVED}),
        None,
        Role.OPERATOR,
        Rule.ONLY_APPROVED_RELEASED,
    ),
    Transition(
        "promote",
        Action.VERSION_PROMOTED,
        frozenset({Lifecycle.APPROVED}),
        Lifecycle.CHAMPION,
        Role.OPERATOR,
        Rule.ONLY_APPROVED_PROMOTED,
    ),
    Transition(
        "replace",
        Action.VERSION_PROMOTED,
        frozenset({Lifecycle.APPROVED, Lifecycle.PREVIOUS, Lifecycle.ROLLED_BACK}),
        Lifecycle.CHAMPION,
        Role.OPERATOR,
        Rule.REPLACEMENTS_APPROVED,
    ),
    Transition(
        "rollback",
        Action.VERSION_ROLLED_BACK,
        frozenset({Lifecycle.PREVIOUS}),
        Lifecycle.CHAMPION,
        Role.OPERATOR,
        Rule.ROLLBACK_TARGET,
    ),
    Transition(
        "decommission",
        Action.VERSION_DECOMMISSIONED,
        _LIVE,
        Lifecycle.DECOMMISSIONED,
        Role.OPERATOR,
        Rule.DECOMMISSIONED_IS_FINAL,
    ),
    Transition(
        "record deletion",
        Action.REGISTRY_VERSION_DELETED,
        frozenset(Lifecycle),
        None,
        Role.OPERATOR,
        Rule.KNOWN_VERSIONS,
    ),
)

_BY_NAME = {t.name: t for t in TRANSITIONS}

#: The payload field of a promotion that installs a decommissioned champion's replacement.
REPLACES = "replaces"


def transition(name: str) -> Transition:
    """The row of the lifecycle step ``name`` (``"approve"``, ``"rollback"``, ...)."""
    return _BY_NAME[name]


def transition_for(action: str, payload: Mapping[str, Any]) -> Transition | None:
    """The row an event of ``action`` recorded, or None for an event that decides nothing.

    A promotion is the ``replace`` step when it says which decommissioned version it
    replaces.
    """
    if action == Action.VERSION_PROMOTED:
        return _BY_NAME["replace" if payload.get(REPLACES) is not None else "promote"]
    return next((t for t in TRANSITIONS if t.action == action), None)
