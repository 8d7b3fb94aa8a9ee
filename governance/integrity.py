"""``govern audit verify``: prove that nothing was altered behind the pipeline's back.

Four layers are checked against each other:

* the audit log's hash chain (every payload and event hash, every link);
* every signed decision against the policy in force when it was made
  (:func:`governance.lifecycle.rule_checks.check_decisions`), and the chain against the signed
  checkpoints of its head kept outside the database (:mod:`governance.trust.checkpoints`);
* each registered version against the ``candidate.trained`` event that registered it:
  the lineage tags (run, dataset and model hashes) must equal what the event recorded,
  and the model artifacts and dataset files must still hash to those values;
* each version's lifecycle tag and approvals, and every alias, against a replay of the
  log (:mod:`governance.ledger.replay`); registry versions the log never recorded are reported,
  and so are versions the log recorded that the registry lost (deleted in the MLflow UI),
  until an operator's ``govern audit reconcile`` records the loss; their artifacts and
  datasets are re-hashed either way.

Any disagreement is a finding; the report names the first one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from governance.ledger import AuditEvent, ChainReport
from governance.ledger.hashing import sha256_file, sha256_tree
from governance.ledger.replay import ModelHistory, open_intents, replay
from governance.lifecycle.rule_checks import check_decisions
from governance.stores.artifacts import verified_artifacts
from governance.stores.handle import Stores, download_artifacts
from governance.stores.registry import registered_versions
from governance.stores.version_tags import entry_edits
from governance.trust.checkpoints import (
    Checkpoint,
    check_checkpoints,
    read_checkpoints,
    write_checkpoint,
)
from governance.trust.policy_store import signer_for
from governance.trust.release import verify_release
from governance.trust.signatures import policy_in_force
from validation.policy import parse_policy
from vocabulary import Action, IntegrityError, Tag, UsageError

__all__ = [
    "Finding",
    "IntegrityReport",
    "checkpoint_head",
    "raise_on_problems",
    "verify_integrity",
]


@dataclass(frozen=True)
class Finding:
    """One disagreement between the audit log and what is stored now."""

    kind: str
    subject: str
    message: str


@dataclass(frozen=True)
class IntegrityReport:
    """Chain verification plus every finding, in the order they were checked."""

    chain: ChainReport
    findings: list[Finding] = field(default_factory=list)
    versions_checked: int = 0
    files_checked: int = 0
    deleted_versions: list[str] = field(default_factory=list)
    """Versions deleted from the registry whose loss the log records (not a finding)."""

    @property
    def ok(self) -> bool:
        """True when the chain verifies and nothing disagrees."""
        return self.chain.ok and not self.findings

    def first_problem(self) -> str:
        """The first broken event or altered file, for the error message."""
        if not self.chain.ok:
            return f"audit chain: {self.chain.reason}"
        first = self.findings[0]
        return f"{first.kind} {first.subject}: {first.message}"

    def summary(self) -> dict[str, object]:
        """JSON-serialisable form."""
        return {
            "ok": self.ok,
            "chain": {
                "ok": self.chain.ok,
                "events": self.chain.checked,
                "head_seq": self.chain.head_seq,
                "head_hash": self.chain.head_hash,
                "reason": self.chain.reason,
            },
            "versions_checked": self.versions_checked,
            "files_checked": self.files_checked,
            "deleted_versions": self.deleted_versions,
            "findings": [f.__dict__ for f in self.findings],
        }


def verify_integrity(stores: Stores, model: str | None = None) -> IntegrityReport:
    """Verify the chain, every version's evidence and the champion alias.

    Parameters
    ----------
    stores : Stores
        The registry and the audit log.
    model : str, optional
        Check only this model's versions (the chain is always checked whole).

    Returns
    -------
    IntegrityReport
        Use :func:`raise_on_problems` to turn findings into exit code 6.

    Raises
    ------
    UsageError
        If ``model`` is named and the log has no record of it (a misspelled name must not
        verify as a clean, empty history).
    """
    chain = stores.audit.verify(model)
    everything = stores.audit.events()
    events = [e for e in everything if model is None or e.model == model]
    if model is not None and not events:
        known = sorted({e.model for e in everything if e.model})
        raise UsageError(
            f"the audit log has no record of a model named {model!r}; it knows "
            f"{', '.join(known) or 'no model yet'}"
        )
    checkpoints = read_checkpoints(stores.settings.checkpoint_path, stores.client)
    rejected = check_decisions(everything)
    findings = [
        Finding("signature", f"seq {problem.seq}", problem.message) for problem in rejected
    ] + [
        Finding("checkpoint", f"seq {problem.seq}", problem.message)
        for problem in check_checkpoints(everything, checkpoints)
    ]
    # What follows compares the registry and the files with the log's truth: events that
    # do not check out are reported once, above, and are no part of that truth.
    forged = {problem.seq for problem in rejected}
    events = [event for event in events if event.seq not in forged]
    histories = replay(events)
    versions = files = 0
    deleted = []
    for event in events:
        if event.action == Action.VERSION_RELEASED:
            findings += _check_release(stores, event)
        if event.action != Action.CANDIDATE_TRAINED:
            continue
        versions += 1
        loss_recorded = histories[event.model].state(event.version).deleted_from_registry
        if loss_recorded is not None:
            deleted.append(f"{event.model} v{event.version}")
        new_findings, hashed = _check_version(stores, event, events, loss_recorded is not None)
        findings += new_findings
        files += hashed
    for name, history in sorted(histories.items()):
        findings += _check_history(stores.client, name, history)
    for intent, decided in open_intents(events):
        findings.append(
            Finding(
                "action",
                f"{intent.model} intent seq {intent.seq}",
                f"{intent.payload['action']} of v{intent.payload['version']} by {intent.actor} "
                f"was cut {'after' if decided else 'before'} its decisions were recorded (or "
                f"is still running); `govern audit reconcile` "
                f"{'finishes' if decided else 'undoes'} it",
            )
        )
    return IntegrityReport(chain, findings, versions, files, deleted)


def checkpoint_head(stores: Stores, report: IntegrityReport, name: str, time: str) -> Checkpoint:
    """Sign the head a clean ``report`` verified, as ``name``, and store it outside the log.

    ``name`` must hold their key and be a member of the policy in force by the log (an
    auditor who is not otherwise a decider can be listed as a member with no role).

    Raises
    ------
    UsageError
        If the report is not clean, or the log has no event or adopted policy yet.
    NotAuthorised
        If this process does not hold the key the policy in force lists for ``name``.
    """
    if not report.ok or report.chain.head_seq == 0:
        raise UsageError("only a clean, non-empty audit log is checkpointed")
    events = stores.audit.events()
    adopted = policy_in_force(events)
    if adopted is None:
        raise UsageError("no policy was adopted in this audit log: nobody can sign for it")
    signer = signer_for(
        stores.settings.keys_dir, parse_policy(adopted.payload["policy_yaml"]), name
    )
    head = next(e for e in reversed(events) if e.seq == report.chain.head_seq)
    return write_checkpoint(stores.settings.checkpoint_path, None, None, signer, head, time)


def raise_on_problems(report: IntegrityReport) -> IntegrityReport:
    """Return the report when it is clean; raise :class:`IntegrityError` otherwise."""
    if report.ok:
        return report
    others = len(report.findings) - (0 if not report.chain.ok else 1)
    more = f" (and {others} more finding(s))" if others > 0 else ""
    raise IntegrityError(f"integrity check failed: {report.first_problem()}{more}")


def _check_version(
    stores: Stores, event: AuditEvent, events: list[AuditEvent], loss_recorded: bool
) -> tuple[list[Finding], int]:
    """The version's registry entry against the log, then its artifacts and dataset."""
    subject = f"{event.model} v{event.version}"
    try:
        mv = stores.client.get_model_version(event.model, event.version)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise  # an unreachable registry is an outage, not a deletion
        findings = (
            []
            if loss_recorded
            else [
                Finding(
                    "registry",
                    subject,
                    "deleted from the MLflow registry outside governance; MLflow never "
                    "reuses a version number, so it cannot be put back under it, and the log, "
                    "its run and its artifacts (re-hashed here) remain its record: `govern "
                    "audit reconcile` records the loss",
                )
            ]
        )
        return _check_evidence(stores, subject, event, findings)
    return _check_evidence(stores, subject, event, _check_entry(subject, mv, event, events))


