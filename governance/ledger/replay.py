"""Replaying the audit log: every version's lifecycle, and who was champion when.

The registry's tags and aliases can be edited by anyone with access to MLflow; the
audit log cannot be edited without breaking its hash chain. So the sign-off rules
take a version's author, gate result, approvals and lifecycle state from this replay,
``govern audit verify`` compares the registry with it, and the lineage report and
inventory read their milestones from it. :func:`replay` is the one place that turns
events into a lifecycle history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from governance.ledger import AuditEvent
from vocabulary import Action, Alias, Lifecycle
from vocabulary.rulebook import Transition, transition_for

__all__ = [
    "LIFECYCLE_DECISIONS",
    "Approval",
    "ChampionInterval",
    "Milestone",
    "ModelHistory",
    "StateChange",
    "VersionHistory",
    "open_intents",
    "replay",
]


@dataclass(frozen=True)
class StateChange:
    """One event that set a version's lifecycle state.

    Attributes
    ----------
    lifecycle : Lifecycle
        The state the version was in after the event.
    action : Action
        The event's action (a promotion and a rollback both make a champion).
    seq, at, by
        The event's sequence number, time and actor.
    reason : str or None
        Why, as recorded: the reason of a promotion, rollback or decommission, the
        comment of a rejection, the error of a failed validation.
    champion : str or None
        The version the event made champion, when it made one.
    """

    lifecycle: Lifecycle
    action: Action
    seq: int
    at: str
    by: str
    reason: str | None = None
    champion: str | None = None


@dataclass(frozen=True)
class Approval:
    """One validator's approval of a version."""

    by: str
    at: str
    seq: int
    comment: str
    automatic: bool
    required: int
    key: str | None = None


@dataclass(frozen=True)
class Milestone:
    """When, by whom and why a version reached a turning point of its life."""

    at: str
    by: str
    reason: str | None
    seq: int


@dataclass
class ChampionInterval:
    """A stretch of the log during which one version held the ``champion`` alias.

    ``to_seq``/``to_ts`` are those of the event that ended it, None while it lasts.
    """

    version: str
    from_seq: int
    from_ts: str
    to_seq: int | None = None
    to_ts: str | None = None

    def covers_moment_before(self, seq: int) -> bool:
        """Whether the version was champion just before event ``seq`` happened."""
        return self.from_seq < seq and (self.to_seq is None or self.to_seq >= seq)


@dataclass
class VersionHistory:
    """What the audit log says about one version, built by :func:`replay`.

    The rules read :attr:`lifecycle`, :attr:`author`, :attr:`author_key`,
    :attr:`gates_passed`, :attr:`approvers` and :attr:`last_seq`; reports read the rest.
    """

    author: str
    states: list[StateChange]
    author_key: str | None = None
    gated_policy_sha256: str | None = None
    gated: bool = False
    gates_passed: bool = False
    approvals: list[Approval] = field(default_factory=list)
    deleted_from_registry: Milestone | None = None
    """When an operator recorded that the registry lost the version (it stays on the log)."""

    @property
    def lifecycle(self) -> str:
        """The current state, as the plain text of the ``lifecycle`` tag.

        Plain text rather than the enum member, so that messages quote it the way
        the tag reads (``'approved'``).
        """
        return self.states[-1].lifecycle.value

    @property
    def last_seq(self) -> int:
        """Sequence number of the event that set the current state."""
        return self.states[-1].seq

    @property
    def approvers(self) -> list[str]:
        """Who approved, in order."""
        return [approval.by for approval in self.approvals]

    @property
    def rejection(self) -> StateChange | None:
        """The validator's rejection, if any (a rejection at the gates is not one)."""
        return self._last(Lifecycle.REJECTED, Action.SIGNOFF_REJECTED)

    @property
    def promoted(self) -> Milestone | None:
        """When the version first went live through a promotion."""
        first = next(
            (
                s
                for s in self.states
                if s.lifecycle == Lifecycle.CHAMPION and s.action == Action.VERSION_PROMOTED
            ),
            None,
        )
        return _milestone(first)

    @property
    def rolled_back(self) -> Milestone | None:
        """When a rollback last took the version out of production."""
        return _milestone(self._last(Lifecycle.ROLLED_BACK))

    @property
    def retired(self) -> Milestone | None:
        """When a promotion pushed the version out of the rollback slot."""
        change = self._last(Lifecycle.RETIRED)
        if change is None:
            return None
        reason = f"superseded when v{change.champion} was promoted ({change.reason})"
        return Milestone(change.at, change.by, reason, change.seq)

    @property
    def decommissioned(self) -> Milestone | None:
        """When the version was retired for good."""
        return _milestone(self._last(Lifecycle.DECOMMISSIONED))

    def _last(self, lifecycle: Lifecycle, action: Action | None = None) -> StateChange | None:
        matches = [
            s
            for s in self.states
            if s.lifecycle == lifecycle and (action is None or s.action == action)
        ]
        return matches[-1] if matches else None


