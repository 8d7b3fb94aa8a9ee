"""Replaying the audit log: what every version's state and every alias must be.

The registry's tags and aliases can be edited by anyone with access to MLflow; the
audit log cannot be edited without breaking its hash chain. So the sign-off rules
take a version's author, gate result, approvals and lifecycle state from this replay,
and ``govern audit verify`` compares the registry with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from governance.audit import AuditEvent

__all__ = ["Expected", "ModelHistory", "replay"]


@dataclass
class Expected:
    """The state of one version according to the audit log."""

    lifecycle: str = "validating"
    author: str = ""
    gates_passed: bool = False
    approvers: list[str] = field(default_factory=list)
    last_seq: int = 0


@dataclass
class ModelHistory:
    """Every version's expected state and the aliases the log says each version holds."""

    versions: dict[str, Expected] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    def state(self, version: str) -> Expected | None:
        """The expected state of ``version``, or ``None`` when the log never saw it."""
        return self.versions.get(str(version))

    def _set(self, version: str | None, lifecycle: str, seq: int) -> None:
        if version is not None and version in self.versions:
            self.versions[version].lifecycle = lifecycle
            self.versions[version].last_seq = seq

    def _drop_aliases_of(self, version: str) -> None:
        self.aliases = {a: v for a, v in self.aliases.items() if v != version}

    def apply(self, event: AuditEvent) -> None:
        """Advance the history by one event of this model."""
        version, payload = event.version, event.payload
        handler = getattr(self, "_on_" + event.action.replace(".", "_"), None)
        if handler is not None:
            handler(event, version, payload)

    def _on_candidate_trained(self, event: AuditEvent, version: str, payload: dict) -> None:
        self.versions[version] = Expected(author=event.actor, last_seq=event.seq)

    def _on_candidate_gated(self, event: AuditEvent, version: str, payload: dict) -> None:
        self.versions[version].gates_passed = bool(payload["gates"]["passed"])
        self._set(version, payload["lifecycle"], event.seq)
        if payload["lifecycle"] == "pending-signoff":
            self.aliases["candidate"] = version

    def _on_candidate_failed(self, event: AuditEvent, version: str, payload: dict) -> None:
        self._set(version, "failed", event.seq)

    def _on_signoff_approved(self, event: AuditEvent, version: str, payload: dict) -> None:
        self.versions[version].approvers.append(event.actor)
        if payload["approvals"] >= payload["required"]:
            self._set(version, "approved", event.seq)

    def _on_signoff_rejected(self, event: AuditEvent, version: str, payload: dict) -> None:
        self._set(version, "rejected", event.seq)
        if self.aliases.get("candidate") == version:
            del self.aliases["candidate"]

    def _on_version_promoted(self, event: AuditEvent, version: str, payload: dict) -> None:
        previous, retired = payload.get("previous"), payload.get("retired")
        self._set(retired, "retired", event.seq)
        self._set(previous, "previous", event.seq)
        self._set(version, "champion", event.seq)
        if self.aliases.get("candidate") == version:
            del self.aliases["candidate"]
        self.aliases["champion"] = version
        if previous is not None:
            self.aliases["previous"] = previous
        elif self.aliases.get("previous") == version:
            del self.aliases["previous"]

    def _on_version_rolled_back(self, event: AuditEvent, version: str, payload: dict) -> None:
        self._set(payload.get("demoted"), "rolled-back", event.seq)
        self._set(version, "champion", event.seq)
        self.aliases["champion"] = version
        self.aliases.pop("previous", None)

    def _on_version_decommissioned(self, event: AuditEvent, version: str, payload: dict) -> None:
        self._set(version, "decommissioned", event.seq)
        self._drop_aliases_of(version)


def replay(events: Iterable[AuditEvent]) -> dict[str, ModelHistory]:
    """Replay the events in order; return each model's history."""
    histories: dict[str, ModelHistory] = {}
    for event in events:
        if event.model is None or event.version is None:
            continue
        history = histories.setdefault(event.model, ModelHistory())
        if event.action != "candidate.trained" and history.state(event.version) is None:
            continue  # a version the log never saw trained: verify reports it
        history.apply(event)
    return histories
