"""The lineage report as Markdown, for the terminal and for review threads.

Same sections as the HTML page (:data:`lineage.assemble.SECTIONS`), without
the plots; values are worded by :mod:`lineage.formatting`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lineage.assemble import SECTIONS, SectionRenderers
from lineage.columns import (
    METRIC_HEADERS,
    STRESS_HEADERS,
    is_stress_key,
    metric_names,
    stress_columns,
)
from lineage.events import EVENT_ROLES
from lineage.formatting import (
    contract_counts,
    lifecycle_meaning,
    measure,
    number,
    plain_text,
    production_line,
    reference_label,
    short_ts,
)

__all__ = ["table", "to_markdown"]

_MISSING = "-"

_RENDERERS = SectionRenderers()


def to_markdown(report: Mapping[str, Any]) -> str:
    """Render a lineage report as Markdown, one section per :data:`SECTIONS` heading.

    Parameters
    ----------
    report : Mapping
        From :func:`lineage.gather.lineage_report`.

    Returns
    -------
    str
        Markdown with the same sections as the HTML report (without the plots); free
        text shows its ``<`` and ``>`` as entities (:func:`plain_text`).
    """
    report = plain_text(report)
    parts = [
        f"# Lineage of {report['model']} version {report['version']}",
        "",
        "This document traces one model version from its data to its current state, from "
        "the MLflow registry and the hash-chained audit log. Times are UTC.",
    ]
    for anchor, title in SECTIONS:
        parts += ["", f"## {title}", "", *_RENDERERS[anchor](report)]
    return "\n".join(parts) + "\n"


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """A Markdown table; None cells show as a dash, ``|`` and newlines are escaped."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _cell(value: Any) -> str:
    """Make a value safe inside a Markdown table cell."""
    return _text(value).replace("|", "\\|").replace("\n", " ")


def _text(value: Any) -> str:
    return _MISSING if value is None else str(value)


def _num(value: Any, digits: int = 2) -> str:
    return _text(number(value, digits))


def _ts(ts: str | None) -> str:
    return _text(short_ts(ts))


def _note(section: Mapping[str, Any]) -> list[str]:
    return [f"> Note: {section['note']}", ""] if section.get("note") else []


@_RENDERERS.of("summary")
def _summary(r: Mapping[str, Any]) -> list[str]:
    state = r["lifecycle"]
    chain = "verified" if r["audit"]["chain_ok"] else "NOT verified"
    approvers = ", ".join(a["by"] for a in r["signoff"]["approvals"]) or "none"
    champion = r["comparison"]["champion_version"]
    production = [line for c in r["lifecycle_history"] if (line := production_line(c))]
    return [
        f"- Lifecycle: **{state}** ({lifecycle_meaning(state)})",
        f"- Author: {_text(r['training']['author'])}, run `{r['training']['run_id']}`",
        f"- Dataset: {r['dataset']['uri']} (sha256 `{r['dataset']['sha256']}`)",
        f"- Data contracts passed: {_num(r['data_validation']['passed'])}",
        f"- Champion at comparison: {'v' + champion if champion else 'none'}",
        f"- Gates passed: {_num(r['gates']['passed'])}",
        f"- Approved by: {approvers}",
        f"- In production: {'; '.join(production) or 'never'}",
        f"- Audit chain: {chain} ({r['audit']['summary']})",
    ]


@_RENDERERS.of("dataset")
def _dataset(r: Mapping[str, Any]) -> list[str]:
    d = r["dataset"]
    return [
        *_note(d),
        f"Snapshot `{d['uri']}`, sha256 `{d['sha256']}`.",
        "",
        *table(
            ["file", "rows", "sha256"],
            [(f["name"], _num(f["rows"]), f"`{f['sha256']}`") for f in d["files"]],
        ),
    ]


@_RENDERERS.of("data-validation")
def _data_validation(r: Mapping[str, Any]) -> list[str]:
    d = r["data_validation"]
    lines = [
        *_note(d),
        f"Passed: {_num(d['passed'])}; {contract_counts(d) or 'no checks recorded'}.",
        "",
    ]
    if d["failing_checks"]:
        lines += table(
            ["table", "check", "severity", "unexpected"],
            [
                (c.get("table"), c.get("check"), c.get("severity"), c.get("unexpected_count"))
                for c in d["failing_checks"]
            ],
        )
    return lines


