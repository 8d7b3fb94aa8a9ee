"""The lineage report built and rendered from plain records and real audit events (no flow run).

Events are appended to an audit log in a temporary SQLite database; the version record is
what :mod:`lineage.gather` copies out of MLflow.
"""

import json
from html.parser import HTMLParser

import numpy as np
import pytest

from governance.ledger import open_audit_log
from lineage import assemble_report, describe_event, to_html, to_markdown
from lineage.columns import STRESS_HEADERS
from validation.comparison import compare_paired
from vocabulary import Action, Lifecycle, Tag

MODEL = "execution-impact"
LIBRARY_SHA = "ab" * 32
STRESS_ROW = {"scenario": "vol_spike", "model": "candidate", "cvar95_shortfall_bps": 123.456}


@pytest.mark.parametrize("action", list(Action))
def test_every_action_has_a_description_of_its_own(action):
    described = describe_event(action, {})
    assert described and not described.startswith("payload keys")
    assert describe_event(str(action), {}) == described  # as read back from the table


def test_an_unknown_action_lists_its_payload_keys():
    assert describe_event("model.renamed", {"to": "x", "from": "y"}) == "payload keys: from, to"


def test_a_failed_validation_says_why():
    summary = describe_event(Action.CANDIDATE_FAILED, {"error": "ValueError: no paths"})
    assert "failed" in summary and "ValueError: no paths" in summary


@pytest.fixture
def audit(tmp_path):
    log = open_audit_log(f"sqlite:///{tmp_path / 'audit.db'}")
    yield log
    log.close()


def _record(version, tags=None):
    return {
        "model": MODEL,
        "version": version,
        "tags": {Tag.LIFECYCLE: Lifecycle.CHAMPION, **(tags or {})},
        "aliases": [],
        "created_at": "2026-02-02T10:00:00+00:00",
        "source": f"models:/m-{version}",
        "run_id": f"run-{version}",
        "description": "",
    }


def _report(audit, stressed_payload):
    audit.append("maker", Action.CANDIDATE_TRAINED, {"run_id": "run-1"}, MODEL, "1")
    audit.append("maker", Action.CANDIDATE_STRESSED, stressed_payload, MODEL, "1")
    gates = {"passed": True, "counts": {"pass": 3}}
    audit.append(
        "maker",
        Action.CANDIDATE_GATED,
        {"lifecycle": "pending-signoff", "gates": gates},
        MODEL,
        "1",
    )
    signoff = {"approvals": 1, "required": 1, "comment": "ok"}
    audit.append("validator", Action.SIGNOFF_APPROVED, signoff, MODEL, "1")
    audit.append("on-call", Action.VERSION_PROMOTED, {"champion": "1", "reason": "go"}, MODEL, "1")
    audit.append("maker", Action.CANDIDATE_TRAINED, {"run_id": "run-2"}, MODEL, "2")
    audit.append(
        "maker",
        Action.CANDIDATE_GATED,
        {"lifecycle": "pending-signoff", "gates": gates},
        MODEL,
        "2",
    )
    audit.append("validator", Action.SIGNOFF_APPROVED, signoff, MODEL, "2")
    promoted = {"champion": "2", "previous": "1", "reason": "better"}
    audit.append("on-call", Action.VERSION_PROMOTED, promoted, MODEL, "2")
    events = audit.events(model=MODEL)
    return assemble_report(_record("1"), None, events, audit.verify(MODEL), "2026-02-03T00:00:00")


class _Text(HTMLParser):
    """The text of a page, as a reader sees it."""

    def __init__(self, page):
        super().__init__()
        self.parts = []
        self.feed(page)

    def handle_data(self, data):
        self.parts.append(data)

    def text(self):
        return " ".join(" ".join(self.parts).split())


def test_the_scenario_library_hash_is_shown_in_every_format(audit):
    report = _report(audit, {"table": [STRESS_ROW], "scenario_library_sha256": LIBRARY_SHA})
    assert report["stress"]["scenario_library_sha256"] == LIBRARY_SHA
    assert json.loads(json.dumps(report))["stress"]["scenario_library_sha256"] == LIBRARY_SHA
    assert f"Scenario library sha256 `{LIBRARY_SHA}`" in to_markdown(report)
    assert f"Scenario library SHA-256 {LIBRARY_SHA}" in _Text(to_html(report)).text()


def test_an_older_stress_event_without_the_library_hash_shows_none(audit):
    report = _report(audit, {"table": [STRESS_ROW]})
    assert report["stress"]["scenario_library_sha256"] is None
    assert "Scenario library" not in to_markdown(report)
    assert "Scenario library" not in to_html(report)


