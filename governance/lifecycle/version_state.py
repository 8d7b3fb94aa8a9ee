"""The state a lifecycle step acts on: the model's verified history, and the registry's view.

A version's author, gate result, approvals and lifecycle state come from replaying the
audit log (:mod:`governance.ledger.replay`), because registry tags can be edited in the MLflow
UI; a registry that disagrees with the log is refused. The replay is read only after the
chain and every signed decision in it verify; the rulebook (:mod:`governance.lifecycle.rule_checks`)
judges a step on it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from governance.ledger import AuditEvent, last_event
from governance.ledger.replay import ModelHistory, replay
from governance.lifecycle.rule_checks import check_decisions
from governance.stores.handle import Stores
from governance.stores.version_tags import entry_edits
from governance.trust.checkpoints import raise_on_bad_checkpoints
from vocabulary import Action, IntegrityError, Lifecycle, Tag, UsageError

__all__ = [
    "VersionState",
    "now",
    "read_state",
    "tagged_state",
    "verified_events",
    "verified_history",
]


@dataclass(frozen=True)
class VersionState:
    """What the rules need to know about one version."""

    model: str
    version: str
    lifecycle: str
    author: str
    gates_passed: bool
    approvals: tuple[dict[str, str], ...]
    aliases: tuple[str, ...]  # by the audit log, from read_state; by the registry, tagged
    run_id: str
    gated_policy_sha256: str | None = None  # the policy its gates were judged under
    registry_edits: tuple[str, ...] = ()  # what its registry entry says that the log does not

    @property
    def approvers(self) -> set[str]:
        """Who approved so far."""
        return {a["by"] for a in self.approvals}


def now() -> str:
    """The current UTC time as ISO 8601 to the second, as decisions record it."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_state(
    stores: Stores, model: str, version: str, history: ModelHistory | None = None
) -> VersionState:
    """Read a version's state: rule-relevant fields from the audit log, the rest from MLflow.

    The author, gate result, approvals and lifecycle state that the rules rely on come
    from replaying the audit log, because registry tags can be edited in the MLflow UI;
    a registry that disagrees with the log is refused. ``history`` is the model's
    :func:`verified_history` when the caller read it already in the same step, so that
    one step verifies the chain once; without it the log is read and verified here.

    Raises
    ------
    UsageError
        If the model or version does not exist.
    IntegrityError
        If the audit log never recorded the version, or its tags contradict the log.
    """
    try:
        mv = stores.client.get_model_version(model, str(version))
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        raise UsageError(f"no version {version} of registered model {model!r}") from exc
    if history is None:
        history = verified_history(stores, model)
    expected = history.state(str(mv.version))
    if expected is None:
        raise IntegrityError(
            f"{model} version {version} is in the registry but the audit log never recorded "
            f"its training; refusing to act on it"
        )
    tagged = tagged_state(mv)
    recorded = (expected.lifecycle, sorted(expected.approvers))
    found = (tagged.lifecycle, sorted(tagged.approvers))
    if recorded != found:
        raise IntegrityError(
            f"{model} version {version}: registry says lifecycle {found[0]!r} approved by "
            f"{found[1]}, the audit log says {recorded[0]!r} approved by {recorded[1]}; "
            f"refusing to act (run govern audit verify)"
        )
    events = stores.audit.events(model=model)
    trained = last_event(
        (e for e in events if e.version == str(mv.version)), Action.CANDIDATE_TRAINED
    )
    return VersionState(
        model=tagged.model,
        version=tagged.version,
        lifecycle=Lifecycle(expected.lifecycle),
        author=expected.author,
        gates_passed=expected.gates_passed,
        approvals=tagged.approvals,
        aliases=tuple(sorted(a for a, v in history.aliases.items() if v == tagged.version)),
        run_id=tagged.run_id,
        gated_policy_sha256=expected.gated_policy_sha256,
        registry_edits=tuple(message for _, message in entry_edits(mv, trained, events)),
    )


def verified_events(stores: Stores) -> list[AuditEvent]:
    """The log's events that the rules may stand on: the chain verified, forgeries left out.

    A decision whose signature, key, role or rule does not check out (appended by a
    database writer without the key, or around the rules) is left out, as if it had not
    happened: ``govern audit verify`` reports it (exit 6), and it stops nobody, the
    emergency rollback included. What cannot be left out refuses: a broken chain, or a
    signed checkpoint the log contradicts (its newest rows deleted, or rewritten).

    Raises
    ------
    IntegrityError
        If the audit chain is broken or contradicts a signed checkpoint.
    """
    stores.audit.verify_or_raise()
    events = stores.audit.events()
    raise_on_bad_checkpoints(stores, events)
    rejected = {problem.seq for problem in check_decisions(events)}
    return [event for event in events if event.seq not in rejected]


def verified_history(stores: Stores, model: str) -> ModelHistory:
    """The model's history by the audit log's verified events (:func:`verified_events`).

    Every rule acts on this, never on registry tags or aliases, which anyone with access
    to the MLflow UI can edit.

    Raises
    ------
    IntegrityError
        If the audit chain is broken or contradicts a signed checkpoint.
    """
    events = (e for e in verified_events(stores) if e.model == model)
    return replay(events).get(model) or ModelHistory()


def tagged_state(mv: ModelVersion) -> VersionState:
    """The state the registry's tags claim (compared with the log, never trusted alone)."""
    tags = mv.tags
    return VersionState(
        model=mv.name,
        version=str(mv.version),
        lifecycle=tags.get(Tag.LIFECYCLE, "unknown"),
        author=tags.get(Tag.AUTHOR, ""),
        gates_passed=tags.get(Tag.GATES_PASSED) == "true",
        approvals=tuple(json.loads(tags.get(Tag.APPROVALS, "[]"))),
        aliases=tuple(mv.aliases or ()),
        run_id=tags.get(Tag.RUN_ID, mv.run_id or ""),
    )
