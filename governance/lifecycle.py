"""The lifecycle of a registered version: sign-off, promotion, rollback, decommissioning.

States (the ``lifecycle`` tag)::

    validating -> pending-signoff -> approved -> champion -> previous -> retired
               -> rejected (gates failed, or a validator rejected it)
    champion --rollback--> rolled-back          any --decommission--> decommissioned

Aliases: ``candidate`` (awaiting sign-off), ``champion`` (in production), ``previous``
(the champion before it, the rollback target). Every change appends one audit event,
signed by whoever decided it (:mod:`governance.signatures`): each function takes the
decider's :class:`~governance.identity.Signer`, and the policy this process holds, which
must be the one in force. Changes that move aliases hold the model's lease
(:mod:`governance.lease`), so two of them cannot interleave; each re-reads the registry
after taking the lease.
"""

from __future__ import annotations

import json
from typing import Any

from governance.checkpoints import write_checkpoint
from governance.history import ModelHistory, VersionHistory
from governance.identity import Signer, release_signing_key
from governance.lease import model_lease
from governance.loading import find_alias, verified_artifacts
from governance.policy_store import LoadedPolicy, require_in_force
from governance.release import sign_release
from governance.signatures import AUTO_APPROVER, record_signed
from governance.signoff_rules import (
    check_operator,
    check_signoff,
    now,
    read_state,
    tagged_state,
    verified_history,
)
from governance.stores import Stores
from validation.policy import ReleaseSigner
from vocabulary import Action, Alias, Lifecycle, NotAuthorised, Tag, UsageError

__all__ = [
    "approve",
    "decommission",
    "hand_over_to_signoff",
    "pending_signoffs",
    "promote",
    "reject",
    "rollback",
]


def _decide(
    stores: Stores,
    policy: LoadedPolicy,
    signer: Signer,
    action: Action,
    model: str,
    version: str,
    payload: dict[str, Any],
    *,
    actor: str | None = None,
) -> None:
    """Append ``action`` signed by ``signer`` under ``policy`` (``actor`` defaults to them).

    Then the signer checkpoints the event outside the database (:mod:`governance.checkpoints`).
    """
    event = record_signed(
        stores.audit,
        signer,
        actor or signer.name,
        action,
        payload,
        model,
        version,
        policy_sha256=policy.sha256,
        time=now(),
    )
    write_checkpoint(stores.settings.checkpoint_path, stores.client, model, signer, event, now())


def pending_signoffs(stores: Stores, model: str | None = None) -> list[dict[str, Any]]:
    """Versions waiting for sign-off, with their gate results and runs."""
    client = stores.client
    query = f"tags.{Tag.LIFECYCLE} = '{Lifecycle.PENDING_SIGNOFF}'"
    if model:
        quoted = model.replace("'", "''")
        query = f"name = '{quoted}' and {query}"
    rows = []
    for mv in client.search_model_versions(query):
        state = tagged_state(mv)
        rows.append(
            {
                "model": state.model,
                "version": state.version,
                "author": state.author,
                "gates_passed": state.gates_passed,
                "gates_failed": mv.tags.get(Tag.GATES_FAILED, ""),
                "approvals": [a["by"] for a in state.approvals],
                "run_id": state.run_id,
                "experiment_id": client.get_run(state.run_id).info.experiment_id,
            }
        )
    return sorted(rows, key=lambda r: (r["model"], int(r["version"])))