def test_both_formats_name_stress_columns_and_word_values_alike(audit):
    report = _report(audit, {"table": [STRESS_ROW]})
    markdown, page = to_markdown(report), _Text(to_html(report)).text()
    heading = STRESS_HEADERS["cvar95_shortfall_bps"]
    assert f"| {heading} |" in markdown and heading in page
    assert "| 123.5 |" in markdown and "123.5" in page


def test_the_summary_tells_the_production_story_from_the_replayed_log(audit):
    report = _report(audit, {"table": [STRESS_ROW]})
    assert [(c["lifecycle"], c["by"]) for c in report["lifecycle_history"]] == [
        ("validating", "maker"),
        ("pending-signoff", "maker"),
        ("approved", "validator"),
        ("champion", "on-call"),
        ("previous", "on-call"),
    ]
    markdown, page = to_markdown(report), _Text(to_html(report)).text()
    for text in (markdown, page):
        assert "went live" in text and ": go" in text
        assert "replaced by version 2 (kept as previous)" in text
    assert report["signoff"]["approvals"][0]["by"] == "validator"


def test_the_challenger_section_shows_losses_margin_verdict_and_its_reason(audit):
    rng = np.random.default_rng(0)
    days = np.repeat(np.arange(12), 100)
    truth = rng.gamma(2.0, 10.0, days.size)
    actual = truth + rng.normal(0.0, 20.0, days.size)
    # Errs by 15 bps on alternate days: no difference on average, too few days to tell.
    candidate = truth + np.where(days % 2 == 0, 15.0, 0.0)
    reference = truth + np.where(days % 2 == 1, 15.0, 0.0)
    judged = compare_paired("champion", actual, candidate, reference, days, 0.1)
    assert judged.verdict == "inconclusive"
    payload = {"run_id": "run-1", "verdicts": {"champion": judged.verdict}}
    audit.append("maker", Action.CANDIDATE_TRAINED, {"run_id": "run-1"}, MODEL, "1")
    audit.append(
        "maker",
        Action.CANDIDATE_COMPARED,
        payload | {"comparisons": {"champion": judged.as_dict()}},
        MODEL,
        "1",
    )
    events = audit.events(model=MODEL)
    report = assemble_report(_record("1"), None, events, audit.verify(MODEL), "2026-02-03")
    verdict = report["comparison"]["verdicts"]["champion"]
    assert verdict["loss_difference"] == pytest.approx(judged.loss_difference)
    assert verdict["margin"] == pytest.approx(judged.margin) and verdict["skill"] > 0
    markdown, page = to_markdown(report), _Text(to_html(report)).text()
    for text in (markdown, page):
        assert judged.explanation in text and "inconclusive" in text
    assert "MSE difference [95% CI]" in markdown and "allowed margin" in page
    assert 'class="badge warn">inconclusive' in to_html(report)


def test_an_inventory_cell_is_never_a_spreadsheet_formula():
    import csv
    import io

    from lineage.inventory import INVENTORY_COLUMNS, inventory_csv

    row = dict.fromkeys(INVENTORY_COLUMNS)
    row |= {
        "version": "3",
        "rejection_comment": '=HYPERLINK("http://x.example","open")',
        "decommission_reason": "-2+3",
        "author": "maker",
    }
    (parsed,) = csv.DictReader(io.StringIO(inventory_csv([row])))
    assert parsed["rejection_comment"] == '\'=HYPERLINK("http://x.example","open")'
    assert parsed["decommission_reason"] == "'-2+3"
    assert parsed["author"] == "maker" and parsed["version"] == "3"


def test_free_text_is_shown_in_markdown_never_run_as_markup(audit):
    from lineage.inventory import INVENTORY_COLUMNS, inventory_markdown

    report = _report(audit, {"table": [STRESS_ROW]})
    report["signoff"]["approvals"][0]["comment"] = "<script>alert(1)</script>"
    report["lifecycle_history"][-1]["reason"] = "<svg onload=alert(1)>"
    markdown = to_markdown(report)
    assert "<script" not in markdown and "<svg" not in markdown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markdown
    row = dict.fromkeys(INVENTORY_COLUMNS) | {
        "version": "1",
        "registry": "registered",
        "lifecycle": "decommissioned",
        "gates": "passed",
        "approvers": [],
        "decommissioned_at": "2026-02-02T10:00:00+00:00",
        "decommissioned_by": "on-call",
        "decommission_reason": "<img src=x onerror=alert(1)>",
    }
    inventory = inventory_markdown(MODEL, [row])
    assert "<img" not in inventory and "&lt;img src=x onerror=alert(1)&gt;" in inventory