def _check_entry(
    subject: str, mv: ModelVersion, event: AuditEvent, events: list[AuditEvent]
) -> list[Finding]:
    """The registry's tags and description of a version against the events that set them."""
    return [Finding(kind, subject, message) for kind, message in entry_edits(mv, event, events)]


def _check_evidence(
    stores: Stores, subject: str, event: AuditEvent, findings: list[Finding]
) -> tuple[list[Finding], int]:
    """Re-hash the version's artifacts and dataset against what its training recorded."""
    payload = event.payload
    try:
        artifacts = download_artifacts(stores, payload["model_uri"])
    except (MlflowException, OSError) as exc:
        findings.append(
            Finding("model artifacts", subject, f"{payload['model_uri']} cannot be read: {exc}")
        )
        return findings + _check_dataset(subject, event)[0], 0
    actual = sha256_tree(artifacts)
    if actual != payload["model_sha256"]:
        findings.append(
            Finding(
                "model artifacts",
                subject,
                f"{payload['model_uri']} hashes to {actual}, event seq {event.seq} recorded "
                f"{payload['model_sha256']}",
            )
        )
    data_findings, hashed = _check_dataset(subject, event)
    return findings + data_findings, hashed + 1


def _check_release(stores: Stores, released: AuditEvent) -> list[Finding]:
    """The version's release bundle against its event and its artifacts."""
    subject = f"{released.model} v{released.version}"
    try:
        model_dir, _ = verified_artifacts(stores, released.model, released.version)
        verify_release(stores, released, model_dir)
    except IntegrityError as exc:
        return [Finding("release", subject, str(exc))]
    except (MlflowException, OSError) as exc:
        return [Finding("release", subject, f"its artifacts cannot be read: {exc}")]
    return []


