"""Signed checkpoints of the audit chain's head, kept outside the database.

A hash chain shows an edit in its middle, but not the loss of its newest rows, nor a
rewrite that recomputes every hash after an edit. So whoever appends a decision also signs
the pair ``(seq, event_hash)`` of that event and stores it where a database administrator
does not write: one JSON line appended to a file beside the artifacts
(``GOVERN_CHECKPOINT_FILE``, default ``<workdir>/audit-checkpoints.jsonl``) and
the registered model's ``audit.checkpoint`` tag. ``govern audit verify --as NAME`` adds one
for the head it verified.

:func:`check_checkpoints` then finds a checkpoint beyond the end of the log (truncation)
or naming a hash the log no longer has at that seq (a rewrite), and any checkpoint whose
signature is not that of a member of a policy the log adopted.

Only a signed checkpoint is evidence about the log, so only a signed one that contradicts
it stops a lifecycle action or the governed loader (:func:`raise_on_bad_checkpoints`). A
line or tag nobody with a key could have written (garbage, an unsigned or foreign
signature) is a finding for ``govern audit verify``, never a wall: otherwise anyone who can
edit a registered model's tags in the MLflow UI, or append to the checkpoint file, could
lock every operator out, the emergency rollback included.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from governance.ledger import AuditEvent, AuditLog, record_event
from governance.ledger.hashing import canonical_json
from governance.stores.handle import Stores, is_store_outage
from governance.trust.identity import Signer, signature_is_valid
from governance.trust.signatures import SignatureProblem, valid_adoptions
from validation.policy import parse_policy
from vocabulary import Action, IntegrityError, Tag

__all__ = [
    "Checkpoint",
    "check_checkpoints",
    "Recorder",
    "raise_on_bad_checkpoints",
    "read_checkpoints",
    "write_checkpoint",
]


@dataclass(frozen=True)
class Checkpoint:
    """One signed ``(seq, event_hash)`` of the chain and where it was read from."""

    seq: int
    event_hash: str
    time: str
    signer: str
    public_key: str
    signature: str
    source: str = ""

    def signed_bytes(self) -> bytes:
        """What the signature covers."""
        body = {"seq": self.seq, "event_hash": self.event_hash, "time": self.time}
        return canonical_json({**body, "signer": self.signer}, label="checkpoint").encode()

    def record(self) -> dict[str, object]:
        """The stored form (without where it was read from)."""
        return {k: v for k, v in asdict(self).items() if k != "source"}


def write_checkpoint(
    path: Path,
    client: MlflowClient | None,
    model: str | None,
    signer: Signer,
    event: AuditEvent,
    time: str,
) -> Checkpoint:
    """Sign ``event``'s place in the chain; append it to ``path`` and tag ``model`` with it.

    The file is opened for appending and synced, so a checkpoint once written survives a
    crash; the tag holds the model's latest one (``client`` and ``model`` may be None for
    events that concern no model, such as a policy adoption, and a model not registered yet
    has no tag).
    """
    unsigned = Checkpoint(event.seq, event.event_hash, time, signer.name, signer.public_key, "")
    checkpoint = Checkpoint(
        event.seq,
        event.event_hash,
        time,
        signer.name,
        signer.public_key,
        signer.sign(unsigned.signed_bytes()),
    )
    line = json.dumps(checkpoint.record(), sort_keys=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    if client is not None and model is not None:
        try:
            client.set_registered_model_tag(model, Tag.AUDIT_CHECKPOINT, line)
        except MlflowException as exc:
            # Before its first version (a snapshot's validation) the model is not registered
            # and has no tag to hold a copy; the file holds this one.
            if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
    return checkpoint


@dataclass(frozen=True)
class Recorder:
    """Appends events nobody signs (evidence, intents, refusals), each under a checkpoint.

    The checkpoint is signed by whoever appends the event, so that deleting it from the
    log's tail is caught like a deleted decision: every event the product appends is under
    a signed checkpoint. ``client`` None keeps checkpoints in the file only (a refusal
    before MLflow is touched). ``signer`` None (a process that does not hold the
    appender's key) appends without a checkpoint; the next one covers the event.
    """

    audit: AuditLog
    checkpoint_path: Path
    client: MlflowClient | None
    signer: Signer | None

    @classmethod
    def of(cls, stores: Stores, signer: Signer | None) -> Recorder:
        """A recorder on ``stores`` (the log, the checkpoint file, the registry's tags)."""
        return cls(stores.audit, stores.settings.checkpoint_path, stores.client, signer)

    def record(
        self,
        action: Action,
        payload: dict[str, object],
        *,
        model: str | None,
        version: str | None = None,
        key: str | None = None,
        actor: str | None = None,
    ) -> AuditEvent:
        """Append ``action`` as ``actor`` (the signer by default), once per ``key``; checkpoint.

        Raises
        ------
        ValueError
            If there is neither an ``actor`` nor a signer to append as.
        """
        if actor is None and self.signer is None:
            raise ValueError("an event needs an actor: give one, or a signer")
        event = record_event(
            self.audit,
            actor or self.signer.name,
            action,
            payload,
            model=model,
            version=version,
            key=key,
        )
        if self.signer is not None:
            write_checkpoint(self.checkpoint_path, self.client, model, self.signer, event, event.ts)
        return event


def read_checkpoints(path: Path, client: MlflowClient) -> list[Checkpoint]:
    """Every checkpoint of the file and of the registered models' tags.

    A line or tag that is not a checkpoint is returned as one that cannot verify (seq 0,
    no signature), so that a damaged store is reported rather than skipped.
    """
    found = []
    if path.is_file():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                found.append(_parse(line, f"{path}:{number}"))
    try:
        models = client.search_registered_models()
    except MlflowException as exc:
        # An unreachable registry is not one without tags: a check that cannot read a copy
        # must not pass on the others alone.
        if is_store_outage(exc):
            raise
        models = []  # a registry with no model yet holds no tag
    for registered in models:
        tag = registered.tags.get(Tag.AUDIT_CHECKPOINT)
        if tag is not None:
            found.append(_parse(tag, f"tag {Tag.AUDIT_CHECKPOINT} of {registered.name}"))
    return found


def _parse(text: str, source: str) -> Checkpoint:
    try:
        raw = json.loads(text)
        return Checkpoint(
            int(raw["seq"]),
            str(raw["event_hash"]),
            str(raw["time"]),
            str(raw["signer"]),
            str(raw["public_key"]),
            str(raw["signature"]),
            source,
        )
    except (ValueError, KeyError, TypeError):
        return Checkpoint(0, "", "", "", "", "", source)


def check_checkpoints(
    events: list[AuditEvent], checkpoints: Iterable[Checkpoint]
) -> list[SignatureProblem]:
    """Compare each checkpoint with the log: signed by a member, within it, same hash.

    Parameters
    ----------
    events
        The whole log, in order.
    checkpoints
        From :func:`read_checkpoints`.

    Returns
    -------
    list of SignatureProblem
        One per checkpoint that is not signed by a member of a policy the log adopted,
        lies beyond the log's last event, or names another hash than the log has there.
    """
    members = _members(events)
    signed, problems = [], []
    for checkpoint in checkpoints:
        if _signed_by_a_member(checkpoint, members):
            signed.append(checkpoint)
        else:
            problems.append(
                SignatureProblem(
                    checkpoint.seq,
                    f"checkpoint at {checkpoint.source} is not signed by a member of an "
                    f"adopted policy (signer {checkpoint.signer!r})",
                )
            )
    return problems + _contradictions(events, signed)


def _contradictions(
    events: list[AuditEvent], signed: Iterable[Checkpoint]
) -> list[SignatureProblem]:
    """Signed checkpoints beyond the log's end (truncation) or naming another hash (rewrite)."""
    by_seq = {e.seq: e for e in events}
    head = events[-1].seq if events else 0
    problems = []
    for checkpoint in signed:
        where = f"checkpoint at {checkpoint.source}"
        if checkpoint.seq > head:
            problems.append(
                SignatureProblem(
                    checkpoint.seq,
                    f"{where}, signed by {checkpoint.signer} at {checkpoint.time}, names event "
                    f"seq {checkpoint.seq}, but the log ends at seq {head}: its newest events "
                    f"were deleted",
                )
            )
        elif getattr(by_seq.get(checkpoint.seq), "event_hash", None) != checkpoint.event_hash:
            found = getattr(by_seq.get(checkpoint.seq), "event_hash", "no event")
            problems.append(
                SignatureProblem(
                    checkpoint.seq,
                    f"{where}, signed by {checkpoint.signer} at {checkpoint.time}, names hash "
                    f"{checkpoint.event_hash} for event seq {checkpoint.seq}, the log has "
                    f"{found}: the log was rewritten",
                )
            )
    return problems


def _members(events: list[AuditEvent]) -> dict[str, set[str]]:
    """Every public key each member held under a policy the log adopted.

    Only adoptions that check out count: a forged one must not vouch for the key of
    whoever forged it.
    """
    members: dict[str, set[str]] = {}
    for event in valid_adoptions(events):
        for name, key in parse_policy(event.payload["policy_yaml"]).members.items():
            members.setdefault(name, set()).add(key)
    return members


def _signed_by_a_member(checkpoint: Checkpoint, members: dict[str, set[str]]) -> bool:
    return checkpoint.public_key in members.get(checkpoint.signer, set()) and (
        signature_is_valid(checkpoint.public_key, checkpoint.signed_bytes(), checkpoint.signature)
    )


def raise_on_bad_checkpoints(stores: Stores, events: list[AuditEvent]) -> None:
    """Raise :class:`IntegrityError` naming the first signed checkpoint the log contradicts.

    Checkpoints no member signed are left to ``govern audit verify`` (see the module
    docstring): they say nothing about the log, and must not stop an operator.
    """
    members = _members(events)
    signed = [
        c
        for c in read_checkpoints(stores.settings.checkpoint_path, stores.client)
        if _signed_by_a_member(c, members)
    ]
    problems = _contradictions(events, signed)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise IntegrityError(
            f"the audit log contradicts its checkpoints: {problems[0].message}{more}"
        )
