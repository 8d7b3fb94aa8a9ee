"""Lineage reports and the inventory, read from a registry the retrain flow really built.

One work directory is built per module on the real Prefect test server, MLflow on SQLite
and the audit log: v1 approved and promoted; v2 approved and promoted over it, rolled
back, then decommissioned; v3 rejected at its gates. Tests only read it, except the
tampering test, which edits a copy.
"""

import base64
import csv
import io
import json
import re
import shutil
import sqlite3
import subprocess

import pytest
from govern_cli import adopt, run_govern

from cli.exit_codes import EXIT_GATES_FAILED, EXIT_INTEGRITY, EXIT_USAGE
from governance.ledger import open_audit_log
from governance.ledger.hashing import sha256_file
from governance.lifecycle.actions import approve, promote
from governance.stores.handle import open_stores
from governance.stores.settings import get_settings
from governance.trust.policy_store import load_model_policy, signer_for
from lineage import INVENTORY_COLUMNS, REPORT_KEYS, SECTIONS, lineage_report

MODEL = "execution-impact"
CHROMIUM = "/usr/bin/chromium"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _retrain(data_dir, workdir, seed):
    return run_govern(
        ["retrain", "--data", str(data_dir), "--workdir", str(workdir)]
        + ["--as", "maker", "--seed", str(seed), "--stress-paths", "1000"]
    )


def _approve_and_promote(workdir, version, validator):
    stores = open_stores(get_settings(workdir))
    policy = load_model_policy(stores.settings.policy_path, MODEL)
    keys = stores.settings.keys_dir
    signer = signer_for(keys, policy.file, validator)
    outcome = approve(stores, policy, MODEL, version, signer, f"reviewed v{version}")
    if outcome["promoted"] is None:  # a policy may leave the promotion to an operator
        on_call = signer_for(keys, policy.file, "on-call")
        promote(stores, policy, MODEL, version, on_call, "sign-off complete")


@pytest.fixture(scope="module")
def workdir(prefect_server, small_data_dir, tmp_path_factory):
    """v1 champion (restored by rollback), v2 decommissioned, v3 rejected at its gates."""
    root = tmp_path_factory.mktemp("lineage")
    w = root / "w"
    for version, seed, validator in (("1", 0, "validator"), ("2", 1, "risk-officer")):
        trained = _retrain(small_data_dir, w, seed)
        assert trained.exit_code == 0, trained.output
        _approve_and_promote(w, version, validator)
    for args in (
        ["rollback", MODEL, "--as", "on-call", "--reason", "slippage alert on v2"],
        ["decommission", MODEL, "2", "--as", "on-call", "--reason", "bias on large orders"],
    ):
        done = run_govern([*args, "--workdir", str(w)])
        assert done.exit_code == 0, done.output
    adopt(w, re.sub(r"p99_ms: [0-9.]+", "p99_ms: 1e-6", get_settings(w).policy_path.read_text()))
    rejected = _retrain(small_data_dir, w, 2)
    assert rejected.exit_code == EXIT_GATES_FAILED, rejected.output
    return w


@pytest.fixture(scope="module")
def reports(workdir):
    stores = open_stores(get_settings(workdir), create_audit=False)
    return {v: lineage_report(stores, MODEL, v) for v in ("1", "2", "3")}


def _actions(report):
    return [(e["action"], e["role"]) for e in report["events"]]


