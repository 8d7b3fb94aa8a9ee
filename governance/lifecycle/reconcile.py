"""Putting the registry back from the audit log: ``govern audit reconcile``.

The registry's aliases and lifecycle tags are a view of the log that anyone with MLflow UI
access can edit. Nothing is decided on that view (the rules, promotion, rollback and the
governed loader all read the log), but people read it: reconciling makes it say again
what the log says, and records what it changed as one ``registry.reconciled`` event.
Versions the log never recorded are not touched; ``audit verify`` keeps reporting them.

A version deleted from the registry (the MLflow UI's delete) cannot be put back under its
number: MLflow never reuses one. The log, the version's run and its artifacts (which the
delete leaves) remain its record, and everything that decides or reports reads those.
Reconciling checks that the artifacts still hash to what the log recorded, then records
the loss as a ``registry.version_deleted`` event signed by the operator, once; ``audit
verify`` reports an unrecorded deletion as a finding and a recorded one as a fact.

A lifecycle action cut by a crash leaves a ``lifecycle.intent`` without its
``lifecycle.completed`` (:mod:`governance.lifecycle.actions`). If its decisions made it into the
log, reconciling *finishes* it: the registry is set from the log, as the action would
have. If they did not, it *undoes* it: the registry was not touched yet, so nothing is to
put back. Either way a ``lifecycle.completed`` event says which, and by whom.

A version still ``validating`` whose retrain is no longer alive (its process was killed:
no live :func:`~governance.lifecycle.lease.retrain_beacon`) can never finish its validation; it is
closed first, as the retrain itself would have closed it: its MLflow run ``FAILED``, the
version ``failed`` with a ``candidate.failed`` event that says why.
"""

from __future__ import annotations

from typing import Any

from governance.ledger.replay import ModelHistory, open_intents
from governance.lifecycle.lease import clear_dead_holders, model_lease, retrain_is_alive
from governance.lifecycle.rule_checks import require_role
from governance.lifecycle.version_state import now, verified_history
from governance.lifecycle.view import sync_view
from governance.stores.artifacts import verified_artifacts
from governance.stores.handle import Stores
from governance.stores.registry import registered_versions
from governance.stores.tracking import finish_run
from governance.trust.checkpoints import Recorder
from governance.trust.identity import Signer
from governance.trust.policy_store import LoadedPolicy, require_in_force
from governance.trust.signatures import record_signed
from vocabulary import Action, Lifecycle, Role, Tag

__all__ = ["reconcile"]


def reconcile(
    stores: Stores, policy: LoadedPolicy, model: str, signer: Signer
) -> list[dict[str, Any]]:
    """Set every alias, lifecycle tag and approvals tag of ``model`` to what the log says.

    ``signer`` is the operator, holding their key (the events reconcile writes change no
    decision, so they are recorded under the operator's name without a signature).

    Returns
    -------
    list of dict
        One ``{"subject", "was", "now"}`` per change; empty when the registry agreed.

    Raises
    ------
    NotAuthorised
        If the signer is neither a validator nor an operator of the model.
    IntegrityError
        If the audit chain is broken (a broken log cannot be the reference), the
        policy is not the one in force, or a deleted version's artifacts no longer hash
        to what the log recorded (its loss is then not recorded).
    """
    actor = signer.name
    require_role(policy.file, model, Role.OPERATOR, actor, "reconcile")
    require_in_force(stores.audit, policy)
    with model_lease(stores.audit.engine, model, actor):
        closed = _close_abandoned_retrains(
            stores, policy, model, verified_history(stores, model), signer
        )
        closed += _close_runs_killed_before_registration(stores, model)
        history = verified_history(stores, model)
        changes = sync_view(stores, model, history)
        recorder = Recorder.of(stores, signer)
        closed += _close_cut_actions(stores, model, recorder)
        closed += _record_deleted_versions(stores, policy, model, history, signer)
        if changes:
            recorder.record(Action.REGISTRY_RECONCILED, {"changes": changes}, model=model)
    return closed + changes