def _milestone(change: StateChange | None) -> Milestone | None:
    return None if change is None else Milestone(change.at, change.by, change.reason, change.seq)


@dataclass
class ModelHistory:
    """Every version's history, the aliases the log says each version holds, the champions."""

    versions: dict[str, VersionHistory] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    champions: list[ChampionInterval] = field(default_factory=list)

    def state(self, version: str) -> VersionHistory | None:
        """The history of ``version``, or ``None`` when the log never saw it trained."""
        return self.versions.get(str(version))

    def champion_before(self, seq: int) -> str | None:
        """The version that held ``champion`` just before event ``seq``, or None."""
        for interval in self.champions:
            if interval.covers_moment_before(seq):
                return interval.version
        return None

    def apply(self, event: AuditEvent) -> None:
        """Advance the history by one event of this model, as its rulebook step says."""
        handler = _HANDLERS.get(event.action)
        step = transition_for(event.action, event.payload)
        if handler is not None and step is not None:
            handler(self, event, str(event.version), event.payload, step)

    def _set(
        self,
        version: str | None,
        lifecycle: Lifecycle,
        event: AuditEvent,
        reason: str | None = None,
        champion: str | None = None,
    ) -> None:
        history = self.versions.get(version) if version is not None else None
        if history is not None:
            change = StateChange(
                lifecycle, Action(event.action), event.seq, event.ts, event.actor, reason, champion
            )
            history.states.append(change)

    def _crown(self, version: str, event: AuditEvent) -> None:
        """Make ``version`` champion from ``event`` on, ending the reign before it."""
        self._end_reign(event)
        self.aliases[Alias.CHAMPION] = version
        self.champions.append(ChampionInterval(version, event.seq, event.ts))

    def _end_reign(self, event: AuditEvent) -> None:
        if self.champions and self.champions[-1].to_seq is None:
            self.champions[-1].to_seq, self.champions[-1].to_ts = event.seq, event.ts

    def _drop_candidate(self, version: str) -> None:
        if self.aliases.get(Alias.CANDIDATE) == version:
            del self.aliases[Alias.CANDIDATE]

    def _on_trained(
        self, event: AuditEvent, version: str, payload: dict[str, Any], step: Transition
    ) -> None:
        start = StateChange(step.to_state, step.action, event.seq, event.ts, event.actor)
        self.versions[version] = VersionHistory(
            author=event.actor, states=[start], author_key=_signing_key(payload)
        )

    def _on_gated(
        self, event: AuditEvent, version: str, payload: dict[str, Any], step: Transition
    ) -> None:
        history = self.versions[version]
        history.gated, history.gates_passed = True, bool(payload["gates"]["passed"])
        history.gated_policy_sha256 = payload["gates"].get("policy_sha256")
        lifecycle = Lifecycle(payload["lifecycle"])
        self._set(version, lifecycle, event)
        if lifecycle == Lifecycle.PENDING_SIGNOFF:
            self.aliases[Alias.CANDIDATE] = version

    def _on_failed(
        self, event: AuditEvent, version: str, payload: dict[str, Any], step: Transition
    ) -> None:
        self._set(version, step.to_state, event, payload.get("error"))

    def _on_approved(
        self, event: AuditEvent, version: str, payload: dict[str, Any], step: Transition
    ) -> None:
        approval = Approval(
            event.actor,
            event.ts,
            event.seq,
            payload.get("comment", ""),
            bool(payload.get("automatic")),
            payload["required"],
            _signing_key(payload),
        )
        self.versions[version].approvals.append(approval)
        if payload["approvals"] >= payload["required"]:
            self._set(version, step.to_state, event)

    def _on_rejected(
        self, event: AuditEvent, version: str, payload: dict[str, Any], step: Transition
    ) -> None:
        self._set(version, step.to_state, event, payload.get("comment", ""))
        self._drop_candidate(version)

    def promotion_moves(self) -> dict[str, str | None]:
        """What a promotion moves besides the version it crowns, by this history.

        The champion becomes ``previous``; the former ``previous`` is ``retired``, unless
        there is no champion (it then stays ``previous``).
        """
        champion = self.aliases.get(Alias.CHAMPION)
        previous = self.aliases.get(Alias.PREVIOUS)
        retired = previous if previous is not None and champion not in (None, previous) else None
        return {"previous": champion, "retired": retired}

    def rollback_moves(self) -> dict[str, str | None]:
        """What a rollback moves besides the version it restores: the champion is demoted."""
        return {"demoted": self.aliases.get(Alias.CHAMPION)}

    def _on_promoted(
        self, event: AuditEvent, version: str, payload: dict[str, Any], step: Transition
    ) -> None:
        previous, retired = payload.get("previous"), payload.get("retired")
        reason = payload.get("reason")
        self._set(retired, Lifecycle.RETIRED, event, reason, version)
        self._set(previous, Lifecycle.PREVIOUS, event, reason, version)
        self._set(version, step.to_state, event, reason, version)
        self._drop_candidate(version)
        self._crown(version, event)
        if previous is not None:
            self.aliases[Alias.PREVIOUS] = previous
        elif self.aliases.get(Alias.PREVIOUS) == version:
            del self.aliases[Alias.PREVIOUS]

    def _on_rolled_back(
        self, event: AuditEvent, version: str, payload: dict[str, Any], step: Transition
    ) -> None:
        reason = payload.get("reason")
        self._set(payload.get("demoted"), Lifecycle.ROLLED_BACK, event, reason, version)
        self._set(version, step.to_state, event, reason, version)
        self._crown(version, event)
        self.aliases.pop(Alias.PREVIOUS, None)

    def _on_decommissioned(
        self, event: AuditEvent, version: str, payload: dict[str, Any], step: Transition
    ) -> None:
        self._set(version, step.to_state, event, payload.get("reason"))
        if self.aliases.get(Alias.CHAMPION) == version:
            self._end_reign(event)
        self.aliases = {a: v for a, v in self.aliases.items() if v != version}

    def _on_registry_deleted(
        self, event: AuditEvent, version: str, payload: dict[str, Any], step: Transition
    ) -> None:
        history = self.versions.get(version)
        if history is not None:
            history.deleted_from_registry = Milestone(
                event.ts,
                event.actor,
                "deleted from the MLflow registry outside governance",
                event.seq,
            )