def test_promoted_version_has_its_full_lineage(reports, workdir, small_data_dir):
    r = reports["1"]
    assert tuple(r) == REPORT_KEYS
    json.dumps(r, allow_nan=False)  # plain JSON all the way down
    assert (r["model"], r["version"], r["lifecycle"]) == (MODEL, "1", "champion")

    d = r["dataset"]
    assert d["uri"] == small_data_dir.resolve().as_uri() and len(d["sha256"]) == 64
    files = {f["name"]: f for f in d["files"]}
    assert files["executions.parquet"]["sha256"] == sha256_file(
        small_data_dir / "executions.parquet"
    )
    assert files["executions.parquet"]["rows"] == 20_000 == d["rows"]["executions"]
    assert files["executions.parquet"]["uri"].endswith("/executions.parquet")

    dv = r["data_validation"]
    assert dv["passed"] is True and dv["checks"] > 100 and dv["critical_failures"] == 0
    assert dv["failing_checks"] == [] and dv["note"] is None

    t = r["training"]
    assert t["author"] == "maker" and t["run_status"] == "FINISHED"
    assert t["code_version"].startswith(("git:", "pkg:"))
    assert t["parameters"]["fit.objective"] == "regression" and t["parameters"]["seed"] == "0"
    assert t["holdout_metrics"]["candidate"]["mae"] > 0
    assert t["model_uri"].startswith("models:/") and len(t["model_sha256"]) == 64

    c = r["comparison"]
    assert c["champion_version"] is None and "no champion" in c["note"]
    assert set(c["verdicts"]) == {"sqrt_law_ridge"}
    verdict = c["verdicts"]["sqrt_law_ridge"]
    assert verdict["ci_low"] <= verdict["loss_difference"] <= verdict["ci_high"]
    assert verdict["loss"] == "squared error" and verdict["explanation"]

    s = r["stress"]
    assert {"baseline", "vol_spike"} <= set(s["scenarios"]) and "candidate" in s["models"]
    assert all("cvar95_shortfall_bps" in row for row in s["table"])

    g = r["gates"]
    assert g["passed"] is True and g["failed"] == [] and g["lifecycle_after"] == "pending-signoff"
    # Judged under the policy in force then: the first adopted, before the strict one.
    with open_audit_log(get_settings(workdir).audit_db_url) as audit:
        adopted = [e for e in audit.events() if e.action == "policy.adopted"]
    assert g["policy_sha256"] == adopted[0].payload["policy_sha256"]
    assert {"challenger", "stress CVaR95", "latency p99"} <= {x["gate"] for x in g["checks"]}

    so = r["signoff"]
    assert [(a["by"], a["comment"], a["automatic"]) for a in so["approvals"]] == [
        ("validator", "reviewed v1", False)
    ]
    assert so["complete"] is True and so["automatic"] is False and so["rejection"] is None

    assert _actions(r) == [
        ("data.validated", "data"),
        ("candidate.trained", "version"),
        ("candidate.compared", "version"),
        ("candidate.stressed", "version"),
        ("candidate.gated", "version"),
        ("signoff.approved", "version"),
        ("version.released", "version"),
        ("version.promoted", "version"),
        ("version.promoted", "previous"),  # v2's promotion made it previous
        ("version.rolled_back", "version"),  # the rollback made it champion again
    ]
    seqs = [e["seq"] for e in r["events"]]
    assert seqs == sorted(seqs)
    assert r["events"][0]["payload"]["run_id"] == t["run_id"]

    a = r["audit"]
    assert a["chain_ok"] is True and a["reason"] is None and a["version_events_intact"]
    assert a["head_seq"] == a["checked"] and re.fullmatch(r"[0-9a-f]{64}", a["head_hash"])
    assert a["hashes_consistent"] and all(h["match"] for h in a["recorded_hashes"])


def test_rolled_back_and_decommissioned_version_names_its_champion_and_its_end(reports):
    r = reports["2"]
    assert r["lifecycle"] == "decommissioned"
    assert r["comparison"]["champion_version"] == "1"
    champion = r["comparison"]["verdicts"]["champion"]
    assert champion["ci_high"] is not None and champion["verdict"] in ("better", "non-inferior")
    assert [a["by"] for a in r["signoff"]["approvals"]] == ["risk-officer"]
    assert _actions(r)[-3:] == [
        ("version.promoted", "version"),
        ("version.rolled_back", "demoted"),
        ("version.decommissioned", "version"),
    ]
    rolled, decommissioned = r["events"][-2:]
    assert rolled["actor"] == "on-call" and rolled["payload"]["reason"] == "slippage alert on v2"
    assert decommissioned["payload"]["reason"] == "bias on large orders"
    assert "decommissioned" in decommissioned["summary"]


def test_version_rejected_at_its_gates_says_what_is_missing(reports):
    r = reports["3"]
    assert tuple(r) == REPORT_KEYS and r["lifecycle"] == "rejected"
    assert r["gates"]["passed"] is False
    assert r["gates"]["failed"] == ["latency p99 [single-order decision]"]
    assert r["gates"]["lifecycle_after"] == "rejected"
    so = r["signoff"]
    assert so["approvals"] == [] and so["rejection"] is None and so["automatic"] is None
    assert "failed its gates" in so["note"]
    # v2 was decommissioned after the rollback: the champion at v3's challenge was v1 again.
    assert r["comparison"]["champion_version"] == "1"
    assert [a for a, _ in _actions(r)] == [
        "data.validated",
        "candidate.trained",
        "candidate.compared",
        "candidate.stressed",
        "candidate.gated",
    ]


def test_inventory_lists_every_version_with_its_milestones(workdir, tmp_path):
    out = tmp_path / "inventory.csv"
    done = run_govern(["lineage", MODEL, "--inventory", "-o", str(out), "--workdir", str(workdir)])
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == str(out)
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert tuple(rows[0]) == INVENTORY_COLUMNS
    by_version = {r["version"]: r for r in rows}
    assert list(by_version) == ["1", "2", "3"]
    v1, v2, v3 = by_version["1"], by_version["2"], by_version["3"]
    assert (v1["lifecycle"], v1["aliases"], v1["gates"]) == ("champion", "champion", "passed")
    assert v1["approvers"].startswith("validator (") and v1["promoted_at"]
    assert (v2["rolled_back_by"], v2["rolled_back_reason"]) == ("on-call", "slippage alert on v2")
    assert (v2["decommissioned_by"], v2["decommission_reason"]) == (
        "on-call",
        "bias on large orders",
    )
    assert v2["decommissioned_at"] > v2["rolled_back_at"] > v2["promoted_at"]
    assert (v3["lifecycle"], v3["gates"], v3["approvers"], v3["promoted_at"]) == (
        "rejected",
        "failed",
        "",
        "",
    )
    assert v3["gates_failed"] == "latency p99 [single-order decision]"

    as_json = run_govern(["lineage", MODEL, "--inventory", "-f", "json", "--workdir", str(workdir)])
    assert [r["author"] for r in json.loads(as_json.stdout)] == ["maker"] * 3
    as_md = run_govern(["lineage", MODEL, "--inventory", "--workdir", str(workdir)])
    assert as_md.exit_code == 0 and "rolled back" in as_md.stdout
    assert "decommissioned" in as_md.stdout and "bias on large orders" in as_md.stdout