def _check_dataset(subject: str, event: AuditEvent) -> tuple[list[Finding], int]:
    payload = event.payload
    root = Path(unquote(urlparse(payload["dataset_uri"]).path))
    findings, hashed = [], 0
    for name, recorded in sorted(payload["dataset_files"].items()):
        path = root / name
        if not path.is_file():
            findings.append(Finding("dataset", subject, f"{path} is missing"))
            continue
        hashed += 1
        actual = sha256_file(path)
        if actual != recorded:
            findings.append(
                Finding(
                    "dataset",
                    subject,
                    f"{path} hashes to {actual}, event seq {event.seq} recorded {recorded}",
                )
            )
    return findings, hashed


def _check_history(client: MlflowClient, model: str, history: ModelHistory) -> list[Finding]:
    """Compare lifecycle tags, approvals and aliases with the replayed audit log."""
    findings = []
    registry = registered_versions(client, model)
    for version in sorted(set(registry) - set(history.versions), key=int):
        findings.append(Finding("registry", f"{model} v{version}", "version has no audit trail"))
    for version, expected in sorted(history.versions.items(), key=lambda kv: int(kv[0])):
        mv = registry.get(version)
        if mv is None:
            continue  # reported by _check_version
        tagged = mv.tags.get(Tag.LIFECYCLE)
        if tagged != expected.lifecycle:
            findings.append(
                Finding(
                    "tag",
                    f"{model} v{version}",
                    f"tag {Tag.LIFECYCLE} is {tagged!r}, but the audit log (through seq "
                    f"{expected.last_seq}) makes it {expected.lifecycle!r}",
                )
            )
        approvers = sorted(a["by"] for a in json.loads(mv.tags.get(Tag.APPROVALS, "[]")))
        if approvers != sorted(expected.approvers):
            findings.append(
                Finding(
                    "tag",
                    f"{model} v{version}",
                    f"tag {Tag.APPROVALS} names {approvers}, the audit log "
                    f"{sorted(expected.approvers)}",
                )
            )
    actual = (
        {a: str(v) for a, v in client.get_registered_model(model).aliases.items()}
        if registry
        else {}
    )
    for alias in sorted(set(actual) | set(history.aliases)):
        wanted = history.aliases.get(alias)
        if wanted is not None and wanted not in registry:
            continue  # the version is gone from the registry: reported by _check_version
        if actual.get(alias) != wanted:
            findings.append(
                Finding(
                    "alias",
                    f"{model}@{alias}",
                    f"points to version {actual.get(alias)}, but the audit log's last change "
                    f"made it {history.aliases.get(alias)}",
                )
            )
    return findings