def _signing_key(payload: dict[str, Any]) -> str | None:
    """The public key that signed an event (checked by :mod:`governance.trust.signatures`)."""
    return payload.get("signed", {}).get("statement", {}).get("public_key")


_HANDLERS: dict[
    str, Callable[[ModelHistory, AuditEvent, str, dict[str, Any], Transition], None]
] = {
    Action.CANDIDATE_TRAINED: ModelHistory._on_trained,
    Action.CANDIDATE_GATED: ModelHistory._on_gated,
    Action.CANDIDATE_FAILED: ModelHistory._on_failed,
    Action.SIGNOFF_APPROVED: ModelHistory._on_approved,
    Action.SIGNOFF_REJECTED: ModelHistory._on_rejected,
    Action.VERSION_PROMOTED: ModelHistory._on_promoted,
    Action.VERSION_ROLLED_BACK: ModelHistory._on_rolled_back,
    Action.VERSION_DECOMMISSIONED: ModelHistory._on_decommissioned,
    Action.REGISTRY_VERSION_DELETED: ModelHistory._on_registry_deleted,
}
"""The actions that change what the log says of a version; the others are evidence only."""


def replay(events: Iterable[AuditEvent]) -> dict[str, ModelHistory]:
    """Replay the events in order; return each model's history.

    Parameters
    ----------
    events : iterable of AuditEvent
        Events ordered by seq (one model's or the whole log's).

    Returns
    -------
    dict of str to ModelHistory
        By model name. Events of a version the log never saw trained are skipped
        (``govern audit verify`` reports such versions).
    """
    histories: dict[str, ModelHistory] = {}
    for event in events:
        if event.model is None or event.version is None:
            continue
        history = histories.setdefault(event.model, ModelHistory())
        if event.action != Action.CANDIDATE_TRAINED and history.state(event.version) is None:
            continue
        history.apply(event)
    return histories


#: The decisions a lifecycle action records; one after an open intent means it got that far.
LIFECYCLE_DECISIONS = frozenset(
    {
        Action.SIGNOFF_APPROVED,
        Action.SIGNOFF_REJECTED,
        Action.VERSION_RELEASED,
        Action.VERSION_PROMOTED,
        Action.VERSION_ROLLED_BACK,
        Action.VERSION_DECOMMISSIONED,
    }
)


def open_intents(events: list[AuditEvent]) -> list[tuple[AuditEvent, bool]]:
    """Each ``lifecycle.intent`` without a completion, and whether its decisions were made.

    The model's lease keeps lifecycle actions one at a time, so the decisions between an
    intent and the next one are that intent's.
    """
    completed = {
        e.payload.get("intent_seq") for e in events if e.action == Action.LIFECYCLE_COMPLETED
    }
    intents = [e for e in events if e.action == Action.LIFECYCLE_INTENT]
    found = []
    for index, intent in enumerate(intents):
        if intent.seq in completed:
            continue
        until = intents[index + 1].seq if index + 1 < len(intents) else None
        decided = any(
            e.action in LIFECYCLE_DECISIONS
            and e.seq > intent.seq
            and (until is None or e.seq < until)
            for e in events
        )
        found.append((intent, decided))
    return found