def test_markdown_and_json_on_stdout(workdir):
    md = run_govern(["lineage", MODEL, "2", "--workdir", str(workdir)])
    assert md.exit_code == 0, md.output
    for _, heading in SECTIONS:
        assert f"\n## {heading}\n" in md.stdout
    assert "champion (v1)" in md.stdout and "slippage alert on v2" in md.stdout
    as_json = run_govern(["lineage", MODEL, "3", "--format", "json", "--workdir", str(workdir)])
    assert json.loads(as_json.stdout)["gates"]["passed"] is False


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "missing VERSION"),
        (["9"], "no version 9 of registered model 'execution-impact' (versions: 1, 2, 3)"),
        (["0"], "positive integer"),
        (["1", "--inventory"], "--inventory lists every version"),
        (["--inventory", "-f", "html"], "--format must be one of csv, json, md, got 'html'"),
        (["1", "-f", "pdf"], "--format must be one of json, md, html, got 'pdf'"),
    ],
)
def test_usage_errors_exit_2(workdir, args, message):
    done = run_govern(["lineage", MODEL, *args, "--workdir", str(workdir)])
    assert done.exit_code == EXIT_USAGE and message in done.stderr, done.output


def test_unknown_model_and_empty_workdir_exit_2(workdir, tmp_path):
    done = run_govern(["lineage", "nope", "1", "--workdir", str(workdir)])
    assert done.exit_code == EXIT_USAGE and "no registered model 'nope'" in done.stderr
    empty = tmp_path / "empty"
    done = run_govern(["lineage", MODEL, "1", "--workdir", str(empty)])
    assert done.exit_code == EXIT_USAGE and "expected an MLflow database" in done.stderr
    assert not (empty / "mlflow.db").exists()


def test_tampered_audit_log_is_reported_and_exits_6(workdir, tmp_path):
    copy = tmp_path / "w"
    shutil.copytree(workdir, copy)
    with sqlite3.connect(copy / "mlflow.db") as db:  # what someone with DDL rights could do
        db.execute("DROP TRIGGER governance_audit_events_no_update")
        (seq,) = db.execute(
            "SELECT seq FROM governance_audit_events "
            "WHERE action = 'signoff.approved' AND version = '1'"
        ).fetchone()
        db.execute(
            "UPDATE governance_audit_events SET payload_json = "
            "replace(payload_json, 'reviewed v1', 'approved, no review') WHERE seq = ?",
            (seq,),
        )
    out = tmp_path / "v1.json"
    done = run_govern(["lineage", MODEL, "1", "-o", str(out), "--workdir", str(copy)])
    assert done.exit_code == EXIT_INTEGRITY, done.output
    assert "audit chain does not verify" in done.stderr
    report = json.loads(out.read_text())  # written all the same, JSON from the suffix
    assert [e["seq"] for e in report["events"] if not e["intact"]] == [seq]
    audit = report["audit"]
    assert audit["chain_ok"] is False and audit["first_broken_seq"] == seq
    assert f"seq {seq}" in audit["reason"]
    assert audit["version_events_intact"] is False and audit["tampered_event_seqs"] == [seq]


def _chromium(url, user_dir, *args):
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={user_dir}",
            *args,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    )


@pytest.mark.skipif(
    not shutil.which(CHROMIUM), reason="needs Chromium (.ci/system-packages.sh installs it)"
)
def test_html_report_renders_in_chromium_with_its_plots(workdir, tmp_path):
    page = tmp_path / "lineage-v2.html"
    done = run_govern(["lineage", MODEL, "2", "-o", str(page), "--workdir", str(workdir)])
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == str(page)
    html = page.read_text()
    assert "<script" not in html and "http://" not in html and "https://" not in html

    dom = _chromium(page.as_uri(), tmp_path / "chrome", "--dump-dom").stdout
    assert "What this document is" in dom
    for anchor, heading in SECTIONS:
        assert re.search(rf'<section id="{anchor}">\s*<h2>{re.escape(heading)}</h2>', dom), heading
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', dom)
    assert len(images) == dom.count("<img") == 4
    assert all(base64.b64decode(data).startswith(PNG_MAGIC) for data in images)
    assert "slippage alert on v2" in dom and "bias on large orders" in dom

    shot = tmp_path / "lineage-v2.png"
    _chromium(page.as_uri(), tmp_path / "chrome", f"--screenshot={shot}", "--window-size=1200,2400")
    assert shot.read_bytes().startswith(PNG_MAGIC) and shot.stat().st_size > 50_000
