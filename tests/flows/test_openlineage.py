"""OpenLineage run events of a retrain, received over HTTP and checked against the spec.

The schemas in ``openlineage_spec/`` are the OpenLineage specification's own files, of
the versions the pinned client writes (see that folder's README).
"""

import json
import os
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from govern_cli import MODEL, retrain
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from governance.ledger import open_audit_log
from governance.records.run_events import (
    LineageDataset,
    RetrainLineage,
    events_file,
    lineage_client,
)
from governance.stores.settings import get_settings

SPEC = Path(__file__).with_name("openlineage_spec")
STAGES = (
    "data-contracts",
    "train",
    "log-and-register",
    "challenger-comparison",
    "stress-backtests",
    "latency-and-gates",
)


def _registry() -> Registry:
    resources = [
        Resource.from_contents(json.loads(path.read_text())) for path in SPEC.glob("*.json")
    ]
    return Registry().with_resources((r.contents["$id"], r) for r in resources)


REGISTRY = _registry()
EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


def schema_problems(event: dict) -> list[str]:
    """Every way ``event`` and each of its facets break their OpenLineage schemas."""
    problems = [
        e.message
        for e in Draft202012Validator({"$ref": EVENT_SCHEMA}, registry=REGISTRY).iter_errors(event)
    ]
    facets = [*event["run"].get("facets", {}).values()]
    for dataset in event.get("inputs", []) + event.get("outputs", []):
        facets += [*dataset.get("facets", {}).values(), *dataset.get("inputFacets", {}).values()]
    for facet in facets:
        validator = Draft202012Validator({"$ref": facet["_schemaURL"]}, registry=REGISTRY)
        problems += [f"{facet['_schemaURL']}: {e.message}" for e in validator.iter_errors(facet)]
    return problems


@pytest.fixture
def lineage_endpoint(monkeypatch):
    """A loopback HTTP server that keeps every event POSTed to it; OPENLINEAGE_URL set."""
    received: list[dict] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "event": json.loads(body)})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("OPENLINEAGE_URL", f"http://127.0.0.1:{server.server_port}")
    before = set(os.environ)
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()
        # The client copies OPENLINEAGE_URL into OPENLINEAGE__TRANSPORT__... variables of
        # the process; later tests must not inherit them.
        for name in set(os.environ) - before:
            del os.environ[name]


def test_each_stage_of_a_retrain_reports_its_datasets_and_contracts(
    prefect_server, small_data_dir, tmp_path, lineage_endpoint
):
    workdir = tmp_path / "w"
    done = retrain(small_data_dir, workdir)
    assert done.exit_code == 0, done.output
    assert {r["path"] for r in lineage_endpoint} == {"/api/v1/lineage"}
    events = [r["event"] for r in lineage_endpoint]
    for event in events:
        assert schema_problems(event) == [], event
    assert not events_file(workdir).exists()  # the client's own configuration won

    with open_audit_log(get_settings(workdir).audit_db_url) as audit:
        (trained,) = [e for e in audit.events() if e.action == "candidate.trained"]
    parent_run = str(uuid.UUID(hex=trained.payload["run_id"]))
    by_job = {}
    for event in events:
        by_job.setdefault(event["job"]["name"], []).append(event)
    assert set(by_job) == {f"{MODEL}.retrain"} | {f"{MODEL}.retrain.{s}" for s in STAGES}
    assert [e["eventType"] for e in by_job[f"{MODEL}.retrain"]] == ["START", "COMPLETE"]
    assert all(e["run"]["runId"] == parent_run for e in by_job[f"{MODEL}.retrain"])

    model = (trained.payload["model_uri"], f"sha256:{trained.payload['model_sha256']}")
    for stage in STAGES:
        start, end = by_job[f"{MODEL}.retrain.{stage}"]
        assert (start["eventType"], end["eventType"]) == ("START", "COMPLETE")
        assert start["run"]["runId"] == end["run"]["runId"] != parent_run
        assert end["run"]["facets"]["parent"]["run"]["runId"] == parent_run
        files = {
            Path(d["name"]).name: d["facets"]["version"]["datasetVersion"]
            for d in end["inputs"]
            if d["namespace"] == "file"
        }
        recorded = trained.payload["dataset_files"]
        assert files == {name: f"sha256:{sha}" for name, sha in recorded.items()}
        models = [
            (d["name"], d["facets"]["version"]["datasetVersion"])
            for d in end["inputs"]
            if d["namespace"] != "file"
        ]
        assert models == (
            [] if STAGES.index(stage) <= STAGES.index("log-and-register") else [model]
        )

    registered = by_job[f"{MODEL}.retrain.log-and-register"][1]["outputs"]
    assert [(d["name"], d["facets"]["version"]["datasetVersion"]) for d in registered] == [model]
    contracts = by_job[f"{MODEL}.retrain.data-contracts"][1]
    checked = {
        Path(d["name"]).name: d["inputFacets"]["dataQualityAssertions"]["assertions"]
        for d in contracts["inputs"]
    }
    assert set(checked) == set(recorded)
    executions = {a["assertion"]: a for a in checked["executions.parquet"]}
    assert executions["spread_bps_non_negative"]["column"] == "spread_bps"
    assert all(a["success"] for a in executions.values() if a["severity"] == "critical")


def test_without_configuration_events_go_to_the_work_directory_and_failures_say_why(tmp_path):
    snapshot = [LineageDataset("file", str(tmp_path / "executions.parquet"), "ab" * 32)]
    lineage = RetrainLineage(lineage_client(tmp_path), MODEL, uuid.uuid4().hex, snapshot)
    lineage.start()
    with lineage.stage("train") as stage:
        stage.produced(LineageDataset("sqlite:///m.db", "models:/m-1", "cd" * 32))
    with pytest.raises(RuntimeError), lineage.stage("stress backtests"):
        raise RuntimeError("kernel aborted")
    lineage.finish(RuntimeError("kernel aborted"))

    events = [json.loads(line) for line in events_file(tmp_path).read_text().splitlines()]
    for event in events:
        assert schema_problems(event) == [], event
    assert [(e["job"]["name"].rsplit(".", 1)[-1], e["eventType"]) for e in events] == [
        ("retrain", "START"),
        ("train", "START"),
        ("train", "COMPLETE"),
        ("stress-backtests", "START"),
        ("stress-backtests", "FAIL"),
        ("retrain", "FAIL"),
    ]
    failed = events[4]
    assert failed["run"]["facets"]["errorMessage"]["message"] == "kernel aborted"
    assert "RuntimeError" in failed["run"]["facets"]["errorMessage"]["stackTrace"]
    # What a stage produced is an input of the stages after it, and the run's output.
    assert [d["name"] for d in failed["inputs"]] == [snapshot[0].name, "models:/m-1"]
    assert [d["name"] for d in events[5]["outputs"]] == ["models:/m-1"]
