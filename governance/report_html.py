"""The lineage report as one self-contained HTML page, for people who never saw the product.

The page needs nothing but a browser: CSS is inline, plots are PNG data URIs, there is
no script and no network access. Its sections and their ``id`` anchors are those of
:data:`governance.lineage.SECTIONS`, so links into a report stay valid. Every value is
HTML-escaped: payloads hold free text typed by users (comments, reasons).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from html import escape
from typing import Any

from governance.lineage import EVENT_ROLES, LIFECYCLE_STATES, SECTIONS

__all__ = ["FIGURE_PLACES", "to_html"]

FIGURE_PLACES = {
    "plots/feature_contributions.png": (
        "training",
        "Which inputs drive the predicted cost: mean absolute contribution of each feature "
        "(LightGBM contributions on a holdout sample), then the two strongest features.",
    ),
    "plots/challenger_residuals.png": (
        "comparison",
        "Left: prediction errors on the held-out orders, this version against the model it "
        "was compared with. Right: predicted against realised cost (closer to the dotted "
        "diagonal is better).",
    ),
    "plots/stress_shortfall_distributions.png": (
        "stress",
        "Distribution of the execution cost (implementation shortfall) over the simulated "
        "paths, per stress scenario.",
    ),
    "plots/stress_vol_spike_path.png": (
        "stress",
        "One simulated path of the volatility-spike scenario: how the schedule this version "
        "chose for the largest stress order executed.",
    ),
}
"""Artifact path of each known plot -> (section id it belongs in, caption)."""

_STRESS_HEADERS = {
    "scenario": "scenario",
    "model": "model",
    "cvar95_shortfall_bps": "CVaR95 shortfall (bps)",
    "kill_switch_rate": "kill-switch rate",
    "realised_slippage": "realised slippage",
    "market_impact": "market impact",
    "participation_5min": "max 5-min participation (p95)",
    "fill_price_variance_ratio": "fill-price variance ratio",
    "information_leakage": "information leakage",
}

_METRIC_HEADERS = {
    "mae": "MAE",
    "rmse": "RMSE",
    "bias": "bias",
    "p95_abs_error": "95th percentile |error|",
}

_CSS = """
:root { --ink:#1d2733; --muted:#5b6773; --line:#d8dee5; --soft:#f4f6f8; --accent:#2f5d8a;
  --ok:#1f7a3d; --ok-bg:#e3f3e8; --warn:#8a5a00; --warn-bg:#fdf1d8; --bad:#a12a2a;
  --bad-bg:#fbe4e4; }
* { box-sizing: border-box; }
body { margin:0; background:#fff; color:var(--ink);
  font:15px/1.55 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 32px 40px 64px; }
header { border-bottom: 3px solid var(--accent); padding-bottom: 16px; margin-bottom: 24px; }
.kicker { text-transform: uppercase; letter-spacing: .08em; color: var(--muted);
  font-size: 12px; margin: 0; }
h1 { font-size: 28px; margin: 4px 0 8px; }
h2 { font-size: 21px; margin: 40px 0 8px; padding-top: 8px; border-top: 1px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 6px; }
p { margin: 6px 0 10px; }
.lead { color: var(--muted); max-width: 860px; }
.meta { color: var(--muted); font-size: 13px; }
.intro { background: var(--soft); border-left: 4px solid var(--accent); padding: 12px 20px;
  margin: 16px 0; }
.intro h2 { border: 0; margin-top: 4px; padding-top: 0; font-size: 18px; }
.intro dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px;
  margin: 6px 0; }