def approve(
    stores: Stores,
    policy: LoadedPolicy,
    model: str,
    version: str,
    signer: Signer,
    comment: str,
    *,
    actor: str | None = None,
) -> dict[str, Any]:
    """Record an approval; once enough distinct validators approved, promote the version.

    Parameters
    ----------
    stores, policy, model, version
        Where, under which policy (it must be in force), which version.
    signer
        The validator, holding their key.
    comment
        Why.
    actor
        :data:`~governance.signatures.AUTO_APPROVER` for an automatic approval, which the
        retrain's author signs; otherwise the signer.

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
        return _approve_locked(stores, policy, model, version, signer, actor, comment)


def _approve_locked(
    stores: Stores,
    policy: LoadedPolicy,
    model: str,
    version: str,
    signer: Signer,
    actor: str,
    comment: str,
) -> dict[str, Any]:
    client = stores.client
    state = read_state(stores, model, version)
    check_signoff(policy.policy, state, actor, "approve", signer.public_key)
    approvals = [*state.approvals, {"by": actor, "at": now(), "comment": comment}]
    required = policy.policy.approvals_required
    complete = len(approvals) >= required
    if complete:
        # The last approval releases the version: refuse now, not half-way, if it cannot.
        release = _release_signer(stores, policy)
    client.set_model_version_tag(model, version, Tag.APPROVALS, json.dumps(approvals))
    payload = {
        "comment": comment,
        "approvals": len(approvals),
        "required": required,
        "automatic": actor == AUTO_APPROVER,
    }
    # A policy adopted after the gates ran: the approval goes ahead under the policy in
    # force (which the statement signs), and says on the record that the gates were not.
    gated_under = state.gated_policy_sha256
    if gated_under != policy.sha256:
        payload["gated_under_policy_sha256"] = gated_under
    _decide(stores, policy, signer, Action.SIGNOFF_APPROVED, model, version, payload, actor=actor)
    promoted = None
    if complete:
        client.set_model_version_tag(model, version, Tag.LIFECYCLE, Lifecycle.APPROVED)
        local, trained = verified_artifacts(stores, model, version)
        released = sign_release(stores, release, local, trained.payload["run_id"])
        _decide(
            stores, policy, signer, Action.VERSION_RELEASED, model, version, released, actor=actor
        )
        if policy.policy.promote_on_approval:
            # The approval itself authorises this promotion, so the approver is recorded
            # as promoter even when the policy does not list them as an operator.
            promoted = _promote_locked(
                stores, policy, model, version, signer, "sign-off complete", actor=actor
            )
    return {
        "approvals": len(approvals),
        "required": required,
        "promoted": promoted,
        "gated_under_policy_sha256": payload.get("gated_under_policy_sha256"),
        "policy_sha256": policy.sha256,
    }


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

    The automatic approval is recorded as :data:`~governance.signatures.AUTO_APPROVER`
    and signed by the retrain's ``author``: the policy allowed it, the author vouches
    that the gates it records are the ones that ran.
    """
    if policy.policy.auto_approve_when_gates_pass:
        approve(stores, policy, model, version, author, "all gates passed", actor=AUTO_APPROVER)
    return stores.client.get_model_version(model, version).tags[Tag.LIFECYCLE]


def reject(
    stores: Stores, policy: LoadedPolicy, model: str, version: str, signer: Signer, comment: str
) -> None:
    """Reject a pending version for good; the comment is mandatory."""
    if not comment.strip():
        raise UsageError("a rejection needs --comment explaining why, got an empty comment")
    require_in_force(stores.audit, policy)
    with model_lease(stores.audit.engine, model, signer.name):
        _reject_locked(stores, policy, model, version, signer, comment)


def _reject_locked(
    stores: Stores, policy: LoadedPolicy, model: str, version: str, signer: Signer, comment: str
) -> None:
    client = stores.client
    state = read_state(stores, model, version)
    check_signoff(policy.policy, state, signer.name, "reject", signer.public_key)
    for key, value in {
        Tag.LIFECYCLE: Lifecycle.REJECTED,
        Tag.REJECTED_BY: signer.name,
        Tag.REJECTION_COMMENT: comment,
    }.items():
        client.set_model_version_tag(model, version, key, value)
    if Alias.CANDIDATE in state.aliases:
        client.delete_registered_model_alias(model, Alias.CANDIDATE)
    _decide(stores, policy, signer, Action.SIGNOFF_REJECTED, model, version, {"comment": comment})


def promote(
    stores: Stores, policy: LoadedPolicy, model: str, version: str, signer: Signer, reason: str
) -> dict[str, Any]:
    """Make an approved version the champion; the old champion becomes ``previous``.

    Raises
    ------
    NotAuthorised
        If the actor may not operate the model, the version is not approved, or another
        lifecycle change of the model is in progress.
    """
    check_operator(policy.policy, model, signer.name, "promote")
    require_in_force(stores.audit, policy)
    with model_lease(stores.audit.engine, model, signer.name):
        return _promote_locked(stores, policy, model, version, signer, reason)


def _promote_locked(
    stores: Stores,
    policy: LoadedPolicy,
    model: str,
    version: str,
    signer: Signer,
    reason: str,
    *,
    actor: str | None = None,
) -> dict:
    """Promote; the caller holds the model's lease.

    The champion it replaces and the ``previous`` it retires are the log's, not whatever
    the registry's aliases say: an alias moved in the MLflow UI is overwritten, never
    written into the record.
    """
    client = stores.client
    history = verified_history(stores, model)
    state = read_state(stores, model, version, history)
    if state.lifecycle != Lifecycle.APPROVED:
        raise NotAuthorised(
            f"refused by rule 'only approved versions are promoted': {model} version "
            f"{version} is {state.lifecycle!r}"
        )
    champion = history.aliases.get(Alias.CHAMPION)
    previous = history.aliases.get(Alias.PREVIOUS)
    retired = previous if previous is not None and champion not in (None, previous) else None
    client.set_registered_model_alias(model, Alias.CHAMPION, version)
    client.set_model_version_tag(model, version, Tag.LIFECYCLE, Lifecycle.CHAMPION)
    _drop_alias(stores, model, Alias.CANDIDATE, version)
    if champion is not None:
        client.set_registered_model_alias(model, Alias.PREVIOUS, champion)
        client.set_model_version_tag(model, champion, Tag.LIFECYCLE, Lifecycle.PREVIOUS)
    if retired is not None:
        client.set_model_version_tag(model, retired, Tag.LIFECYCLE, Lifecycle.RETIRED)
    payload = {"reason": reason, "champion": version, "previous": champion, "retired": retired}
    _decide(stores, policy, signer, Action.VERSION_PROMOTED, model, version, payload, actor=actor)
    return payload


