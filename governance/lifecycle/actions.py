"""The lifecycle of a registered version: sign-off, promotion, rollback, decommissioning.

States (the ``lifecycle`` tag)::

    validating -> pending-signoff -> approved -> champion -> previous -> retired
               -> rejected (gates failed, or a validator rejected it)
    champion --rollback--> rolled-back          any --decommission--> decommissioned

Aliases: ``candidate`` (awaiting sign-off), ``champion`` (in production), ``previous``
(the champion before it, the rollback target). Every decision is appended to the audit
log signed by whoever made it (:mod:`governance.trust.signatures`): each function takes the
decider's :class:`~governance.trust.identity.Signer`, and the policy this process holds, which
must be the one in force. Changes hold the model's lease (:mod:`governance.lifecycle.lease`), so two
of them cannot interleave.

Each action is crash-safe in three steps: a ``lifecycle.intent`` event; then every
decision of the action (an approval, its release and the promotion it triggers) in one
transaction, the point of no return; then the registry set from the log
(:func:`governance.lifecycle.view.sync_view`) and a ``lifecycle.completed`` event. A crash before
the decisions leaves the registry as it was; a crash after them leaves decisions the
registry does not show yet. Either way ``govern audit reconcile`` finds the intent
without a completion and undoes or finishes the action (:mod:`governance.lifecycle.reconcile`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Literal

from mlflow.exceptions import MlflowException

from governance.ledger import AuditEvent, last_event
from governance.ledger.replay import ModelHistory, VersionHistory, replay
from governance.lifecycle.lease import model_lease
from governance.lifecycle.rule_checks import Request, enforce
from governance.lifecycle.version_state import (
    VersionState,
    now,
    read_state,
    tagged_state,
    verified_events,
    verified_history,
)
from governance.lifecycle.view import sync_view
from governance.stores.artifacts import verified_artifacts
from governance.stores.handle import Stores
from governance.stores.version_tags import gate_tags
from governance.trust.checkpoints import Recorder, write_checkpoint
from governance.trust.identity import Signer, release_signing_key
from governance.trust.policy_store import LoadedPolicy, require_in_force
from governance.trust.release import sign_release
from governance.trust.signatures import (
    Decision,
    Presigned,
    key_sponsors,
    record_decisions,
    signature_token,
    statement_bytes,
    statement_for,
)
from validation.policy import ReleaseSigner
from vocabulary import Action, Alias, Lifecycle, RecordedNotApplied, Tag, UsageError
from vocabulary.rulebook import AUTO_APPROVER, REPLACES, transition

__all__ = [
    "approve",
    "decommission",
    "hand_over_to_signoff",
    "pending_signoffs",
    "promote",
    "reject",
    "rollback",
    "sign_decision",
]


@dataclass
class _Journal:
    """A lifecycle action between its intent and its completion, and what it decided."""

    stores: Stores
    policy: LoadedPolicy
    model: str
    keyholder: Signer | None
    history: ModelHistory
    decided: list[AuditEvent] = field(default_factory=list)

    def decide(self, decisions: list[Decision]) -> None:
        """Append ``decisions`` at once, then checkpoint each event.

        Each signer checkpoints its own event; a decision signed elsewhere is checkpointed
        by the keyholder (the service recording it), or by the next checkpoint without one.
        """
        stores = self.stores
        events = record_decisions(
            stores.audit, decisions, policy_sha256=self.policy.sha256, time=now()
        )
        self.decided = events
        for decision, event in zip(decisions, events, strict=True):
            signer = decision.signer if isinstance(decision.signer, Signer) else self.keyholder
            if signer is not None:
                write_checkpoint(
                    stores.settings.checkpoint_path, stores.client, self.model, signer, event, now()
                )

    def show(self) -> None:
        """Set the registry from the log, without reading and verifying it all again.

        The view is the verified history the action was checked on, advanced by the
        decisions it appended: the lease kept anyone else from deciding in between.
        """
        for event in self.decided:
            self.history.apply(event)
        sync_view(self.stores, self.model, self.history)

    def note(self, actor: str, action: Action, payload: dict[str, Any]) -> AuditEvent:
        """Append an intent or completion, checkpointed by the keyholder when there is one."""
        return Recorder.of(self.stores, self.keyholder).record(
            action, payload, model=self.model, actor=actor
        )


@contextmanager
def _journal(
    stores: Stores,
    policy: LoadedPolicy,
    keyholder: Signer | None,
    actor: str,
    action: str,
    model: str,
    version: str,
    history: ModelHistory,
) -> Iterator[_Journal]:
    """Bracket an action with its intent and completion events; say what a failure left.

    Both concern the model, not the version, so that they never become the version's
    newest event, which a decision signed elsewhere names (``govern signoff sign``). An
    action that fails before its decisions are appended is closed as not done (a refusal
    leaves no open intent); one that fails after them raises :class:`RecordedNotApplied`:
    the decisions are in force, only the registry's view lags, and ``govern audit
    reconcile`` finishes it.
    """
    journal = _Journal(stores, policy, model, keyholder, history)
    intent = journal.note(actor, Action.LIFECYCLE_INTENT, {"action": action, "version": version})
    closing = {"intent_seq": intent.seq, "action": action, "version": version}
    try:
        yield journal
    except BaseException as error:
        if journal.decided:
            seqs = ", ".join(str(e.seq) for e in journal.decided)
            raise RecordedNotApplied(
                f"the {action} of {model} version {version} is decided and recorded (event seq "
                f"{seqs}) and in force for the loader and every rule, but the registry was not "
                f"updated ({type(error).__name__}: {error}); run `govern audit reconcile "
                f"{model} --as NAME` when it is back, not the {action} again"
            ) from error
        with suppress(Exception):  # a store that is down leaves the intent to reconcile
            outcome = f"not done: {type(error).__name__}: {error}"[:500]
            journal.note(actor, Action.LIFECYCLE_COMPLETED, {**closing, "outcome": outcome})
        raise
    journal.note(actor, Action.LIFECYCLE_COMPLETED, {**closing, "outcome": "completed"})


def _enforce(
    stores: Stores,
    policy: LoadedPolicy,
    step: str,
    model: str,
    version: str,
    signer: Signer | Presigned,
    history: ModelHistory,
    actor: str | None = None,
) -> None:
    """Refuse the lifecycle ``step`` if the rulebook does (:mod:`~.rule_checks`)."""
    request = Request(
        transition(step),
        policy.file,
        model,
        version,
        actor or signer.name,
        signer.name,
        signer.public_key,
        sponsors=key_sponsors(stores.audit.events()),
    )
    enforce(request, history)


@dataclass(frozen=True)
class PendingSignoff:
    """A version waiting for sign-off, by the verified log.

    ``registry_agrees`` is False when the registry's tags say otherwise (someone edited
    them in the MLflow UI): the listing shows the log, and ``govern audit verify`` names
    the edit.
    """

    model: str
    version: str
    author: str
    gates_passed: bool
    gates_failed: str
    approvals: tuple[str, ...]
    run_id: str
    experiment_id: str | None
    registry_agrees: bool


def pending_signoffs(stores: Stores, model: str | None = None) -> list[PendingSignoff]:
    """Versions waiting for sign-off by the verified audit log, never by registry tags.

    Raises
    ------
    IntegrityError
        If the log (or a signed decision in it) does not verify.
    """
    events = verified_events(stores)
    rows = []
    for name, history in replay(events).items():
        if model is not None and name != model:
            continue
        for version, state in history.versions.items():
            if state.lifecycle == Lifecycle.PENDING_SIGNOFF:
                own = [e for e in events if (e.model, e.version) == (name, version)]
                rows.append(_pending(stores, name, version, state, own))
    return sorted(rows, key=lambda r: (r.model, int(r.version)))


def _pending(
    stores: Stores, model: str, version: str, state: VersionHistory, events: list[AuditEvent]
) -> PendingSignoff:
    run_id = last_event(events, Action.CANDIDATE_TRAINED).payload["run_id"]
    gated = last_event(events, Action.CANDIDATE_GATED)
    failed = gate_tags(gated.payload["gates"])[Tag.GATES_FAILED] if gated else ""
    try:
        tagged = tagged_state(stores.client.get_model_version(model, version))
        agrees = (tagged.lifecycle, tagged.author, sorted(tagged.approvers)) == (
            state.lifecycle,
            state.author,
            sorted(state.approvers),
        )
        experiment = stores.client.get_run(run_id).info.experiment_id
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        agrees, experiment = False, None  # deleted from the registry: the log still has it
    return PendingSignoff(
        model,
        version,
        state.author,
        state.gates_passed,
        failed,
        tuple(state.approvers),
        run_id,
        experiment,
        agrees,
    )


def approve(
    stores: Stores,
    policy: LoadedPolicy,
    model: str,
    version: str,
    signer: Signer | Presigned,
    comment: str,
    *,
    actor: str | None = None,
    service: Signer | None = None,
) -> dict[str, Any]:
    """Record an approval; the last required one releases the version and promotes it.

    Parameters
    ----------
    stores, policy, model, version
        Where, under which policy (it must be in force), which version.
    signer
        The validator, holding their key, or their approval signed elsewhere
        (``govern signoff sign``, checked by :func:`~governance.trust.policy_store.presigned_for`).
    comment
        Why.
    actor
        :data:`~governance.trust.signatures.AUTO_APPROVER` for an automatic approval, which the
        retrain's author signs; otherwise the signer.
    service
        Who records an approval signed elsewhere (a Prefect worker, an operator holding
        its own key): it signs the release and the promotion the approval triggers, which
        the validator could not sign in advance.

    Returns
    -------
    dict
        ``approvals``, ``required``, ``promoted`` (the promotion event payload or None),
        ``policy_sha256`` (the policy in force) and ``gated_under_policy_sha256`` (the
        policy the gates ran under, when it was another; the approval records it too).
    """
    require_in_force(stores.audit, policy)
    actor = actor or signer.name
    with model_lease(stores.audit.engine, model, actor):
        history = verified_history(stores, model)
        state = read_state(stores, model, version, history)
        _enforce(stores, policy, "approve", model, version, signer, history, actor)
        payload = approval_payload(policy, state, actor, comment)
        approvals, required = payload["approvals"], payload["required"]
        complete = approvals >= required
        # The last approval releases the version: refuse now, not half-way, if it cannot.
        release = _release_signer(stores, policy) if complete else None
        follower = service or signer
        if complete and isinstance(follower, Presigned):
            raise UsageError(
                f"{signer.name}'s approval was signed elsewhere; whoever records it must sign "
                f"the release and promotion it triggers with a key of their own "
                f"(GOVERN_SERVICE_ACTOR on a Prefect worker)"
            )
        follows = actor if service is None else service.name
        promoted = None
        keyholder = signer if isinstance(signer, Signer) else service
        with _journal(
            stores, policy, keyholder, actor, "approve", model, version, history
        ) as journal:
            decisions = [Decision(signer, actor, Action.SIGNOFF_APPROVED, payload, model, version)]
            if release is not None:
                local, trained = verified_artifacts(stores, model, version)
                released = sign_release(stores, release, local, trained.payload["run_id"])
                decisions.append(
                    Decision(follower, follows, Action.VERSION_RELEASED, released, model, version)
                )
                if policy.policy.promote_on_approval:
                    # The approval itself authorises this promotion, so the approver is
                    # recorded as promoter even when the policy does not list them as an
                    # operator.
                    promoted = _promotion(history, version, "sign-off complete")
                    decisions.append(
                        Decision(
                            follower, follows, Action.VERSION_PROMOTED, promoted, model, version
                        )
                    )
            journal.decide(decisions)
            journal.show()
    return {
        "approvals": approvals,
        "required": required,
        "promoted": promoted,
        "gated_under_policy_sha256": payload.get("gated_under_policy_sha256"),
        "registry_edited": payload.get("registry_edited", []),
        "policy_sha256": policy.sha256,
    }


def approval_payload(
    policy: LoadedPolicy, state: VersionState, actor: str, comment: str
) -> dict[str, Any]:
    """What an approval of ``state`` by ``actor`` records (and its maker signs)."""
    payload: dict[str, Any] = {
        "comment": comment,
        "approvals": len(state.approvals) + 1,
        "required": policy.policy.approvals_required,
        "automatic": actor == AUTO_APPROVER,
    }
    # A policy adopted after the gates ran: the approval goes ahead under the policy in
    # force (which the statement signs), and says on the record that the gates were not.
    if state.gated_policy_sha256 != policy.sha256:
        payload["gated_under_policy_sha256"] = state.gated_policy_sha256
    # Tags or the description edited in the MLflow UI: the approval does not wait for a
    # repair nobody can make (the description's text is not on the log), but says on the
    # signed record what the approver's view showed that the log does not.
    if state.registry_edits:
        payload["registry_edited"] = list(state.registry_edits)
    return payload


def sign_decision(
    stores: Stores,
    policy: LoadedPolicy,
    model: str,
    version: str,
    signer: Signer | Presigned,
    decision: Literal["approve", "reject"],
    comment: str,
) -> str:
    """Sign an approval or rejection here, to be recorded elsewhere (the Prefect-UI form).

    The statement is the one :func:`approve` or :func:`reject` would sign now, after the
    same rules: recorded later, it must still be that statement to the byte. Given a
    decision signed elsewhere (:class:`Presigned`, at its stated time), it checks, without
    writing anything, that recording it now would succeed.

    Returns
    -------
    str
        The signed statement as one line of text
        (:func:`~governance.trust.signatures.signature_token`).

    Raises
    ------
    NotAuthorised
        If a sign-off rule refuses, as for :func:`approve` and :func:`reject`.
    """
    require_in_force(stores.audit, policy)
    history = verified_history(stores, model)
    state = read_state(stores, model, version, history)
    _enforce(stores, policy, decision, model, version, signer, history)
    if decision == "approve":
        action, payload = (
            Action.SIGNOFF_APPROVED,
            approval_payload(policy, state, signer.name, comment),
        )
    else:
        if not comment.strip():
            raise UsageError("a rejection needs --comment explaining why, got an empty comment")
        action, payload = Action.SIGNOFF_REJECTED, {"comment": comment}
    statement = statement_for(
        action,
        model,
        version,
        payload,
        stores.audit.events(model=model, version=version),
        policy.sha256,
        signer.name,
        signer.public_key,
        signer.time if isinstance(signer, Presigned) else now(),
    )
    return signature_token(statement, signer.sign(statement_bytes(statement)))


def _release_signer(stores: Stores, policy: LoadedPolicy) -> ReleaseSigner:
    """The policy's release signer, whose key this process must hold.

    Raises
    ------
    UsageError
        If the policy names no release signer.
    NotAuthorised
        If this process does not hold the release key the policy lists.
    """
    release = policy.file.release
    if release is None:
        raise UsageError(
            f"the policy in force ({policy.path}) names no release signer ('release:'), so an "
            f"approved version could not be signed for release; an owner adds one "
            f"(`govern keys create NAME --release`) and adopts the policy"
        )
    release_signing_key(stores.settings.keys_dir, release.signer, release.public_key)
    return release


def hand_over_to_signoff(
    stores: Stores, policy: LoadedPolicy, model: str, version: str, author: Signer
) -> str:
    """After the gates passed: approve automatically if the policy allows; return the state.

    The automatic approval is recorded as :data:`~governance.trust.signatures.AUTO_APPROVER`
    and signed by the retrain's ``author``: the policy allowed it, the author vouches
    that the gates it records are the ones that ran.
    """
    if policy.policy.auto_approve_when_gates_pass:
        approve(stores, policy, model, version, author, "all gates passed", actor=AUTO_APPROVER)
    return stores.client.get_model_version(model, version).tags[Tag.LIFECYCLE]


def reject(
    stores: Stores,
    policy: LoadedPolicy,
    model: str,
    version: str,
    signer: Signer | Presigned,
    comment: str,
    service: Signer | None = None,
) -> None:
    """Reject a pending version for good; the comment is mandatory.

    ``service`` records a rejection signed elsewhere, as for :func:`approve`.
    """
    if not comment.strip():
        raise UsageError("a rejection needs --comment explaining why, got an empty comment")
    require_in_force(stores.audit, policy)
    with model_lease(stores.audit.engine, model, signer.name):
        history = verified_history(stores, model)
        read_state(stores, model, version, history)
        _enforce(stores, policy, "reject", model, version, signer, history)
        keyholder = signer if isinstance(signer, Signer) else service
        with _journal(
            stores, policy, keyholder, signer.name, "reject", model, version, history
        ) as journal:
            rejection = {"comment": comment}
            journal.decide(
                [Decision(signer, signer.name, Action.SIGNOFF_REJECTED, rejection, model, version)]
            )
            client = stores.client
            client.set_model_version_tag(model, version, Tag.REJECTED_BY, signer.name)
            client.set_model_version_tag(model, version, Tag.REJECTION_COMMENT, comment)
            journal.show()


def promote(
    stores: Stores, policy: LoadedPolicy, model: str, version: str, signer: Signer, reason: str
) -> dict[str, Any]:
    """Make an approved version the champion; the old champion becomes ``previous``.

    The champion it replaces and the ``previous`` it retires are the log's, not whatever
    the registry's aliases say: an alias moved in the MLflow UI is overwritten, never
    written into the record.

    Raises
    ------
    NotAuthorised
        If the actor may not operate the model, the version is not approved, or another
        lifecycle change of the model is in progress.
    """
    require_in_force(stores.audit, policy)
    with model_lease(stores.audit.engine, model, signer.name):
        history = verified_history(stores, model)
        read_state(stores, model, version, history)
        _enforce(stores, policy, "promote", model, version, signer, history)
        payload = _promotion(history, version, reason)
        with _journal(
            stores, policy, signer, signer.name, "promote", model, version, history
        ) as journal:
            journal.decide(
                [Decision(signer, signer.name, Action.VERSION_PROMOTED, payload, model, version)]
            )
            journal.show()
    return payload


def _promotion(history: ModelHistory, version: str, reason: str) -> dict[str, Any]:
    """What promoting ``version`` moves, by the log: the champion to previous, and so on."""
    return {"reason": reason, "champion": version, **history.promotion_moves()}


def rollback(stores: Stores, policy: LoadedPolicy, model: str, signer: Signer, reason: str) -> dict:
    """Make the log's ``previous`` the champion again; the demoted one becomes ``rolled-back``.

    Raises
    ------
    UsageError
        If the log names no previous champion.
    NotAuthorised
        If the target is not a version that was approved, passed its gates and is not
        decommissioned (whatever the registry's ``previous`` alias says).
    """
    if not reason.strip():
        raise UsageError("a rollback needs --reason, got an empty reason")
    require_in_force(stores.audit, policy)
    with model_lease(stores.audit.engine, model, signer.name):
        history = verified_history(stores, model)
        target = history.aliases.get(Alias.PREVIOUS)
        if target is None:
            raise UsageError(f"cannot roll back {model}: the audit log names no previous champion")
        _enforce(stores, policy, "rollback", model, target, signer, history)
        payload = {"reason": reason, "champion": target, **history.rollback_moves()}
        with _journal(
            stores, policy, signer, signer.name, "rollback", model, target, history
        ) as journal:
            journal.decide(
                [Decision(signer, signer.name, Action.VERSION_ROLLED_BACK, payload, model, target)]
            )
            journal.show()
    return payload


def decommission(
    stores: Stores,
    policy: LoadedPolicy,
    model: str,
    version: str,
    signer: Signer,
    reason: str,
    replacement: str | None,
    no_replacement: bool,
) -> dict[str, Any]:
    """Retire a version for good: aliases removed, artifacts kept, never promotable again.

    Decommissioning the champion needs a ``replacement`` (an approved, previous or
    rolled-back version, which becomes champion) or an explicit ``no_replacement``.
    """
    if not reason.strip():
        raise UsageError("decommissioning needs --reason, got an empty reason")
    if replacement is not None and no_replacement:
        raise UsageError("give either --replacement or --no-replacement, not both")
    require_in_force(stores.audit, policy)
    actor = signer.name
    with model_lease(stores.audit.engine, model, actor):
        history = verified_history(stores, model)
        state = read_state(stores, model, version, history)
        _enforce(stores, policy, "decommission", model, version, signer, history)
        is_champion = Alias.CHAMPION in state.aliases
        if replacement is not None and not is_champion:
            raise UsageError(
                f"--replacement only applies when decommissioning the champion; {model} "
                f"version {version} is {state.lifecycle!r}"
            )
        if is_champion and replacement is None and not no_replacement:
            raise UsageError(
                f"{model} version {version} is the champion: decommissioning it needs "
                f"--replacement VERSION or --no-replacement"
            )
        if replacement is not None:
            read_state(stores, model, replacement, history)
            _enforce(stores, policy, "replace", model, replacement, signer, history)
        payload = {
            "reason": reason,
            "was_champion": is_champion,
            "aliases_removed": list(state.aliases),
            "replacement": replacement,
        }
        decisions = [
            Decision(signer, actor, Action.VERSION_DECOMMISSIONED, payload, model, version)
        ]
        if replacement is not None:
            installed = {
                "reason": f"replaces decommissioned version {version}",
                "champion": replacement,
                REPLACES: version,
                "previous": None,
                "retired": None,
            }
            decisions.append(
                Decision(signer, actor, Action.VERSION_PROMOTED, installed, model, replacement)
            )
        with _journal(
            stores, policy, signer, actor, "decommission", model, version, history
        ) as journal:
            journal.decide(decisions)
            for key, value in {
                Tag.DECOMMISSION_BY: actor,
                Tag.DECOMMISSION_REASON: reason,
                Tag.DECOMMISSION_AT: now(),
            }.items():
                stores.client.set_model_version_tag(model, version, key, value)
            journal.show()
    return payload