.intro dt { font-weight: 600; }
.intro dd { margin: 0; }
nav ol { columns: 2; margin: 4px 0; }
nav a { color: var(--accent); }
table { border-collapse: collapse; width: 100%; margin: 8px 0 14px; font-size: 13.5px; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left;
  vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
tbody tr:nth-child(even) td { background: #fafbfc; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.facts th { width: 210px; }
tr.candidate td { font-weight: 600; }
tbody tr.altered td { background: var(--bad-bg); }
code, .hash { font-family: "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace;
  font-size: 12.5px; word-break: break-all; }
code.action { word-break: normal; white-space: nowrap; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
  font-weight: 700; text-transform: uppercase; letter-spacing: .03em;
  background: var(--soft); border: 1px solid var(--line); }
.ok { color: var(--ok); background: var(--ok-bg); border-color: #b8dfc5; }
.warn { color: var(--warn); background: var(--warn-bg); border-color: #f0d59a; }
.bad { color: var(--bad); background: var(--bad-bg); border-color: #f0b9b9; }
.note { background: var(--warn-bg); border-left: 4px solid #e0a526; padding: 8px 12px; }
.verdict { font-size: 17px; padding: 10px 14px; border-radius: 6px; }
figure { margin: 14px 0 20px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
details summary { cursor: pointer; color: var(--accent); }
pre { white-space: pre-wrap; word-break: break-all; max-height: 320px; overflow: auto;
  background: var(--soft); padding: 8px; font-size: 12px; margin: 4px 0; }
.source { color: var(--muted); font-size: 12.5px; }
footer { margin-top: 48px; color: var(--muted); font-size: 12.5px;
  border-top: 1px solid var(--line); padding-top: 10px; }
@media print { main { padding: 0; } h2 { break-after: avoid; } figure, tr { break-inside: avoid; }
  details pre { max-height: none; } }
"""


def to_html(report: Mapping[str, Any], figures: Mapping[str, bytes] | None = None) -> str:
    """Render a lineage report as one self-contained HTML document.

    Parameters
    ----------
    report : Mapping
        From :func:`governance.lineage.lineage_report`.
    figures : Mapping of str to bytes, optional
        PNG bytes by artifact path (:func:`governance.lineage.run_figures`). Known plots
        (:data:`FIGURE_PLACES`) are shown in their section, others under Training.

    Returns
    -------
    str
        The HTML text: an introduction for a first-time reader, a table of contents,
        then one ``<section id=...>`` per entry of :data:`governance.lineage.SECTIONS`.

    """
    placed = _place_figures(figures or {})
    title = f"Lineage report: {report['model']} version {report['version']}"
    body = [_header(report, title), _intro(report), _contents()]
    for (anchor, heading), render in zip(SECTIONS, _RENDERERS, strict=True):
        body.append(_section(anchor, heading, render(report) + placed.get(anchor, [])))
    body.append(_footer(report))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )


# ----------------------------------------------------------------------- building blocks


def _e(value: Any) -> str:
    """Escape any value for HTML text; None shows as a dash."""
    return "&ndash;" if value is None or value == "" else escape(str(value))


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "&ndash;"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != 0 and abs(value) < 0.01:
            return f"{value:.3g}"
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return _e(value)


def _measure(value: Any) -> str:
    """A measured value: one decimal from 100 up (bps), four significant digits below."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _e(value)
    return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.4g}"


def _ts(ts: str | None) -> str:
    """``2026-02-02T10:11:12.123456+00:00`` -> ``2026-02-02 10:11:12 UTC``."""
    return "&ndash;" if not ts else escape(ts.replace("T", " ")[:19]) + " UTC"


def _hash(digest: str | None) -> str:
    return "&ndash;" if not digest else f'<span class="hash">{escape(digest)}</span>'


def _badge(text: str, tone: str = "") -> str:
    return f'<span class="badge {tone}">{escape(text)}</span>'


def _yes_no(value: bool | None, yes: str = "passed", no: str = "failed") -> str:
    if value is None:
        return _badge("not recorded", "warn")
    return _badge(yes, "ok") if value else _badge(no, "bad")


def _status_badge(status: str) -> str:
    return _badge(status, {"pass": "ok", "warn": "warn", "fail": "bad"}.get(status, ""))


def _table(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    numeric: Sequence[int] = (),
    row_class: Callable[[int], str] | None = None,
) -> str:
    """An HTML table; cells are already-escaped HTML, ``numeric`` columns align right."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cells = "".join(
            f'<td class="num">{c}</td>' if j in numeric else f"<td>{c}</td>"
            for j, c in enumerate(row)
        )
        cls = row_class(i) if row_class else ""
        body.append(f'<tr class="{cls}">{cells}</tr>' if cls else f"<tr>{cells}</tr>")
    if not body:
        return ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _facts(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column table of labelled facts; values are already-escaped HTML."""
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="facts"><tbody>{cells}</tbody></table>'


def _note(section: Mapping[str, Any]) -> list[str]:
    note = section.get("note")
    return [f'<p class="note"><strong>Missing evidence:</strong> {_e(note)}</p>'] if note else []


def _source(text: str) -> str:
    return f'<p class="source">Source: {text}</p>'


def _event_ref(seq: int | None, action: str) -> str:
    return f"audit event #{seq} ({escape(action)})" if seq else f"no {escape(action)} event"


def _section(anchor: str, heading: str, parts: Sequence[str]) -> str:
    inner = "\n".join(parts)
    return f'<section id="{anchor}">\n<h2>{escape(heading)}</h2>\n{inner}\n</section>'


def _place_figures(figures: Mapping[str, bytes]) -> dict[str, list[str]]:
    placed: dict[str, list[str]] = {}
    known = [p for p in FIGURE_PLACES if p in figures]
    for path in known + sorted(set(figures) - set(known)):
        anchor, caption = FIGURE_PLACES.get(path, ("training", f"Plot logged on the run: {path}"))
        data = base64.b64encode(figures[path]).decode("ascii")
        placed.setdefault(anchor, []).append(
            f'<figure><img src="data:image/png;base64,{data}" alt="{escape(caption)}">'
            f"<figcaption>{escape(caption)} <code>{escape(path)}</code></figcaption></figure>"
        )
    return placed


# ----------------------------------------------------------------------- page frame


def _header(report: Mapping[str, Any], title: str) -> str:
    state = report["lifecycle"]
    return (
        "<header>\n"
        '<p class="kicker">Model governance &middot; lineage report</p>\n'
        f"<h1>{escape(title)}</h1>\n"
        f"<p>Current state: {_badge(state, _state_tone(state))} "
        f"{_e(LIFECYCLE_STATES.get(state, 'state not documented'))}</p>\n"
        f'<p class="meta">Generated {_ts(report["audit"]["verified_at"])} from the MLflow '
        "model registry and the governance audit log.</p>\n</header>"
    )


def _state_tone(state: str) -> str:
    if state in ("champion", "approved"):
        return "ok"
    if state in ("rejected", "decommissioned", "rolled-back"):
        return "bad"
    return "warn" if state in ("pending-signoff", "validating") else ""


def _intro(report: Mapping[str, Any]) -> str:
    model, version = _e(report["model"]), _e(report["version"])
    return f"""<section class="intro" id="about">
<h2>What this document is</h2>
<p>{model} is a machine-learning model that predicts what it will cost to execute a large
("block") order in the market; the trading system uses those predictions to decide how fast
to trade. Each retraining produces a new <em>version</em>. Before a version may be used it
must pass automatic checks and be signed off by a validator who did not build it; every
step is written to an append-only audit log.</p>
<p>This report is the record of version {version}: the data it learnt from, the checks it went
through, who approved it, when it went into and out of production, and whether the audit
log that holds this record is intact. Each section names the audit event or registry entry
its evidence comes from. Missing evidence is marked as such, never left out.</p>
<dl>
<dt>champion</dt><dd>the version in production; a new version is the <em>challenger</em>
and must do at least as well on the same held-out orders.</dd>
<dt>bps</dt><dd>basis points: 1 bps = 0.01 % of the order's value.</dd>
<dt>SHA-256 hash</dt><dd>a 64-character fingerprint of a file's exact content; any change
to the content changes it.</dd>
<dt>gates</dt><dd>pass/fail limits from the risk policy that the version was measured
against.</dd>
</dl>
</section>"""


def _contents() -> str:
    items = "".join(f'<li><a href="#{a}">{escape(h)}</a></li>' for a, h in SECTIONS)
    return f'<nav aria-label="contents"><strong>Contents</strong><ol>{items}</ol></nav>'


def _footer(report: Mapping[str, Any]) -> str:
    audit = report["audit"]
    head = f"seq {_e(audit['head_seq'])}, hash {_hash(audit['head_hash'])}"
    if not audit["chain_ok"]:
        return (
            f"<footer>The audit chain is intact up to {head} only; entries after it cannot "
            "be trusted until the break is explained.</footer>"
        )
    return (
        f"<footer>Audit log head at generation: {head}. Record it elsewhere: a later report "
        "whose chain verifies but no longer contains this head means the log was truncated "
        "or rewritten.</footer>"
    )


# ----------------------------------------------------------------------- sections


def _summary(r: Mapping[str, Any]) -> list[str]:
    dv, gates, signoff, audit = r["data_validation"], r["gates"], r["signoff"], r["audit"]
    notes = [
        f"<li><strong>{escape(h)}:</strong> {_e(r[k]['note'])}</li>"
        for k, h in (
            ("dataset", "Dataset"),
            ("data_validation", "Data validation"),
            ("training", "Training"),
            ("comparison", "Champion vs challenger"),
            ("stress", "Stress tests"),
            ("gates", "Gates"),
            ("signoff", "Sign-off"),
            ("audit", "Audit"),
        )
        if r[k].get("note")
    ]
    if not audit["chain_ok"] and audit["reason"]:
        notes.append(f"<li><strong>Audit log:</strong> {_e(audit['summary'])}</li>")
    facts = [
        ("Model and version", f"{_e(r['model'])} version {_e(r['version'])}"),
        ("State today", f"{_badge(r['lifecycle'], _state_tone(r['lifecycle']))}"),
        ("Trained by", f"{_e(r['training']['author'])} on {_ts(r['training']['started_at'])}"),
        ("Training data", f"<code>{_e(r['dataset']['uri'])}</code> ({_rows(r['dataset'])})"),
        ("Data checks", f"{_yes_no(dv['passed'])} {_dv_counts(dv)}"),
        ("Compared with", _summary_comparison(r["comparison"])),
        ("Stress tests", _summary_stress(r["stress"])),
        ("Gates", f"{_yes_no(gates['passed'])} {_gate_counts(gates)}"),
        ("Signed off by", _summary_signoff(signoff)),
        ("In production", _summary_production(r)),
        ("Audit log", _summary_audit(audit)),
    ]
    parts = [
        '<p class="lead">The version at a glance. The sections below hold the detail.</p>',
        _facts(facts),
    ]
    if notes:
        parts.append(f"<h3>Missing or inconsistent evidence</h3><ul>{''.join(notes)}</ul>")
    return parts


def _rows(dataset: Mapping[str, Any]) -> str:
    rows = dataset.get("rows") or {}
    return ", ".join(f"{_num(n)} {escape(t)} rows" for t, n in rows.items()) or "rows unknown"


def _dv_counts(dv: Mapping[str, Any]) -> str:
    if dv["checks"] is None:
        return ""
    return (
        f"{_num(dv['checks'])} checks, {_num(dv['critical_failures'])} critical failures, "
        f"{_num(dv['warnings'])} warnings"
    )


def _gate_counts(gates: Mapping[str, Any]) -> str:
    counts = gates.get("counts") or {}
    if not counts:
        return ""
    return ", ".join(f"{_num(counts.get(s, 0))} {s}" for s in ("pass", "warn", "fail"))


def _summary_comparison(c: Mapping[str, Any]) -> str:
    if not c["verdicts"]:
        return "not compared"
    return "; ".join(
        f"{_reference_name(name, c)}: {_verdict_badge(v['verdict'])}"
        for name, v in c["verdicts"].items()
    )


def _reference_name(name: str, c: Mapping[str, Any]) -> str:
    if name != "champion":
        return f"baseline {escape(name)}"
    return f"champion (version {_e(c['champion_version'])})"


def _verdict_badge(verdict: str) -> str:
    return _badge(verdict, {"better": "ok", "non-inferior": "ok", "worse": "bad"}.get(verdict, ""))


def _summary_stress(s: Mapping[str, Any]) -> str:
    candidate = [row for row in s["table"] if row.get("model") == "candidate"]
    if not candidate:
        return "not recorded"
    worst = max(candidate, key=lambda row: row.get("cvar95_shortfall_bps") or 0.0)
    return (
        f"{len(candidate)} scenarios; worst 95 % tail cost (CVaR95) "
        f"{_num(worst.get('cvar95_shortfall_bps'), 0)} bps in {_e(worst.get('scenario'))}"
    )


def _summary_signoff(s: Mapping[str, Any]) -> str:
    if s["approvals"]:
        who = ", ".join(
            f"{_e(a['by'])}{' (automatic)' if a['automatic'] else ''} on {_ts(a['at'])}"
            for a in s["approvals"]
        )
        return f"{_badge('approved', 'ok')} {who}"
    if s["rejection"]:
        x = s["rejection"]
        return f"{_badge('rejected', 'bad')} by {_e(x['by'])} on {_ts(x['at'])}"
    return _badge("no sign-off", "warn")


def _summary_production(r: Mapping[str, Any]) -> str:
    lines = [_production_line(r["version"], e) for e in r["events"]]
    return "<br>".join(line for line in lines if line) or "never in production"


def _production_line(version: str, e: Mapping[str, Any]) -> str | None:
    """One line on how an event moved the version into or out of production, if it did."""
    p, action, when = e["payload"], e["action"], f"{_ts(e['ts'])} by {_e(e['actor'])}"
    if action == "version.promoted" and str(p.get("champion")) == version:
        return f"went live {when}: {_e(p.get('reason'))}"
    if action == "version.rolled_back" and str(p.get("champion")) == version:
        return f"made champion again by a rollback {when}: {_e(p.get('reason'))}"
    if e["role"] == "previous":
        return f"replaced by version {_e(p.get('champion'))} (kept as previous) {when}"
    if e["role"] == "retired":
        return f"retired when version {_e(p.get('champion'))} was promoted {when}"
    if e["role"] == "demoted":
        return f"taken out of production by a rollback {when}: {_e(p.get('reason'))}"
    if action == "version.decommissioned":
        return f"decommissioned {when}: {_e(p.get('reason'))}"
    return None


def _summary_audit(a: Mapping[str, Any]) -> str:
    chain = _yes_no(a["chain_ok"], "chain verified", "chain broken")
    own = _yes_no(a["version_events_intact"], "events intact", "events altered")
    hashes = _yes_no(a["hashes_consistent"], "hashes consistent", "hashes disagree")
    return f"{chain} {own} {hashes}"


def _dataset(r: Mapping[str, Any]) -> list[str]:
    d = r["dataset"]
    rows = [
        (f"<code>{_e(f['name'])}</code>", _num(f["rows"]), _hash(f["sha256"])) for f in d["files"]
    ]
    return [
        '<p class="lead">The data the version learnt from. Data is never copied: it is '
        "identified by where it lives (URI) and by the SHA-256 fingerprint of each file, so "
        "anyone can prove later that a file is the one used.</p>",
        *_note(d),
        _facts(
            [
                ("Location (URI)", f"<code>{_e(d['uri'])}</code>"),
                ("Snapshot SHA-256", _hash(d["sha256"])),
            ]
        ),
        _table(["file", "rows", "SHA-256 of the file"], rows, numeric=(1,)),
        _source(
            f"{_event_ref(d['event_seq'], 'candidate.trained')}; version tags lineage.dataset_*"
        ),
    ]


def _data_validation(r: Mapping[str, Any]) -> list[str]:
    d = r["data_validation"]
    tables = [
        (escape(t), _num(v.get("rows")), _num(v.get("columns"))) for t, v in d["tables"].items()
    ]
    failing = [
        (
            _e(c.get("table")),
            f"<code>{_e(c.get('check'))}</code>",
            _e(", ".join(c.get("columns", []))),
            _status_badge("fail" if c.get("severity") == "critical" else "warn"),
            _num(c.get("unexpected_count")),
            _e(c.get("message")),
        )
        for c in d["failing_checks"]
    ]
    parts = [
        '<p class="lead">Before training, the data was checked against its contracts (column '
        "types, ranges, consistency between columns). A failed <em>critical</em> check stops "
        "the pipeline; a failed <em>warning</em> check is recorded and training goes on.</p>",
        *_note(d),
        _facts(
            [
                ("Result", f"{_yes_no(d['passed'])} {_dv_counts(d)}"),
                ("Checked at", _ts(d["validated_at"])),
            ]
        ),
        _table(["table", "rows", "columns"], tables, numeric=(1, 2)),
    ]
    if failing:
        header = ["table", "check", "columns", "severity", "rows failing", "message"]
        parts += ["<h3>Checks that failed</h3>", _table(header, failing, numeric=(4,))]
    elif d["passed"] is not None:
        parts.append("<p>Every check passed.</p>")
    parts.append(
        _source(
            f"{_event_ref(d['event_seq'], 'data.validated')}; full report: run artifact "
            f"<code>{_e(d['report_artifact'])}</code>"
        )
    )
    return parts


def _training(r: Mapping[str, Any]) -> list[str]:
    t = r["training"]
    names = sorted({m for metrics in t["holdout_metrics"].values() for m in metrics})
    headers = [_METRIC_HEADERS.get(n, n) for n in names]
    metric_rows = [
        (escape(model), *(_num(m.get(n)) for n in names))
        for model, m in t["holdout_metrics"].items()
    ]
    params = [(f"<code>{escape(k)}</code>", _e(v)) for k, v in sorted(t["parameters"].items())]
    return [
        '<p class="lead">Who trained the version, with which code and settings, and how '
        "accurate it was on recent orders it had not seen (the <em>holdout</em>). Errors are "
        "in bps of cost: MAE is the mean absolute error, bias the mean signed error.</p>",
        *_note(t),
        _facts(
            [
                ("Author", _e(t["author"])),
                ("MLflow run", f"<code>{_e(t['run_id'])}</code> ({_e(t['run_status'])})"),
                ("Trained", f"{_ts(t['started_at'])} to {_ts(t['ended_at'])}"),
                ("Registered", _ts(t["registered_at"])),
                ("Code version", f"<code>{_e(t['code_version'])}</code>"),
                ("Model artifact", f"<code>{_e(t['model_uri'])}</code>"),
                ("Model SHA-256", _hash(t["model_sha256"])),
            ]
        ),
        "<h3>Accuracy on the holdout (bps)</h3>",
        _table(["model", *headers], metric_rows, numeric=tuple(range(1, len(names) + 1)))
        or "<p>No holdout metrics recorded.</p>",
        f"<details><summary>All {len(params)} training parameters</summary>"
        f"{_table(['parameter', 'value'], params)}</details>",
        _source(f"{_event_ref(t['event_seq'], 'candidate.trained')}; MLflow run parameters"),
    ]


def _comparison(r: Mapping[str, Any]) -> list[str]:
    c = r["comparison"]
    rows = [
        (
            _reference_name(name, c),
            _num(v["candidate_mae"]),
            _num(v["reference_mae"]),
            _num(v["mae_difference"]),
            f"[{_num(v['ci_low'])}, {_num(v['ci_high'])}]",
            _num(v["margin_bps"]),
            _num(v["n_orders"]),
            _num(v["n_days"]),
            _verdict_badge(v["verdict"]),
        )
        for name, v in c["verdicts"].items()
    ]
    header = [
        "compared with",
        "this version's MAE",
        "their MAE",
        "difference",
        "95 % interval",
        "allowed margin",
        "orders",
        "days",
        "verdict",
    ]
    champion = c["champion_version"]
    against = (
        f"the champion of the time, version {_e(champion)}, and baselines"
        if "champion" in c["verdicts"]
        else "simple baseline models only"
    )
    return [
        '<p class="lead">Effective challenge: this version and each reference model predicted '
        "the cost of the same held-out orders. <em>Difference</em> is this version's mean "
        "absolute error minus the reference's, in bps (negative means this version is more "
        "accurate). The 95 % interval comes from resampling whole trading days. Verdict: "
        "<em>better</em> when the whole interval is below zero, <em>non-inferior</em> when "
        "its upper end is below the allowed margin, <em>worse</em> otherwise.</p>",
        *_note(c),
        f"<p>Compared with {against}.</p>" if c["verdicts"] else "",
        _table(header, rows, numeric=(1, 2, 3, 4, 5, 6, 7)),
        _source(_event_ref(c["event_seq"], "candidate.compared")),
    ]


def _stress(r: Mapping[str, Any]) -> list[str]:
    s = r["stress"]
    columns = _stress_columns(s["table"])
    rows = [
        [_e(row.get(c)) if c in ("scenario", "model") else _measure(row.get(c)) for c in columns]
        for row in s["table"]
    ]
    candidate = [i for i, row in enumerate(s["table"]) if row.get("model") == "candidate"]
    return [
        '<p class="lead">The execution this version would drive was simulated under normal and '
        "stressed markets (volatility spike, flash crash, liquidity withdrawal, ...), many "
        "random paths each, side by side with the reference model on the same paths. "
        "<em>CVaR95</em> is the average cost of the worst 5 % of paths; the kill-switch "
        "rate is the share of paths where the loss limit stopped trading. Rows in bold are "
        "this version (<em>candidate</em>).</p>",
        *_note(s),
        _table(
            [_STRESS_HEADERS.get(c, c) for c in columns],
            rows,
            numeric=tuple(range(2, len(columns))),
            row_class=lambda i: "candidate" if i in candidate else "",
        ),
        _source(_event_ref(s["event_seq"], "candidate.stressed")),
    ]


def _stress_columns(table: Sequence[Mapping[str, Any]]) -> list[str]:
    seen = list(dict.fromkeys(k for row in table for k in row))
    first = [c for c in ("scenario", "model") if c in seen]
    return first + [c for c in seen if c not in first]


def _gates(r: Mapping[str, Any]) -> list[str]:
    g = r["gates"]
    rows = [
        (
            _e(c.get("gate")),
            _e(c.get("subject")),
            _measure(c.get("value")),
            _e(c.get("limit")),
            _status_badge(str(c.get("status"))),
        )
        for c in g["checks"]
    ]
    latency = _latency(g["latency"])
    tone = "ok" if g["passed"] else "bad"
    verdict = (
        f'<p class="verdict {tone}">Gates {"passed" if g["passed"] else "FAILED"}: '
        f"{_gate_counts(g)}. The version then became <strong>{_e(g['lifecycle_after'])}"
        "</strong>.</p>"
        if g["passed"] is not None
        else ""
    )
    return [
        '<p class="lead">Every measured value against its limit in the risk policy. One '
        "<em>fail</em> blocks the version for good; <em>warn</em> is above an alert level "
        "but below the action level. The policy file is identified by its SHA-256.</p>",
        *_note(g),
        verdict,
        _facts(
            [
                ("Policy SHA-256", _hash(g["policy_sha256"])),
                ("Decision latency", latency or "&ndash;"),
                ("Judged at", _ts(g["gated_at"])),
            ]
        ),
        _table(["gate", "subject", "value", "limit", "result"], rows, numeric=(2,)),
        _source(f"{_event_ref(g['event_seq'], 'candidate.gated')}; run metrics latency.*"),
    ]


def _latency(latency: Mapping[str, float]) -> str:
    """``{"p50_ms": 0.8, "n_calls": 500}`` -> ``p50 0.80 ms, ..., 500 calls``."""
    timed = [
        f"{escape(k[:-3])} {_num(v)} ms" for k, v in sorted(latency.items()) if k.endswith("_ms")
    ]
    calls = latency.get("n_calls")
    return ", ".join(timed) + (f" over {_num(int(calls))} calls" if calls else "")


def _signoff(r: Mapping[str, Any]) -> list[str]:
    s = r["signoff"]
    rows = [
        (
            _e(a["by"]),
            _ts(a["at"]),
            "yes (policy)" if a["automatic"] else "no",
            _e(a["comment"]),
            f"#{a['event_seq']}",
        )
        for a in s["approvals"]
    ]
    parts = [
        '<p class="lead">Maker-checker: a validator named in the policy, who is not the '
        "author, reviews the evidence above and approves or rejects. Once the policy's "
        "number of approvals is reached the version is promoted.</p>",
        *_note(s),
        _facts(
            [
                ("Approvals required", _num(s["required"])),
                ("Approvals recorded", _num(len(s["approvals"]))),
                ("Complete", _num(s["complete"])),
            ]
        ),
        _table(["approved by", "when", "automatic", "comment", "audit event"], rows),
    ]
    if s["rejection"]:
        x = s["rejection"]
        parts.append(
            f'<p class="verdict bad">Rejected by {_e(x["by"])} on {_ts(x["at"])}: '
            f"{_e(x['comment'])} (audit event #{x['event_seq']})</p>"
        )
    return parts


def _events(r: Mapping[str, Any]) -> list[str]:
    rows = [
        (
            str(e["seq"]),
            _ts(e["ts"]),
            _e(e["actor"]),
            f'<code class="action">{_e(e["action"])}</code>',
            _e(EVENT_ROLES.get(e["role"], e["role"])),
            ("" if e["intact"] else _badge("altered since recorded", "bad") + " ")
            + f"{_e(e['summary'])}<details><summary>payload</summary>"
            f"<pre>{escape(json.dumps(e['payload'], indent=1, sort_keys=True))}</pre></details>",
        )
        for e in r["events"]
    ]
    return [
        '<p class="lead">Every audit-log entry about this version, oldest first: its own steps, '
        "the data check of its training run, and lifecycle changes recorded on another "
        "version that moved this one (a promotion that made it <em>previous</em>, a rollback "
        "that demoted it).</p>",
        _table(
            ["seq", "time", "who", "action", "concerns", "what happened"],
            rows,
            numeric=(0,),
            row_class=lambda i: "" if r["events"][i]["intact"] else "altered",
        )
        or '<p class="note">No audit event concerns this version.</p>',
    ]


def _audit(r: Mapping[str, Any]) -> list[str]:
    a = r["audit"]
    hashes = [
        (
            _e(h["what"]),
            f"<code>{_e(h['tag'])}</code><br>{_hash(h['tag_value'])}",
            _hash(h["audit_value"]),
            _yes_no(h["match"], "match", "differ") if h["match"] is not None else "&ndash;",
        )
        for h in a["recorded_hashes"]
    ]
    tone = "ok" if a["chain_ok"] else "bad"
    return [
        '<p class="lead">Each audit entry stores the fingerprint of the entry before it, so '
        "changing, inserting or deleting any entry breaks the chain from that point. The "
        "whole chain was recomputed when this report was generated. Key hashes are also kept "
        "on the registry entry; both copies must agree.</p>",
        *_note(a),
        f'<p class="verdict {tone}">{_e(a["summary"])}</p>',
        _facts(
            [
                ("Chain verified", _yes_no(a["chain_ok"], "yes", "no")),
                ("Events checked", _num(a["checked"])),
                ("First broken entry", _e(a["first_broken_seq"])),
                ("Reason", _e(a["reason"])),
                ("Head", f"seq {_e(a['head_seq'])}, hash {_hash(a['head_hash'])}"),
                (
                    "This version's entries",
                    f"{_num(a['version_events'])}, "
                    f"{_yes_no(a['version_events_intact'], 'intact', 'altered')}"
                    + (
                        f" (seq {_e(', '.join(map(str, a['tampered_event_seqs'])))})"
                        if a["tampered_event_seqs"]
                        else ""
                    ),
                ),
                ("Verified at", _ts(a["verified_at"])),
            ]
        ),
        "<h3>Hashes recorded twice</h3>",
        _table(["what", "registry tag", "audit log", "agree"], hashes),
    ]


_RENDERERS = (
    _summary,
    _dataset,
    _data_validation,
    _training,
    _comparison,
    _stress,
    _gates,
    _signoff,
    _events,
    _audit,
)