@_RENDERERS.of("training")
def _training(r: Mapping[str, Any]) -> list[str]:
    t = r["training"]
    names = metric_names(t["holdout_metrics"])
    lines = [
        *_note(t),
        f"- Run `{t['run_id']}` ({t['run_status'] or 'unknown status'}) by {t['author']}",
        f"- Code version `{t['code_version']}`",
        f"- Registered {_ts(t['registered_at'])}",
        f"- Model `{t['model_uri']}`, sha256 `{t['model_sha256']}`",
        "",
        "Holdout metrics (bps):",
        "",
    ]
    lines += table(
        ["model", *(METRIC_HEADERS.get(n, n) for n in names)],
        [(model, *(_num(m.get(n)) for n in names)) for model, m in t["holdout_metrics"].items()],
    )
    lines += ["", "Parameters:", ""]
    lines += table(["parameter", "value"], sorted(t["parameters"].items()))
    return lines


@_RENDERERS.of("comparison")
def _comparison(r: Mapping[str, Any]) -> list[str]:
    c = r["comparison"]
    rows = [
        (
            reference_label(name, c["champion_version"]),
            _num(v["candidate_loss"], 1),
            _num(v["reference_loss"], 1),
            _num(v["skill"], 1),
            f"{_num(v['loss_difference'], 1)} [{_num(v['ci_low'], 1)}, {_num(v['ci_high'], 1)}]",
            _num(v["margin"], 1),
            _num(v["candidate_mae"]),
            _num(v["reference_mae"]),
            v["verdict"],
        )
        for name, v in c["verdicts"].items()
    ]
    header = [
        "reference",
        "candidate MSE (bps²)",
        "reference MSE",
        "reference skill",
        "MSE difference [95% CI]",
        "margin",
        "candidate MAE (bps)",
        "reference MAE",
        "verdict",
    ]
    reasons = [
        f"- {reference_label(name, c['champion_version'])}: {v['explanation']}"
        for name, v in c["verdicts"].items()
        if v.get("explanation")
    ]
    return [*_note(c), *table(header, rows), *([""] + reasons if reasons else [])]


@_RENDERERS.of("stress")
def _stress(r: Mapping[str, Any]) -> list[str]:
    s = r["stress"]
    columns = stress_columns(s["table"])
    rows = [
        [row.get(c) if is_stress_key(c) else measure(row.get(c)) for c in columns]
        for row in s["table"]
    ]
    library = s["scenario_library_sha256"]
    source = [f"Scenario library sha256 `{library}`.", ""] if library else []
    return [*_note(s), *source, *table([STRESS_HEADERS.get(c, c) for c in columns], rows)]


@_RENDERERS.of("gates")
def _gates(r: Mapping[str, Any]) -> list[str]:
    g = r["gates"]
    head = f"Passed: {_num(g['passed'])}; policy sha256 `{g['policy_sha256']}`."
    rows = [
        (c["gate"], c["subject"], measure(c["value"]), c["limit"], c["status"].upper())
        for c in g["checks"]
    ]
    return [
        *_note(g),
        head,
        "",
        *table(["gate", "subject", "value", "limit", "result"], rows),
    ]


@_RENDERERS.of("signoff")
def _signoff(r: Mapping[str, Any]) -> list[str]:
    s = r["signoff"]
    lines = [*_note(s), f"Required approvals: {_num(s['required'])}", ""]
    if s["approvals"]:
        lines += table(
            ["approved by", "at", "automatic", "comment"],
            [(a["by"], _ts(a["at"]), _num(a["automatic"]), a["comment"]) for a in s["approvals"]],
        )
    if s["rejection"]:
        x = s["rejection"]
        lines += ["", f"Rejected by {x['by']} at {_ts(x['at'])}: {x['comment']}"]
    return lines


@_RENDERERS.of("events")
def _events(r: Mapping[str, Any]) -> list[str]:
    if not r["events"]:
        return ["No audit event concerns this version."]
    return table(
        ["seq", "time", "actor", "action", "concerns", "what"],
        [
            (
                e["seq"],
                _ts(e["ts"]),
                e["actor"],
                e["action"],
                EVENT_ROLES[e["role"]],
                e["summary"] if e["intact"] else f"ALTERED since recorded: {e['summary']}",
            )
            for e in r["events"]
        ],
    )


@_RENDERERS.of("audit")
def _audit(r: Mapping[str, Any]) -> list[str]:
    a = r["audit"]
    lines = [
        f"- Chain verified: {_num(a['chain_ok'])} ({a['summary']})",
        f"- Head: seq {a['head_seq']}, hash `{a['head_hash']}`",
        f"- This version's {a['version_events']} events intact: {_num(a['version_events_intact'])}",
        f"- Verified at {_ts(a['verified_at'])} UTC",
        "",
    ]
    lines += table(
        ["hash", "version tag", "audit log", "match"],
        [
            (h["what"], f"`{h['tag_value']}`", f"`{h['audit_value']}`", _num(h["match"]))
            for h in a["recorded_hashes"]
        ],
    )
    return lines