def _drop_alias(stores: Stores, model: str, alias: Alias, version: str) -> None:
    """Remove ``alias`` from the registry if it points at ``version`` there."""
    found = find_alias(stores.client, model, alias)
    if found is not None and str(found.version) == version:
        stores.client.delete_registered_model_alias(model, alias)


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
    check_operator(policy.policy, model, signer.name, "roll back")
    require_in_force(stores.audit, policy)
    with model_lease(stores.audit.engine, model, signer.name):
        history = verified_history(stores, model)
        champion = history.aliases.get(Alias.CHAMPION)
        target = history.aliases.get(Alias.PREVIOUS)
        if target is None:
            raise UsageError(f"cannot roll back {model}: the audit log names no previous champion")
        _check_rollback_target(model, target, history.state(target))
        client = stores.client
        client.set_registered_model_alias(model, Alias.CHAMPION, target)
        _drop_alias(stores, model, Alias.PREVIOUS, target)
        client.set_model_version_tag(model, target, Tag.LIFECYCLE, Lifecycle.CHAMPION)
        if champion is not None:
            client.set_model_version_tag(model, champion, Tag.LIFECYCLE, Lifecycle.ROLLED_BACK)
        payload = {"reason": reason, "champion": target, "demoted": champion}
        _decide(stores, policy, signer, Action.VERSION_ROLLED_BACK, model, target, payload)
    return payload


def _check_rollback_target(model: str, version: str, state: VersionHistory | None) -> None:
    ok = (
        state is not None
        and state.gates_passed
        and bool(state.approvers)
        and state.lifecycle == Lifecycle.PREVIOUS
    )
    if not ok:
        found = "unknown to the log" if state is None else repr(state.lifecycle)
        raise NotAuthorised(
            f"refused by rule 'roll back only to an approved, gated, live version': {model} "
            f"version {version} is {found}"
        )


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
    check_operator(policy.policy, model, signer.name, "decommission")
    require_in_force(stores.audit, policy)
    actor = signer.name
    with model_lease(stores.audit.engine, model, actor):
        client = stores.client
        history = verified_history(stores, model)
        state = read_state(stores, model, version, history)
        if state.lifecycle == Lifecycle.DECOMMISSIONED:
            raise UsageError(f"{model} version {version} is already decommissioned")
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
            _install_replacement(stores, history, model, version, replacement)
        for alias in state.aliases:
            if not (alias == Alias.CHAMPION and replacement is not None):
                client.delete_registered_model_alias(model, alias)
        for key, value in {
            Tag.LIFECYCLE: Lifecycle.DECOMMISSIONED,
            Tag.DECOMMISSION_BY: actor,
            Tag.DECOMMISSION_REASON: reason,
            Tag.DECOMMISSION_AT: now(),
        }.items():
            client.set_model_version_tag(model, version, key, value)
        payload = {
            "reason": reason,
            "was_champion": is_champion,
            "aliases_removed": list(state.aliases),
            "replacement": replacement,
        }
        _decide(stores, policy, signer, Action.VERSION_DECOMMISSIONED, model, version, payload)
        if replacement is not None:
            _decide(
                stores,
                policy,
                signer,
                Action.VERSION_PROMOTED,
                model,
                replacement,
                {"reason": f"replaces decommissioned version {version}", "champion": replacement},
            )
    return payload


def _install_replacement(
    stores: Stores, history: ModelHistory, model: str, version: str, replacement: str
) -> None:
    client = stores.client
    target = read_state(stores, model, replacement, history)
    if replacement == version or not Lifecycle(target.lifecycle).promotable:
        raise NotAuthorised(
            f"refused by rule 'replacements must have been approved': {model} version "
            f"{replacement} is {target.lifecycle!r}"
        )
    client.set_registered_model_alias(model, Alias.CHAMPION, replacement)
    client.set_model_version_tag(model, replacement, Tag.LIFECYCLE, Lifecycle.CHAMPION)
    if Alias.PREVIOUS in target.aliases:
        client.delete_registered_model_alias(model, Alias.PREVIOUS)
