"""The summary section of the HTML report: the version at a glance, and what is missing."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from lineage.assemble import missing_evidence
from lineage.formatting import (
    contract_counts,
    gate_counts,
    production_line,
    reference_label,
)
from lineage.html_blocks import badge, e, facts, num, ts, yes_no
from vocabulary import Lifecycle

__all__ = ["state_badge", "summary", "verdict_badge"]

_STATE_TONES = {
    Lifecycle.CHAMPION: "ok",
    Lifecycle.APPROVED: "ok",
    Lifecycle.REJECTED: "bad",
    Lifecycle.FAILED: "bad",
    Lifecycle.DECOMMISSIONED: "bad",
    Lifecycle.ROLLED_BACK: "bad",
    Lifecycle.PENDING_SIGNOFF: "warn",
    Lifecycle.VALIDATING: "warn",
}
# Inconclusive fails the gates like worse, but is no evidence against the model: amber.
_VERDICT_TONES = {"better": "ok", "non-inferior": "ok", "worse": "bad", "inconclusive": "warn"}


def state_badge(state: str) -> str:
    """A lifecycle state as a badge: green in or fit for production, red out for good."""
    return badge(state, _STATE_TONES.get(state, ""))


def verdict_badge(verdict: str) -> str:
    """A challenger verdict (better, non-inferior, worse, inconclusive) as a coloured badge."""
    return badge(verdict, _VERDICT_TONES.get(verdict, ""))


def summary(r: Mapping[str, Any]) -> list[str]:
    """The summary section: one fact per stage, then every note on missing evidence."""
    dv, gates, audit = r["data_validation"], r["gates"], r["audit"]
    notes = [
        f"<li><strong>{escape(heading)}:</strong> {e(text)}</li>"
        for heading, text in missing_evidence(r)
    ]
    if not audit["chain_ok"] and audit["reason"]:
        notes.append(f"<li><strong>Audit log:</strong> {e(audit['summary'])}</li>")
    rows = [
        ("Model and version", f"{e(r['model'])} version {e(r['version'])}"),
        ("State today", state_badge(r["lifecycle"])),
        ("Trained by", f"{e(r['training']['author'])} on {ts(r['training']['started_at'])}"),
        ("Training data", f"<code>{e(r['dataset']['uri'])}</code> ({_rows(r['dataset'])})"),
        ("Data checks", f"{yes_no(dv['passed'])} {escape(contract_counts(dv) or '')}"),
        ("Compared with", _comparison(r["comparison"])),
        ("Stress tests", _stress(r["stress"])),
        ("Gates", f"{yes_no(gates['passed'])} {escape(gate_counts(gates['counts']) or '')}"),
        ("Signed off by", _signoff(r["signoff"])),
        ("In production", _production(r["lifecycle_history"])),
        ("Audit log", _audit(audit)),
    ]
    parts = [
        '<p class="lead">The version at a glance. The sections below hold the detail.</p>',
        facts(rows),
    ]
    if notes:
        parts.append(f"<h3>Missing or inconsistent evidence</h3><ul>{''.join(notes)}</ul>")
    return parts


def _rows(dataset: Mapping[str, Any]) -> str:
    rows = dataset.get("rows") or {}
    return ", ".join(f"{num(n)} {escape(t)} rows" for t, n in rows.items()) or "rows unknown"


def _comparison(c: Mapping[str, Any]) -> str:
    if not c["verdicts"]:
        return "not compared"
    return "; ".join(
        f"{e(reference_label(name, c['champion_version']))}: {verdict_badge(v['verdict'])}"
        for name, v in c["verdicts"].items()
    )


def _stress(s: Mapping[str, Any]) -> str:
    candidate = [row for row in s["table"] if row.get("model") == "candidate"]
    if not candidate:
        return "not recorded"
    worst = max(candidate, key=lambda row: row.get("cvar95_shortfall_bps") or 0.0)
    return (
        f"{len(candidate)} scenarios; worst 95 % tail cost (CVaR95) "
        f"{num(worst.get('cvar95_shortfall_bps'), 0)} bps in {e(worst.get('scenario'))}"
    )


def _signoff(s: Mapping[str, Any]) -> str:
    if s["approvals"]:
        who = ", ".join(
            f"{e(a['by'])}{' (automatic)' if a['automatic'] else ''} on {ts(a['at'])}"
            for a in s["approvals"]
        )
        return f"{badge('approved', 'ok')} {who}"
    if s["rejection"]:
        x = s["rejection"]
        return f"{badge('rejected', 'bad')} by {e(x['by'])} on {ts(x['at'])}"
    return badge("no sign-off", "warn")


def _production(history: list[Mapping[str, Any]]) -> str:
    lines = [e(line) for change in history if (line := production_line(change))]
    return "<br>".join(lines) or "never in production"


def _audit(a: Mapping[str, Any]) -> str:
    chain = yes_no(a["chain_ok"], "chain verified", "chain broken")
    own = yes_no(a["version_events_intact"], "events intact", "events altered")
    hashes = yes_no(a["hashes_consistent"], "hashes consistent", "hashes disagree")
    return f"{chain} {own} {hashes}"
