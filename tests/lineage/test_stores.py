"""``govern lineage`` on a registry and audit log written directly, without running a flow.

MLflow runs on SQLite in a temporary work directory and the audit log shares its database,
as in the embedded set-up; the events are those the pipeline's steps record. The test
checks what the flow-driven tests in ``test_lineage.py`` cannot isolate: the reads go
through one :class:`~governance.stores.handle.Stores` handle with explicit URIs, plots are
downloaded from the run, and the newest payload fields reach every format.
"""

import base64
import csv
import io
import json
import re

import pytest
from govern_cli import run_govern, trust
from mlflow.tracking import MlflowClient

from cli.exit_codes import EXIT_USAGE
from governance.ledger import record_event
from governance.stores.handle import open_stores
from governance.stores.settings import ensure_workdir, get_settings
from governance.trust.policy_store import load_model_policy, signer_for
from governance.trust.signatures import SIGNED_ACTIONS, record_signed
from vocabulary import Action, Alias, Lifecycle, Tag

MODEL = "execution-impact"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
LIBRARY_SHA = "5c" * 32


def _register(stores, plots_dir):
    """One run with a plot, registered as version 1 and promoted, audited as the steps do."""
    client = stores.client
    run_id = client.create_run(stores.experiment_id()).info.run_id
    client.log_param(run_id, "seed", "0")
    client.log_metric(run_id, "holdout.candidate.mae", 3.25)
    plot = plots_dir / "stress_vol_spike_path.png"
    plot.write_bytes(PNG)
    client.log_artifact(run_id, str(plot), "plots")
    client.set_terminated(run_id)
    client.create_registered_model(MODEL)
    tags = {
        Tag.LIFECYCLE: Lifecycle.CHAMPION,
        Tag.RUN_ID: run_id,
        Tag.AUTHOR: "maker",
        Tag.GATES_PASSED: "true",
        Tag.APPROVALS: json.dumps([{"by": "validator"}]),
    }
    client.create_model_version(MODEL, f"runs:/{run_id}/model", run_id, tags=tags)
    client.set_registered_model_alias(MODEL, Alias.CHAMPION, "1")
    gates = {"passed": True, "counts": {"pass": 1, "warn": 0, "fail": 0}, "checks": []}
    steps = [
        ("maker", Action.CANDIDATE_TRAINED, {"run_id": run_id, "dataset_uri": "file:///d"}),
        (
            "maker",
            Action.CANDIDATE_STRESSED,
            {
                "run_id": run_id,
                "table": [
                    {"scenario": "vol_spike", "model": "candidate", "cvar95_shortfall_bps": 80.0}
                ],
                "scenario_library_sha256": LIBRARY_SHA,
            },
        ),
        ("maker", Action.CANDIDATE_GATED, {"lifecycle": Lifecycle.PENDING_SIGNOFF, "gates": gates}),
        ("validator", Action.SIGNOFF_APPROVED, {"comment": "ok", "approvals": 1, "required": 1}),
        ("on-call", Action.VERSION_PROMOTED, {"champion": "1", "reason": "first champion"}),
    ]
    loaded = load_model_policy(stores.settings.policy_path, MODEL)
    for actor, action, payload in steps:
        if action not in SIGNED_ACTIONS:
            record_event(stores.audit, actor, action, payload, model=MODEL, version="1")
            continue
        # Decisions are signed, as the steps sign them: unsigned, lineage would not show them.
        signer = signer_for(stores.settings.keys_dir, loaded.file, actor)
        record_signed(
            stores.audit,
            signer,
            actor,
            action,
            payload,
            MODEL,
            "1",
            policy_sha256=loaded.sha256,
            time="2026-12-08T09:00:00+00:00",
        )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("lineage-stores")
    w = root / "w"
    trust(w)
    _register(open_stores(ensure_workdir(get_settings(w))), root)
    return w


def test_html_embeds_the_plot_downloaded_from_the_run(workdir, tmp_path):
    page = tmp_path / "v1.html"
    done = run_govern(["lineage", MODEL, "1", "-o", str(page), "--workdir", str(workdir)])
    assert done.exit_code == 0, done.output
    html = page.read_text()
    (data,) = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert base64.b64decode(data) == PNG
    assert LIBRARY_SHA in html and "went live" in html


def test_json_and_markdown_carry_the_replayed_history(workdir):
    as_json = run_govern(["lineage", MODEL, "1", "-f", "json", "--workdir", str(workdir)])
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.stdout)
    assert report["stress"]["scenario_library_sha256"] == LIBRARY_SHA
    assert [c["lifecycle"] for c in report["lifecycle_history"]] == [
        "validating",
        "pending-signoff",
        "approved",
        "champion",
    ]
    assert report["audit"]["chain_ok"] and report["signoff"]["note"] is None
    md = run_govern(["lineage", MODEL, "1", "--workdir", str(workdir)]).stdout
    assert f"Scenario library sha256 `{LIBRARY_SHA}`" in md
    assert "- In production: went live" in md and "first champion" in md


def test_inventory_reads_its_milestones_from_the_log(workdir):
    done = run_govern(["lineage", MODEL, "--inventory", "-f", "csv", "--workdir", str(workdir)])
    assert done.exit_code == 0, done.output
    (row,) = csv.DictReader(io.StringIO(done.stdout))
    assert (row["lifecycle"], row["aliases"], row["gates"]) == ("champion", "champion", "passed")
    assert row["promoted_by"] == "on-call" and row["approvers"].startswith("validator (")


def test_a_registry_without_an_audit_log_is_refused_not_given_one(tmp_path):
    settings = ensure_workdir(get_settings(tmp_path / "w"))
    MlflowClient(settings.tracking_uri, settings.registry_uri).create_registered_model(MODEL)
    done = run_govern(["lineage", MODEL, "--inventory", "--workdir", str(tmp_path / "w")])
    assert done.exit_code == EXIT_USAGE and "expected an audit table" in done.stderr