def _close_runs_killed_before_registration(stores: Stores, model: str) -> list[dict[str, Any]]:
    """Close as FAILED each run of ``model`` left RUNNING by a retrain that is gone.

    A retrain killed before it registered a version left no version to retire, only its
    open run (and, on SQLite, its lease's row, which nothing holds any more).
    """
    client = stores.client
    quoted = model.replace("'", "''")
    closed = []
    for run in client.search_runs(
        [stores.experiment_id()],
        f"tags.`governance.model` = '{quoted}' and attributes.status = 'RUNNING'",
    ):
        run_id = run.info.run_id
        if retrain_is_alive(stores.audit.engine, run_id):
            continue
        finish_run(client, run_id, "FAILED", "failed")
        client.set_tag(
            run_id, "failure.reason", "the retrain stopped before registering; closed by reconcile"
        )
        closed.append({"subject": f"run {run_id}", "was": "RUNNING", "now": "FAILED"})
    clear_dead_holders(stores.audit.engine)
    return closed


def _close_abandoned_retrains(
    stores: Stores, policy: LoadedPolicy, model: str, history: ModelHistory, signer: Signer
) -> list[dict[str, Any]]:
    """Close as failed, signed, every version left ``validating`` by a retrain that is gone."""
    client = stores.client
    closed = []
    for version, state in history.versions.items():
        if state.lifecycle != Lifecycle.VALIDATING:
            continue
        trained = next(
            e
            for e in stores.audit.events(model=model, version=version)
            if e.action == Action.CANDIDATE_TRAINED
        )
        run_id = trained.payload["run_id"]
        if retrain_is_alive(stores.audit.engine, run_id):
            continue
        reason = (
            f"the retrain of run {run_id} stopped before its gates (no live process holds "
            f"its lease); closed by reconcile"
        )
        if client.get_run(run_id).info.status == "RUNNING":
            finish_run(client, run_id, "FAILED", "failed")
            closed.append({"subject": f"run {run_id}", "was": "RUNNING", "now": "FAILED"})
        client.set_model_version_tag(model, version, Tag.LIFECYCLE, Lifecycle.FAILED)
        client.set_model_version_tag(model, version, Tag.FAILURE_REASON, reason)
        record_signed(
            stores.audit,
            signer,
            signer.name,
            Action.CANDIDATE_FAILED,
            {"run_id": run_id, "error": reason},
            model,
            version,
            policy_sha256=policy.sha256,
            time=now(),
            key=f"{run_id}:{Action.CANDIDATE_FAILED}",
        )
        closed.append(
            {"subject": f"{model} v{version} lifecycle", "was": "validating", "now": "failed"}
        )
    return closed


def _record_deleted_versions(
    stores: Stores, policy: LoadedPolicy, model: str, history: ModelHistory, signer: Signer
) -> list[dict[str, Any]]:
    """Record, signed, each version the registry lost and the log has not yet said so."""
    registered = registered_versions(stores.client, model)
    lost = [
        version
        for version, state in history.versions.items()
        if version not in registered and state.deleted_from_registry is None
    ]
    changes = []
    for version in lost:
        _, trained = verified_artifacts(stores, model, version)
        record_signed(
            stores.audit,
            signer,
            signer.name,
            Action.REGISTRY_VERSION_DELETED,
            {k: trained.payload[k] for k in ("model_uri", "model_sha256")},
            model,
            version,
            policy_sha256=policy.sha256,
            time=now(),
        )
        changes.append(
            {
                "subject": f"{model} v{version}",
                "was": "registered",
                "now": "deleted outside governance (recorded; artifacts verified)",
            }
        )
    return changes


def _close_cut_actions(stores: Stores, model: str, recorder: Recorder) -> list[dict[str, Any]]:
    """Record how each action cut in the middle ends: finished or undone."""
    closed = []
    for intent, decided in open_intents(stores.audit.events(model=model)):
        outcome = "finished by reconcile" if decided else "undone by reconcile"
        recorder.record(
            Action.LIFECYCLE_COMPLETED,
            {
                "intent_seq": intent.seq,
                "action": intent.payload["action"],
                "version": intent.payload["version"],
                "outcome": outcome,
            },
            model=model,
        )
        subject = (
            f"{model} {intent.payload['action']} of v{intent.payload['version']} "
            f"(intent seq {intent.seq}, by {intent.actor})"
        )
        closed.append({"subject": subject, "was": "cut", "now": outcome})
    return closed
