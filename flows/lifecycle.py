"""Lifecycle steps as Prefect flows, so automations and the Prefect UI can trigger them.

Each flow is a thin shell over :mod:`governance.lifecycle.actions`; the CLI calls the same
functions, so both paths write the same registry changes and audit events.

``await-signoff`` is how a validator signs off from the Prefect UI: the flow suspends
with a typed :class:`SignoffDecision` form that shows the version's evidence and takes the
validator's signature over the decision (made on their machine with ``govern signoff
sign``), and once submitted records it through the same rules and checks as ``govern
signoff approve|reject``: the worker holds no validator's key. A decision the rules or
the signature check refuse (a bad paste, a signature over another comment, the author's own
approval) changes nothing: the form is shown again with the reason, up to
``max_attempts`` times. The release and promotion an approval triggers are signed by the
worker's own identity (``GOVERN_SERVICE_ACTOR``, an operator).
"""

from typing import Literal

from prefect import flow, get_run_logger
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput
from pydantic import Field

from governance.lifecycle import actions as lifecycle
from governance.stores.handle import Stores, open_stores
from governance.stores.settings import get_settings, require_existing
from governance.trust.identity import Signer
from governance.trust.policy_store import LoadedPolicy, load_model_policy, presigned_for, signer_for
from governance.trust.signatures import Presigned
from lineage.signoff_evidence import signoff_evidence
from vocabulary import NotAuthorised, UsageError

__all__ = [
    "SignoffDecision",
    "await_signoff",
    "decommission_version",
    "promote_version",
    "rollback_model",
    "signoff_version",
]


class SignoffDecision(RunInput):
    """The form a validator fills in from the Prefect UI; every field is required."""

    decision: Literal["approve", "reject"]
    validator: str = Field(min_length=1, description="Your name, as the policy lists it.")
    comment: str = Field(min_length=1, description="What you reviewed, or why you reject.")
    signature: str = Field(
        min_length=1,
        description="The output of `govern signoff sign MODEL VERSION --as YOU --decision "
        "... --comment ...` (same decision and comment as above).",
    )


def _context(
    workdir: str | None, model: str, actor: str, signature: str = ""
) -> tuple[Stores, LoadedPolicy, Signer | Presigned]:
    """The stores, the policy this worker holds and ``actor``'s signer.

    That is ``actor``'s signature over the decision when one is given (checked against the
    policy), else the key of ``actor`` this worker holds.
    """
    stores = open_stores(require_existing(get_settings(workdir)))
    policy = load_model_policy(stores.settings.policy_path, model)
    if signature:
        return stores, policy, presigned_for(policy.file, actor, signature)
    return stores, policy, signer_for(stores.settings.keys_dir, policy.file, actor)


@flow(name="signoff")
def signoff_version(
    model: str,
    version: str,
    decision: Literal["approve", "reject"],
    validator: str,
    comment: str = "",
    workdir: str | None = None,
    signature: str = "",
) -> dict | None:
    """Approve or reject a pending version (the last approval promotes it).

    With ``signature`` (from ``govern signoff sign``) the validator's key stays with the
    validator; the worker's ``GOVERN_SERVICE_ACTOR`` signs what an approval triggers.
    """
    stores, policy, signer = _context(workdir, model, validator, signature)
    actor = stores.settings.service_actor
    service = signer_for(stores.settings.keys_dir, policy.file, actor) if actor else None
    if decision == "approve":
        return lifecycle.approve(stores, policy, model, version, signer, comment, service=service)
    lifecycle.reject(stores, policy, model, version, signer, comment, service)
    return None


@flow(name="await-signoff", persist_result=True)
def await_signoff(
    model: str,
    version: str | int,
    workdir: str | None = None,
    timeout_hours: float = 72.0,
    max_attempts: int = 5,
) -> dict | None:
    """Suspend until a validator submits a :class:`SignoffDecision` that holds, then apply it.

    Must run from a deployment (Prefect restarts a suspended flow when it is resumed, from
    the top: each attempt's suspension key is per version and attempt, so the restarted run
    reads the decisions submitted so far in order and waits at the first unanswered one).

    Raises
    ------
    NotAuthorised
        After ``max_attempts`` refused decisions, naming the last refusal.
    """
    version = str(version)
    stores = open_stores(require_existing(get_settings(workdir)))
    evidence = signoff_evidence(stores, model, version)
    refusal = ""
    for attempt in range(max_attempts):
        shown = evidence if not refusal else f"**Refused, sign again**: {refusal}\n\n{evidence}"
        decision = suspend_flow_run(
            wait_for_input=SignoffDecision.with_initial_data(description=shown),
            timeout=int(timeout_hours * 3600),
            key=f"signoff-{model}-{version}-{attempt}",
        )
        refusal = _refusal(stores, model, version, decision)
        if not refusal:
            get_run_logger().info(
                "%s decided to %s %s v%s", decision.validator, decision.decision, model, version
            )
            return signoff_version(
                model,
                version,
                decision.decision,
                decision.validator,
                decision.comment,
                workdir,
                decision.signature,
            )
        get_run_logger().warning("decision refused, asking again: %s", refusal)
    raise NotAuthorised(f"{max_attempts} sign-off decisions refused; the last: {refusal}")


def _refusal(stores: Stores, model: str, version: str, decision: SignoffDecision) -> str:
    """Why recording ``decision`` now would be refused; empty when it would not."""
    try:
        policy = load_model_policy(stores.settings.policy_path, model)
        signed = presigned_for(policy.file, decision.validator, decision.signature)
        lifecycle.sign_decision(
            stores, policy, model, version, signed, decision.decision, decision.comment
        )
    except (NotAuthorised, UsageError) as exc:
        return str(exc)
    return ""


@flow(name="promote")
def promote_version(
    model: str, version: str, actor: str, reason: str, workdir: str | None = None
) -> dict:
    """Make an approved version the champion."""
    stores, policy, signer = _context(workdir, model, actor)
    return lifecycle.promote(stores, policy, model, version, signer, reason)


@flow(name="rollback")
def rollback_model(model: str, actor: str, reason: str, workdir: str | None = None) -> dict:
    """Make the previous champion the champion again (e.g. from a monitoring automation)."""
    stores, policy, signer = _context(workdir, model, actor)
    return lifecycle.rollback(stores, policy, model, signer, reason)


@flow(name="decommission")
def decommission_version(
    model: str,
    version: str,
    actor: str,
    reason: str,
    replacement: str | None = None,
    no_replacement: bool = False,
    workdir: str | None = None,
) -> dict:
    """Retire a version for good."""
    stores, policy, signer = _context(workdir, model, actor)
    return lifecycle.decommission(
        stores, policy, model, version, signer, reason, replacement, no_replacement
    )
