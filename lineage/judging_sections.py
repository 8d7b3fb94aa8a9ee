"""How a version was judged: the challenger, stress, gates and sign-off sections.

The champion a version was compared with, and its approvals and rejection, come from
the replayed audit log (:mod:`governance.ledger.replay`); the measured evidence comes from
the events that recorded it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from governance.ledger import AuditEvent
from governance.ledger.replay import ModelHistory, VersionHistory
from lineage.event_evidence import bool_tag, json_tag
from vocabulary import Alias, Lifecycle, Tag

__all__ = ["comparison_section", "gates_section", "signoff_section", "stress_section"]

_NOT_SIGNED_OFF_YET = (Lifecycle.PENDING_SIGNOFF, Lifecycle.VALIDATING)


def comparison_section(history: ModelHistory, compared: AuditEvent | None) -> dict[str, Any]:
    """The challenger test: verdicts against each reference, and which champion it was.

    Parameters
    ----------
    history : ModelHistory
        The model's replayed audit log (who was champion when).
    compared : AuditEvent or None
        The version's ``candidate.compared`` event.

    Returns
    -------
    dict
        ``champion_version, references, verdicts, event_seq, compared_at, note``.
    """
    if compared is None:
        return {
            "champion_version": None,
            "references": [],
            "verdicts": {},
            "event_seq": None,
            "compared_at": None,
            "note": "no candidate.compared audit event: the version was never challenged",
        }
    payload = compared.payload
    details = payload.get("comparisons", {})
    verdicts = {
        name: _verdict(details.get(name, {}), verdict)
        for name, verdict in payload.get("verdicts", {}).items()
    }
    challenged = Alias.CHAMPION in verdicts
    champion = history.champion_before(compared.seq) if challenged else None
    note = None
    if not challenged:
        note = "no champion existed when this version was trained: compared with baselines only"
    elif champion is None:
        note = "compared with a champion, but no earlier promotion event names its version"
    return {
        "champion_version": champion,
        "references": list(verdicts),
        "verdicts": verdicts,
        "event_seq": compared.seq,
        "compared_at": compared.ts,
        "note": note,
    }


def _verdict(detail: Mapping[str, Any], verdict: str) -> dict[str, Any]:
    """One reference's comparison as recorded; fields the event lacks are None.

    Losses are mean squared errors (bps²), ``loss_difference`` is the candidate's minus
    the reference's, ``skill`` the reference's reduction over the naive predictor and
    ``margin`` the share of it the candidate may give up.
    """
    return {
        "verdict": verdict,
        "explanation": detail.get("explanation"),
        "loss": detail.get("loss"),
        "candidate_loss": detail.get("candidate_loss"),
        "reference_loss": detail.get("reference_loss"),
        "skill": detail.get("skill"),
        "loss_difference": detail.get("loss_difference"),
        "ci_low": detail.get("ci_low"),
        "ci_high": detail.get("ci_high"),
        "margin": detail.get("margin"),
        "margin_fraction": detail.get("margin_fraction"),
        "candidate_mae": detail.get("candidate_metrics", {}).get("mae"),
        "reference_mae": detail.get("reference_metrics", {}).get("mae"),
        "n_orders": detail.get("n_orders"),
        "n_days": detail.get("n_days"),
    }


def stress_section(stressed: AuditEvent | None) -> dict[str, Any]:
    """The stress backtests: one row per scenario and model, and the library they came from.

    Parameters
    ----------
    stressed : AuditEvent or None
        The version's ``candidate.stressed`` event.

    Returns
    -------
    dict
        ``scenarios, models, table, scenario_library_sha256, event_seq, note``; the
        library hash is None when the event predates its recording.
    """
    if stressed is None:
        return {
            "scenarios": [],
            "models": [],
            "table": [],
            "scenario_library_sha256": None,
            "event_seq": None,
            "note": "no candidate.stressed audit event: no stress backtest is recorded",
        }
    payload = stressed.payload
    table = payload.get("table", [])
    return {
        "scenarios": list(dict.fromkeys(row.get("scenario") for row in table)),
        "models": list(dict.fromkeys(row.get("model") for row in table)),
        "table": table,
        "scenario_library_sha256": payload.get("scenario_library_sha256"),
        "event_seq": stressed.seq,
        "note": None,
    }


def gates_section(
    tags: Mapping[str, str], run: Mapping[str, Any] | None, gated: AuditEvent | None
) -> dict[str, Any]:
    """Every gate check against its limit, the policy's hash and the decision latency.

    Parameters
    ----------
    tags : Mapping
        The version's tags (the fallback when the gates never completed).
    run : Mapping or None
        Its run record (latency metrics).
    gated : AuditEvent or None
        The version's ``candidate.gated`` event.

    Returns
    -------
    dict
        ``passed, policy_sha256, counts, checks, failed, latency, lifecycle_after,
        event_seq, gated_at, note``.
    """
    metrics = (run or {}).get("metrics", {})
    latency = {k.split(".", 1)[1]: v for k, v in metrics.items() if k.startswith("latency.")}
    gates = gated.payload.get("gates", {}) if gated else {}
    checks = gates.get("checks", [])
    return {
        "passed": gates.get("passed") if gated else bool_tag(tags.get(Tag.GATES_PASSED)),
        "policy_sha256": gates.get("policy_sha256") or tags.get(Tag.GATES_POLICY_SHA256),
        "counts": gates.get("counts", {}),
        "checks": checks,
        "failed": [f"{c['gate']} [{c['subject']}]" for c in checks if c.get("status") == "fail"],
        "latency": latency,
        "lifecycle_after": gated.payload.get("lifecycle") if gated else None,
        "event_seq": gated.seq if gated else None,
        "gated_at": gated.ts if gated else None,
        "note": None
        if gated
        else "no candidate.gated audit event: the gates never ran to completion "
        "(only version tags, if any, record a result)",
    }


def signoff_section(
    tags: Mapping[str, str], lifecycle: str, version: VersionHistory | None
) -> dict[str, Any]:
    """Maker-checker: the approvals and rejection the audit log records.

    Parameters
    ----------
    tags : Mapping
        The version's tags (compared with the log: they must name the same approvers).
    lifecycle : str
        The version's state, for the note when nothing was signed.
    version : VersionHistory or None
        The version's replayed history; None when the log never saw it trained.

    Returns
    -------
    dict
        ``required, approvals, complete, automatic, rejection, note``.
    """
    approved = version.approvals if version else []
    rejected = version.rejection if version else None
    approvals = [
        {
            "by": a.by,
            "at": a.at,
            "comment": a.comment,
            "automatic": a.automatic,
            "event_seq": a.seq,
        }
        for a in approved
    ]
    required = approved[-1].required if approved else None
    rejection = None
    if rejected is not None:
        rejection = {
            "by": rejected.by,
            "at": rejected.at,
            "comment": rejected.reason,
            "event_seq": rejected.seq,
        }
    tagged = json_tag(tags, Tag.APPROVALS) or []
    return {
        "required": required,
        "approvals": approvals,
        "complete": bool(approved) and len(approved) >= (required or 0),
        "automatic": None if not approvals else any(a["automatic"] for a in approvals),
        "rejection": rejection,
        "note": _signoff_note(tags, lifecycle, approvals, tagged, rejection),
    }


def _signoff_note(
    tags: Mapping[str, str],
    lifecycle: str,
    approvals: Sequence[Mapping[str, Any]],
    tagged: Sequence[Mapping[str, Any]],
    rejection: Mapping[str, Any] | None,
) -> str | None:
    recorded = sorted(a["by"] for a in approvals)
    on_tag = sorted(a.get("by", "") for a in tagged)
    if recorded != on_tag:
        return (
            f"approvals disagree: audit log has {recorded or 'none'}, the version tag "
            f"{Tag.APPROVALS} has {on_tag or 'none'}"
        )
    if approvals or rejection:
        return None
    if tags.get(Tag.GATES_PASSED) == "false":
        return "no sign-off: the version failed its gates, so it could never be signed off"
    if lifecycle in _NOT_SIGNED_OFF_YET:
        return f"no sign-off yet: the version is {lifecycle!r}"
    return "no sign-off is recorded for this version"
