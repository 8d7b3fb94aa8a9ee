"""The detail sections of the HTML report, dataset to audit chain, each for a first-time reader.

Each section opens with a paragraph saying what it shows in plain words and closes
with the audit event or registry entry its evidence comes from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape
from typing import Any

from lineage.assemble import SectionRenderers
from lineage.columns import (
    METRIC_HEADERS,
    STRESS_HEADERS,
    is_stress_key,
    metric_names,
    stress_columns,
)
from lineage.events import EVENT_ROLES
from lineage.formatting import contract_counts, gate_counts, reference_label
from lineage.html_blocks import (
    badge,
    e,
    event_ref,
    facts,
    hash_html,
    measure_html,
    note,
    num,
    source,
    status_badge,
    table,
    ts,
    yes_no,
)
from lineage.html_summary import verdict_badge
from vocabulary import Action, Alias, Tag

__all__ = ["DETAIL_SECTIONS"]

DETAIL_SECTIONS = SectionRenderers()
"""Renderer of each section after the summary, by anchor (see ``SECTIONS``)."""


@DETAIL_SECTIONS.of("dataset")
def _dataset(r: Mapping[str, Any]) -> list[str]:
    d = r["dataset"]
    rows = [
        (f"<code>{e(f['name'])}</code>", num(f["rows"]), hash_html(f["sha256"])) for f in d["files"]
    ]
    return [
        '<p class="lead">The data the version learnt from. Data is never copied: it is '
        "identified by where it lives (URI) and by the SHA-256 fingerprint of each file, so "
        "anyone can prove later that a file is the one used.</p>",
        *note(d),
        facts(
            [
                ("Location (URI)", f"<code>{e(d['uri'])}</code>"),
                ("Snapshot SHA-256", hash_html(d["sha256"])),
            ]
        ),
        table(["file", "rows", "SHA-256 of the file"], rows, numeric=(1,)),
        source(
            f"{event_ref(d['event_seq'], Action.CANDIDATE_TRAINED)}; version tags "
            f"{Tag.DATASET_URI}, {Tag.DATASET_SHA256}, {Tag.DATASET_ROWS}"
        ),
    ]


@DETAIL_SECTIONS.of("data-validation")
def _data_validation(r: Mapping[str, Any]) -> list[str]:
    d = r["data_validation"]
    tables = [
        (escape(t), num(v.get("rows")), num(v.get("columns"))) for t, v in d["tables"].items()
    ]
    failing = [
        (
            e(c.get("table")),
            f"<code>{e(c.get('check'))}</code>",
            e(", ".join(c.get("columns", []))),
            status_badge("fail" if c.get("severity") == "critical" else "warn"),
            num(c.get("unexpected_count")),
            e(c.get("message")),
        )
        for c in d["failing_checks"]
    ]
    parts = [
        '<p class="lead">Before training, the data was checked against its contracts (column '
        "types, ranges, consistency between columns). A failed <em>critical</em> check stops "
        "the pipeline; a failed <em>warning</em> check is recorded and training goes on.</p>",
        *note(d),
        facts(
            [
                ("Result", f"{yes_no(d['passed'])} {escape(contract_counts(d) or '')}"),
                ("Checked at", ts(d["validated_at"])),
            ]
        ),
        table(["table", "rows", "columns"], tables, numeric=(1, 2)),
    ]
    if failing:
        header = ["table", "check", "columns", "severity", "rows failing", "message"]
        parts += ["<h3>Checks that failed</h3>", table(header, failing, numeric=(4,))]
    elif d["passed"] is not None:
        parts.append("<p>Every check passed.</p>")
    parts.append(
        source(
            f"{event_ref(d['event_seq'], Action.DATA_VALIDATED)}; full report: run artifact "
            f"<code>{e(d['report_artifact'])}</code>"
        )
    )
    return parts


@DETAIL_SECTIONS.of("training")
def _training(r: Mapping[str, Any]) -> list[str]:
    t = r["training"]
    names = metric_names(t["holdout_metrics"])
    metric_rows = [
        (escape(model), *(num(m.get(n)) for n in names))
        for model, m in t["holdout_metrics"].items()
    ]
    params = [(f"<code>{escape(k)}</code>", e(v)) for k, v in sorted(t["parameters"].items())]
    return [
        '<p class="lead">Who trained the version, with which code and settings, and how '
        "accurate it was on recent orders it had not seen (the <em>holdout</em>). Errors are "
        "in bps of cost: MAE is the mean absolute error, bias the mean signed error.</p>",
        *note(t),
        facts(
            [
                ("Author", e(t["author"])),
                ("MLflow run", f"<code>{e(t['run_id'])}</code> ({e(t['run_status'])})"),
                ("Trained", f"{ts(t['started_at'])} to {ts(t['ended_at'])}"),
                ("Registered", ts(t["registered_at"])),
                ("Code version", f"<code>{e(t['code_version'])}</code>"),
                ("Model artifact", f"<code>{e(t['model_uri'])}</code>"),
                ("Model SHA-256", hash_html(t["model_sha256"])),
            ]
        ),
        "<h3>Accuracy on the holdout (bps)</h3>",
        table(
            ["model", *(METRIC_HEADERS.get(n, n) for n in names)],
            metric_rows,
            numeric=tuple(range(1, len(names) + 1)),
        )
        or "<p>No holdout metrics recorded.</p>",
        f"<details><summary>All {len(params)} training parameters</summary>"
        f"{table(['parameter', 'value'], params)}</details>",
        source(f"{event_ref(t['event_seq'], Action.CANDIDATE_TRAINED)}; MLflow run parameters"),
    ]


@DETAIL_SECTIONS.of("comparison")
def _comparison(r: Mapping[str, Any]) -> list[str]:
    c = r["comparison"]
    champion = c["champion_version"]
    rows = [
        (
            e(reference_label(name, champion)),
            num(v["candidate_loss"], 1),
            num(v["reference_loss"], 1),
            num(v["skill"], 1),
            num(v["loss_difference"], 1),
            f"[{num(v['ci_low'], 1)}, {num(v['ci_high'], 1)}]",
            num(v["margin"], 1),
            num(v["candidate_mae"]),
            num(v["reference_mae"]),
            num(v["n_orders"]),
            num(v["n_days"]),
            verdict_badge(v["verdict"]),
        )
        for name, v in c["verdicts"].items()
    ]
    header = [
        "compared with",
        "this version's MSE (bps²)",
        "their MSE",
        "their skill",
        "difference",
        "95 % interval",
        "allowed margin",
        "this version's MAE (bps)",
        "their MAE",
        "orders",
        "days",
        "verdict",
    ]
    against = (
        f"the champion of the time, version {e(champion)}, and baselines"
        if Alias.CHAMPION in c["verdicts"]
        else "simple baseline models only"
    )
    reasons = "".join(
        f"<li><strong>{e(reference_label(name, champion))}:</strong> {e(v['explanation'])}</li>"
        for name, v in c["verdicts"].items()
        if v.get("explanation")
    )
    return [
        '<p class="lead">Effective challenge: this version and each reference model predicted '
        "the cost of the same held-out orders, judged by mean squared error (the model "
        "predicts an expected cost, which is what squared error rewards). <em>Difference</em> "
        "is this version's MSE minus the reference's, in bps² (negative means this version "
        "is more accurate); its 95 % interval is a t interval over trading days (orders of "
        "one day share the market). The reference's <em>skill</em> is its MSE reduction over "
        "a constant prediction of the mean cost; the <em>allowed margin</em> is the share "
        "of that skill the policy lets a candidate give up. Verdict: <em>better</em> when the "
        "whole interval is below zero; <em>non-inferior</em> when its upper end is below the "
        "margin; <em>worse</em> when it is significantly above zero and reaches past the "
        "margin; <em>inconclusive</em> when it holds both zero and the margin. Only better "
        "and non-inferior pass the gates: the burden of proof is on the candidate. MAE is "
        "shown, not judged.</p>",
        *note(c),
        f"<p>Compared with {against}.</p>" if c["verdicts"] else "",
        table(header, rows, numeric=tuple(range(1, 11))),
        f"<ul>{reasons}</ul>" if reasons else "",
        source(event_ref(c["event_seq"], Action.CANDIDATE_COMPARED)),
    ]


@DETAIL_SECTIONS.of("stress")
def _stress(r: Mapping[str, Any]) -> list[str]:
    s = r["stress"]
    columns = stress_columns(s["table"])
    rows = [
        [e(row.get(c)) if is_stress_key(c) else measure_html(row.get(c)) for c in columns]
        for row in s["table"]
    ]
    candidate = [i for i, row in enumerate(s["table"]) if row.get("model") == "candidate"]
    library = s["scenario_library_sha256"]
    return [
        '<p class="lead">The execution this version would drive was simulated under normal and '
        "stressed markets (volatility spike, flash crash, liquidity withdrawal, ...), many "
        "random paths each, side by side with the reference model on the same paths. "
        "<em>CVaR95</em> is the average cost of the worst 5 % of paths; the kill-switch "
        "rate is the share of paths where the loss limit stopped trading. Rows in bold are "
        "this version (<em>candidate</em>).</p>",
        *note(s),
        facts([("Scenario library SHA-256", hash_html(library))]) if library else "",
        table(
            [STRESS_HEADERS.get(c, c) for c in columns],
            rows,
            numeric=tuple(range(2, len(columns))),
            row_class=lambda i: "candidate" if i in candidate else "",
        ),
        source(event_ref(s["event_seq"], Action.CANDIDATE_STRESSED)),
    ]


@DETAIL_SECTIONS.of("gates")
def _gates(r: Mapping[str, Any]) -> list[str]:
    g = r["gates"]
    rows = [
        (
            e(c.get("gate")),
            e(c.get("subject")),
            measure_html(c.get("value")),
            e(c.get("limit")),
            status_badge(str(c.get("status"))),
        )
        for c in g["checks"]
    ]
    verdict = ""
    if g["passed"] is not None:
        verdict = (
            f'<p class="verdict {"ok" if g["passed"] else "bad"}">Gates '
            f"{'passed' if g['passed'] else 'FAILED'}: {escape(gate_counts(g['counts']) or '')}. "
            f"The version then became <strong>{e(g['lifecycle_after'])}</strong>.</p>"
        )
    return [
        '<p class="lead">Every measured value against its limit in the risk policy. One '
        "<em>fail</em> blocks the version for good; <em>warn</em> is above an alert level "
        "but below the action level. The policy file is identified by its SHA-256.</p>",
        *note(g),
        verdict,
        facts(
            [
                ("Policy SHA-256", hash_html(g["policy_sha256"])),
                ("Decision latency", _latency(g["latency"]) or "&ndash;"),
                ("Judged at", ts(g["gated_at"])),
            ]
        ),
        table(["gate", "subject", "value", "limit", "result"], rows, numeric=(2,)),
        source(f"{event_ref(g['event_seq'], Action.CANDIDATE_GATED)}; run metrics latency.*"),
    ]


def _latency(latency: Mapping[str, float]) -> str:
    """``{"p50_ms": 0.8, "n_calls": 500}`` -> ``p50 0.80 ms, ..., over 500 calls``."""
    timed = [
        f"{escape(k[:-3])} {num(v)} ms" for k, v in sorted(latency.items()) if k.endswith("_ms")
    ]
    calls = latency.get("n_calls")
    return ", ".join(timed) + (f" over {num(int(calls))} calls" if calls else "")


@DETAIL_SECTIONS.of("signoff")
def _signoff(r: Mapping[str, Any]) -> list[str]:
    s = r["signoff"]
    rows = [
        (
            e(a["by"]),
            ts(a["at"]),
            "yes (policy)" if a["automatic"] else "no",
            e(a["comment"]),
            f"#{a['event_seq']}",
        )
        for a in s["approvals"]
    ]
    parts = [
        '<p class="lead">Maker-checker: a validator named in the policy, who is not the '
        "author, reviews the evidence above and approves or rejects. Once the policy's "
        "number of approvals is reached the version is promoted.</p>",
        *note(s),
        facts(
            [
                ("Approvals required", num(s["required"])),
                ("Approvals recorded", num(len(s["approvals"]))),
                ("Complete", num(s["complete"])),
            ]
        ),
        table(["approved by", "when", "automatic", "comment", "audit event"], rows),
    ]
    if s["rejection"]:
        x = s["rejection"]
        parts.append(
            f'<p class="verdict bad">Rejected by {e(x["by"])} on {ts(x["at"])}: '
            f"{e(x['comment'])} (audit event #{x['event_seq']})</p>"
        )
    return parts


@DETAIL_SECTIONS.of("events")
def _events(r: Mapping[str, Any]) -> list[str]:
    rows = [
        (
            str(ev["seq"]),
            ts(ev["ts"]),
            e(ev["actor"]),
            f'<code class="action">{e(ev["action"])}</code>',
            e(EVENT_ROLES.get(ev["role"], ev["role"])),
            ("" if ev["intact"] else badge("altered since recorded", "bad") + " ")
            + f"{e(ev['summary'])}<details><summary>payload</summary>"
            f"<pre>{escape(json.dumps(ev['payload'], indent=1, sort_keys=True))}</pre></details>",
        )
        for ev in r["events"]
    ]
    return [
        '<p class="lead">Every audit-log entry about this version, oldest first: its own steps, '
        "the data check of its training run, and lifecycle changes recorded on another "
        "version that moved this one (a promotion that made it <em>previous</em>, a rollback "
        "that demoted it).</p>",
        table(
            ["seq", "time", "who", "action", "concerns", "what happened"],
            rows,
            numeric=(0,),
            row_class=lambda i: "" if r["events"][i]["intact"] else "altered",
        )
        or '<p class="note">No audit event concerns this version.</p>',
    ]


@DETAIL_SECTIONS.of("audit")
def _audit(r: Mapping[str, Any]) -> list[str]:
    a = r["audit"]
    hashes = [
        (
            e(h["what"]),
            f"<code>{e(h['tag'])}</code><br>{hash_html(h['tag_value'])}",
            hash_html(h["audit_value"]),
            yes_no(h["match"], "match", "differ") if h["match"] is not None else "&ndash;",
        )
        for h in a["recorded_hashes"]
    ]
    altered = a["tampered_event_seqs"]
    return [
        '<p class="lead">Each audit entry stores the fingerprint of the entry before it, so '
        "changing, inserting or deleting any entry breaks the chain from that point. The "
        "whole chain was recomputed when this report was generated. Key hashes are also kept "
        "on the registry entry; both copies must agree.</p>",
        *note(a),
        f'<p class="verdict {"ok" if a["chain_ok"] else "bad"}">{e(a["summary"])}</p>',
        facts(
            [
                ("Chain verified", yes_no(a["chain_ok"], "yes", "no")),
                ("Events checked", num(a["checked"])),
                ("First broken entry", e(a["first_broken_seq"])),
                ("Reason", e(a["reason"])),
                ("Head", f"seq {e(a['head_seq'])}, hash {hash_html(a['head_hash'])}"),
                (
                    "This version's entries",
                    f"{num(a['version_events'])}, "
                    f"{yes_no(a['version_events_intact'], 'intact', 'altered')}"
                    + (f" (seq {e(', '.join(map(str, altered)))})" if altered else ""),
                ),
                ("Verified at", ts(a["verified_at"])),
            ]
        ),
        "<h3>Hashes recorded twice</h3>",
        table(["what", "registry tag", "audit log", "agree"], hashes),
    ]
