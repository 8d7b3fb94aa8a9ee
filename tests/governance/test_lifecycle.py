"""Sign-off, promotion, rollback, decommission and audit verification on real MLflow/Prefect."""

import contextlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from govern_cli import adopt, retrain, run_govern, trust
from mlflow.tracking import MlflowClient

from cli.exit_codes import EXIT_INTEGRITY, EXIT_NOT_AUTHORISED, EXIT_USAGE
from governance import load_champion
from governance.ledger import open_audit_log
from governance.ledger.hashing import sha256_file
from governance.lifecycle.lease import model_lease
from governance.stores.handle import open_stores
from governance.stores.settings import get_settings
from validation.policy import parse_policy
from vocabulary.errors import IntegrityError, NotAuthorised, UsageError

MODEL = "execution-impact"


@pytest.fixture(scope="module")
def three_versions(prefect_server, small_data_dir, tmp_path_factory):
    """A work directory with versions 1-3 pending sign-off, authored by 'maker'."""
    workdir = tmp_path_factory.mktemp("lifecycle") / "w"
    for seed in ("0", "1", "2"):
        done = retrain(small_data_dir, workdir, "--seed", seed)
        assert done.exit_code == 0, done.output
    return workdir


@pytest.fixture
def workdir(three_versions, tmp_path):
    copy = tmp_path / "w"
    shutil.copytree(three_versions, copy)
    return copy


def govern(workdir, *args):
    return run_govern([*args, "--workdir", str(workdir)])


def client_for(workdir):
    settings = get_settings(workdir)
    return MlflowClient(settings.tracking_uri, settings.registry_uri)


def state(workdir):
    """(lifecycle per version, alias -> version)."""
    client = client_for(workdir)
    versions = client.search_model_versions(f"name = '{MODEL}'")
    lifecycle = {str(v.version): v.tags["lifecycle"] for v in versions}
    aliases = {a: str(v) for a, v in client.get_registered_model(MODEL).aliases.items()}
    aliases.pop("candidate", None)
    return lifecycle, aliases


def actions(workdir):
    """The decisions and evidence of the log (an action's intent and completion left out)."""
    with open_audit_log(get_settings(workdir).audit_db_url) as audit:
        return [
            (e.action, e.version, e.actor)
            for e in audit.events()
            if not e.action.startswith("lifecycle.")
        ]


def policy_text(workdir):
    """The work directory's policy in force (the shipped one with the test people's keys)."""
    return (Path(workdir) / "policy.yaml").read_text()


def approve(workdir, version, actor="validator"):
    return govern(
        workdir, "signoff", "approve", MODEL, version, "--as", actor, "--comment", "reviewed"
    )


# -- the lifecycle through the CLI ---------------------------------------------------------


def test_signoff_list_shows_pending_versions(workdir):
    listing = govern(workdir, "signoff", "list")
    assert listing.exit_code == 0, listing.output
    for version in ("v1", "v2", "v3"):
        assert f"{MODEL} {version}" in listing.stdout
    assert "gates passed" in listing.stdout and "author=maker" in listing.stdout


def test_signoff_list_reads_the_log_not_tags_anyone_can_edit(workdir):
    """Tags edited in the MLflow UI: v2 'approved', v3's author renamed. The list is the log's."""
    client = client_for(workdir)
    client.set_model_version_tag(MODEL, "2", "lifecycle", "approved")
    client.set_model_version_tag(MODEL, "3", "lineage.author", "someone-else")
    listing = govern(workdir, "signoff", "list")
    assert listing.exit_code == 0, listing.output
    assert f"{MODEL} v2" in listing.stdout and "someone-else" not in listing.stdout
    assert listing.stdout.count("the registry's tags disagree with the log") == 2


@pytest.mark.parametrize(
    "actor, rule", [("maker", "validators only"), ("intern", "validators only")]
)
def test_refused_signoff_exits_5_and_changes_nothing(workdir, actor, rule):
    before = (state(workdir), actions(workdir))
    result = approve(workdir, "1", actor)
    assert result.exit_code == EXIT_NOT_AUTHORISED
    assert rule in result.stderr
    assert (state(workdir), actions(workdir)) == before


def test_author_listed_as_validator_still_cannot_approve(workdir):
    adopt(
        workdir,
        policy_text(workdir).replace("validators: [validator,", "validators: [maker, validator,"),
    )
    result = approve(workdir, "1", "maker")
    assert result.exit_code == EXIT_NOT_AUTHORISED
    assert "maker-checker" in result.stderr


def test_two_approvals_required_by_distinct_validators(workdir):
    adopt(workdir, policy_text(workdir).replace("approvals_required: 1 ", "approvals_required: 2 "))
    first = approve(workdir, "1", "validator")
    assert first.exit_code == 0 and "1 of 2 approvals" in first.stdout
    assert state(workdir)[0]["1"] == "pending-signoff"
    again = approve(workdir, "1", "validator")
    assert again.exit_code == EXIT_NOT_AUTHORISED and "distinct approvers" in again.stderr
    second = approve(workdir, "1", "risk-officer")
    assert second.exit_code == 0 and "promoted" in second.stdout
    lifecycle, aliases = state(workdir)
    assert lifecycle["1"] == "champion" and aliases["champion"] == "1"


def test_reject_needs_a_comment_and_is_final(workdir):
    empty = govern(workdir, "signoff", "reject", MODEL, "2", "--as", "validator", "--comment", " ")
    assert empty.exit_code == EXIT_USAGE
    done = govern(
        workdir,
        "signoff",
        "reject",
        MODEL,
        "2",
        "--as",
        "validator",
        "--comment",
        "bias in the large-order bucket",
    )
    assert done.exit_code == 0
    assert state(workdir)[0]["2"] == "rejected"
    late = approve(workdir, "2")
    assert late.exit_code == EXIT_NOT_AUTHORISED and "only pending versions" in late.stderr


def test_promotion_rollback_and_decommission(workdir):
    for version in ("1", "2", "3"):
        assert approve(workdir, version).exit_code == 0
    lifecycle, aliases = state(workdir)
    assert aliases == {"champion": "3", "previous": "2"}
    assert lifecycle == {"1": "retired", "2": "previous", "3": "champion"}

    unauthorised = govern(workdir, "rollback", MODEL, "--as", "intern", "--reason", "x")
    assert unauthorised.exit_code == EXIT_NOT_AUTHORISED and "operators only" in unauthorised.stderr
    back = govern(workdir, "rollback", MODEL, "--as", "on-call", "--reason", "slippage alert")
    assert back.exit_code == 0, back.output
    lifecycle, aliases = state(workdir)
    assert aliases == {"champion": "2"} and lifecycle["3"] == "rolled-back"

    needs_flag = govern(workdir, "decommission", MODEL, "2", "--as", "on-call", "--reason", "r")
    assert needs_flag.exit_code == EXIT_USAGE and "--no-replacement" in needs_flag.stderr
    replaced = govern(
        workdir,
        "decommission",
        MODEL,
        "2",
        "--as",
        "on-call",
        "--reason",
        "feature bug",
        "--replacement",
        "3",
    )
    assert replaced.exit_code == 0, replaced.output
    lifecycle, aliases = state(workdir)
    assert aliases == {"champion": "3"} and lifecycle["2"] == "decommissioned"

    gone = govern(
        workdir,
        "decommission",
        MODEL,
        "3",
        "--as",
        "on-call",
        "--reason",
        "desk closed",
        "--no-replacement",
    )
    assert gone.exit_code == 0, gone.output
    assert state(workdir)[1] == {}
    with pytest.raises(
        UsageError, match="no version of 'execution-impact' is champion according to the audit log"
    ):
        load_champion(MODEL, workdir=workdir)
    for version in ("2", "3"):
        refused = govern(workdir, "promote", MODEL, version, "--as", "validator")
        assert refused.exit_code == EXIT_NOT_AUTHORISED, refused.output
    tail = [a for a, _, _ in actions(workdir)][-13:]
    assert tail == [
        *["signoff.approved", "version.released", "version.promoted"] * 3,
        "version.rolled_back",
        "version.decommissioned",
        "version.promoted",  # v3 replaces v2
        "version.decommissioned",  # v3, with no replacement
    ]
    assert govern(workdir, "audit", "verify").exit_code == 0


def test_a_held_lease_refuses_a_concurrent_promotion(workdir):
    settings = get_settings(workdir)
    before = (state(workdir), actions(workdir))
    with model_lease(open_stores(settings).audit.engine, MODEL, "someone-else"):
        result = approve(workdir, "1")
    assert result.exit_code == EXIT_NOT_AUTHORISED
    assert "one lifecycle change at a time" in result.stderr
    assert (state(workdir), actions(workdir)) == before


def test_concurrent_promotions_in_two_processes_stay_consistent(workdir):
    adopt(
        workdir,
        policy_text(workdir).replace("promote_on_approval: true", "promote_on_approval: false"),
    )
    env = dict(os.environ)
    env.pop("MLFLOW_TRACKING_URI", None)
    govern_bin = str(Path(sys.executable).with_name("govern"))
    for version in ("2", "3"):
        done = subprocess.run(
            [
                govern_bin,
                "signoff",
                "approve",
                MODEL,
                version,
                "--as",
                "validator",
                "--workdir",
                str(workdir),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
    assert state(workdir)[0]["2"] == "approved" and not state(workdir)[1].get("champion")

    racers = [
        subprocess.Popen(
            [govern_bin, "promote", MODEL, version, "--as", "on-call", "--workdir", str(workdir)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for version in ("2", "3")
    ]
    codes = [p.wait(timeout=120) for p in racers]
    assert sorted(codes) in ([0, 0], [0, EXIT_NOT_AUTHORISED]), [p.stderr.read() for p in racers]
    promoted = [v for action, v, _ in actions(workdir) if action == "version.promoted"]
    assert len(promoted) == codes.count(0)
    _, aliases = state(workdir)
    assert aliases["champion"] == promoted[-1]
    assert govern(workdir, "audit", "verify").exit_code == 0


# -- tampering -----------------------------------------------------------------------------


def _promoted(workdir):
    assert approve(workdir, "1").exit_code == 0
    assert govern(workdir, "audit", "verify").exit_code == 0
    return get_settings(workdir)


def test_edited_lifecycle_tag_is_refused_and_caught(workdir):
    client_for(workdir).set_model_version_tag(MODEL, "1", "lifecycle", "approved")
    refused = govern(workdir, "promote", MODEL, "1", "--as", "validator")
    assert refused.exit_code == EXIT_INTEGRITY
    assert "the audit log says 'pending-signoff'" in refused.stderr
    assert state(workdir)[1].get("champion") is None
    result = govern(workdir, "audit", "verify")
    assert result.exit_code == EXIT_INTEGRITY and "tag lifecycle is 'approved'" in result.stderr


def test_edited_author_tag_cannot_bypass_maker_checker(workdir):
    adopt(
        workdir,
        policy_text(workdir).replace("validators: [validator,", "validators: [maker, validator,"),
    )
    client_for(workdir).set_model_version_tag(MODEL, "1", "lineage.author", "someone-else")
    result = approve(workdir, "1", "maker")
    assert result.exit_code == EXIT_NOT_AUTHORISED and "maker-checker" in result.stderr
    verify = govern(workdir, "audit", "verify")
    assert verify.exit_code == EXIT_INTEGRITY and "lineage.author" in verify.stderr


def test_an_approval_over_an_edited_author_tag_and_description_says_so_on_the_record(workdir):
    client = client_for(workdir)
    client.set_model_version_tag(MODEL, "1", "lineage.author", "someone-else")
    client.update_model_version(MODEL, "1", description="all gates passed, nothing to see")
    result = approve(workdir, "1")
    assert result.exit_code == 0, result.output
    assert result.stderr.count("was edited outside governance") == 2
    assert "tag lineage.author is 'someone-else'" in result.stderr
    with open_audit_log(get_settings(workdir).audit_db_url) as audit:
        (approval,) = [e for e in audit.events() if e.action == "signoff.approved"]
    edits = approval.payload["registry_edited"]
    assert any("lineage.author" in e for e in edits) and any("description" in e for e in edits)


def test_tampered_event_row_is_caught(workdir):
    settings = _promoted(workdir)
    db = settings.audit_db_url.removeprefix("sqlite:///")
    with sqlite3.connect(db) as conn:
        triggers = [
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
        ]
        for name in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute(
            "UPDATE governance_audit_events SET actor = 'validator-2' WHERE action = "
            "'signoff.approved'"
        )
    result = govern(workdir, "audit", "verify")
    assert result.exit_code == EXIT_INTEGRITY
    assert "event hash mismatch at seq" in result.stderr


def test_tampered_tag_is_caught(workdir):
    _promoted(workdir)
    client_for(workdir).set_model_version_tag(MODEL, "1", "lineage.dataset_sha256", "0" * 64)
    result = govern(workdir, "audit", "verify")
    assert result.exit_code == EXIT_INTEGRITY
    assert "tag lineage.dataset_sha256" in result.stderr and "v1" in result.stderr


def test_tampered_model_file_is_caught_and_refuses_to_load(
    prefect_server, small_data_dir, tmp_path
):
    # Copied work directories share their artifact store with the original (MLflow keeps
    # absolute artifact URIs), so this test trains into a work directory of its own.
    workdir = tmp_path / "own"
    trained = retrain(small_data_dir, workdir)
    assert trained.exit_code == 0, trained.output
    _promoted(workdir)
    # An insider steepens the cost law's temporary impact: slower trading everywhere.
    (path,) = (workdir / "artifacts").rglob("law.json")
    law = json.loads(path.read_text())
    path.write_text(json.dumps({**law, "beta": law["beta"] + 0.1}))
    result = govern(workdir, "audit", "verify")
    assert result.exit_code == EXIT_INTEGRITY
    assert "model artifacts" in result.stderr and "hashes to" in result.stderr
    with pytest.raises(IntegrityError, match="refusing to load"):
        load_champion(MODEL, workdir=workdir)
    shutil.rmtree(path.parents[2])  # the whole logged model: MLmodel, data/candidate/...
    gone = govern(workdir, "audit", "verify")
    assert gone.exit_code == EXIT_INTEGRITY and "cannot be read" in gone.stderr


def test_tampered_dataset_file_is_caught(workdir, tmp_path):
    settings = _promoted(workdir)
    with open_audit_log(settings.audit_db_url) as audit:
        trained = [e for e in audit.events() if e.action == "candidate.trained"][0]
    data_dir = Path(trained.payload["dataset_uri"].removeprefix("file://"))
    backup = tmp_path / "backup.parquet"
    shutil.copy(data_dir / "rfq.parquet", backup)
    try:
        with open(data_dir / "rfq.parquet", "ab") as handle:
            handle.write(b"\0")
        result = govern(workdir, "audit", "verify")
    finally:
        shutil.copy(backup, data_dir / "rfq.parquet")
    assert result.exit_code == EXIT_INTEGRITY
    assert "rfq.parquet hashes to" in result.stderr


def test_alias_moved_behind_the_logs_back_is_caught(workdir):
    _promoted(workdir)
    client_for(workdir).set_registered_model_alias(MODEL, "champion", "2")
    result = govern(workdir, "audit", "verify")
    assert result.exit_code == EXIT_INTEGRITY
    assert "champion" in result.stderr and "points to version 2" in result.stderr


def test_lifecycle_steps_run_as_prefect_flows(workdir):
    from flows.lifecycle import decommission_version, promote_version, rollback_model

    assert approve(workdir, "1").exit_code == 0
    assert approve(workdir, "2").exit_code == 0
    back = rollback_model(MODEL, "on-call", "monitoring alert", workdir=str(workdir))
    assert back == {"reason": "monitoring alert", "champion": "1", "demoted": "2"}
    with pytest.raises(NotAuthorised, match="only approved versions are promoted"):
        promote_version(MODEL, "3", "on-call", "not signed off", workdir=str(workdir))
    decommission_version(MODEL, "2", "on-call", "superseded", workdir=str(workdir))
    lifecycle, aliases = state(workdir)
    assert aliases == {"champion": "1"} and lifecycle["2"] == "decommissioned"
    assert [a for a, _, _ in actions(workdir)][-2:] == [
        "version.rolled_back",
        "version.decommissioned",
    ]


# -- an insider with MLflow UI access or database rights ----------------------------------


def _two_champions(workdir):
    """v1 approved then v2: champion v2, previous v1 (by the log); v3 rejected."""
    assert approve(workdir, "1").exit_code == 0
    assert approve(workdir, "2").exit_code == 0
    rejected = govern(
        workdir,
        "signoff",
        "reject",
        MODEL,
        "3",
        "--as",
        "validator",
        "--comment",
        "stress tail too heavy",
    )
    assert rejected.exit_code == 0, rejected.output
    assert state(workdir) == (
        {"1": "previous", "2": "champion", "3": "rejected"},
        {"champion": "2", "previous": "1"},
    )


def test_a_previous_alias_moved_in_the_ui_never_becomes_champion(workdir):
    _two_champions(workdir)
    client_for(workdir).set_registered_model_alias(MODEL, "previous", "3")
    assert govern(workdir, "audit", "verify").exit_code == EXIT_INTEGRITY

    back = govern(workdir, "rollback", MODEL, "--as", "on-call", "--reason", "routine")

    assert back.exit_code == 0, back.output
    assert "champion is v1" in back.stdout  # the log's previous, not the alias's v3
    assert load_champion(MODEL, workdir=workdir).version == "1"
    assert actions(workdir)[-1][:2] == ("version.rolled_back", "1")
    # The rollback set the whole registry view from the log: the rogue alias is gone too.
    assert state(workdir)[1] == {"champion": "1"}
    assert govern(workdir, "audit", "verify").exit_code == 0
    # Moved again, it stays reported until reconciled.
    client_for(workdir).set_registered_model_alias(MODEL, "previous", "3")
    assert govern(workdir, "audit", "verify").exit_code == EXIT_INTEGRITY
    fixed = govern(workdir, "audit", "reconcile", MODEL, "--as", "on-call")
    assert fixed.exit_code == 0 and "execution-impact@previous: '3' -> None" in fixed.stdout
    assert govern(workdir, "audit", "verify").exit_code == 0
    assert actions(workdir)[-1][0] == "registry.reconciled"


def test_rollback_refuses_a_target_the_log_does_not_allow(workdir):
    _two_champions(workdir)
    assert (
        govern(
            workdir,
            "decommission",
            MODEL,
            "1",
            "--as",
            "on-call",
            "--reason",
            "data licence expired",
        ).exit_code
        == 0
    )
    refused = govern(workdir, "rollback", MODEL, "--as", "on-call", "--reason", "alert")
    assert refused.exit_code == EXIT_USAGE and "names no previous champion" in refused.stderr
    client_for(workdir).set_registered_model_alias(MODEL, "previous", "3")
    again = govern(workdir, "rollback", MODEL, "--as", "on-call", "--reason", "alert")
    assert again.exit_code == EXIT_USAGE, again.output
    assert load_champion(MODEL, workdir=workdir).version == "2"


def test_a_champion_alias_moved_in_the_ui_is_not_served_nor_recorded(workdir, small_data_dir):
    _two_champions(workdir)
    client_for(workdir).set_registered_model_alias(MODEL, "champion", "3")

    assert load_champion(MODEL, workdir=workdir).version == "2"
    challenged = retrain(small_data_dir, workdir, "--seed", "5")
    assert challenged.exit_code == 0, challenged.output
    assert "challenged by champion v2" in challenged.stdout
    assert approve(workdir, "4").exit_code == 0
    promoted = [
        e
        for e in open_audit_log(get_settings(workdir).audit_db_url).events()
        if e.action == "version.promoted"
    ][-1]
    assert (promoted.payload["champion"], promoted.payload["previous"]) == ("4", "2")
    assert state(workdir)[1] == {"champion": "4", "previous": "2"}


def test_rules_refuse_to_act_on_an_edited_log(workdir):
    from governance.ledger import TABLE_NAME, create_audit_engine

    engine = create_audit_engine(get_settings(workdir).audit_db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {TABLE_NAME}_no_update")
        conn.exec_driver_sql(
            f"UPDATE {TABLE_NAME} SET actor = 'validator' "
            f"WHERE action = 'candidate.trained' AND version = '1'"
        )
    engine.dispose()
    before = state(workdir)
    # The author now reads 'validator': replaying without verifying would let them approve.
    refused = approve(workdir, "1")
    assert refused.exit_code == EXIT_INTEGRITY, refused.output
    assert "hash mismatch" in refused.stderr
    assert state(workdir) == before
    with pytest.raises(IntegrityError):
        load_champion(MODEL, workdir=workdir)


def test_lineage_at_a_moment_names_the_champion_then_and_its_approvers(workdir):
    import json
    import time
    from datetime import UTC, datetime

    def now():
        time.sleep(0.01)  # the log's times have microseconds: step clear of each event
        moment = datetime.now(UTC).isoformat()
        time.sleep(0.01)
        return moment

    moments = [now()]
    assert approve(workdir, "1").exit_code == 0
    moments.append(now())
    assert approve(workdir, "2", actor="risk-officer").exit_code == 0
    moments.append(now())
    rolled = govern(workdir, "rollback", MODEL, "--as", "on-call", "--reason", "drill")
    assert rolled.exit_code == 0, rolled.output
    moments.append(now())

    answers = []
    for moment in moments:
        result = govern(workdir, "lineage", MODEL, "--at", moment, "--format", "json")
        assert result.exit_code == 0, result.output
        answers.append(json.loads(result.stdout))
    assert [a["champion"] for a in answers] == [None, "1", "2", "1"]
    assert [x["by"] for x in answers[1]["approvals"]] == ["validator"]
    assert [x["by"] for x in answers[2]["approvals"]] == ["risk-officer"]
    assert answers[2]["until"] is not None and answers[3]["until"] is None
    assert answers[1]["author"] == "maker"
    text = govern(workdir, "lineage", MODEL, "--at", moments[2]).stdout
    assert "the champion of execution-impact was version 2" in text
    assert "Approved by: risk-officer" in text


@pytest.mark.parametrize(
    "args, message",
    [
        (["--at", "yesterday"], "--at expects an ISO 8601 time"),
        (["--at", "0001-01-01T00:00:00+01:00"], "outside the representable range"),
        (["1", "--at", "2026-12-01"], "give exactly one of VERSION, --inventory or --at"),
        (["--inventory", "--at", "2026-12-01"], "give exactly one of VERSION"),
    ],
)
def test_lineage_at_refuses_bad_requests(workdir, args, message):
    result = govern(workdir, "lineage", MODEL, *args)
    assert result.exit_code == EXIT_USAGE and message in result.stderr, result.output


def test_audit_verify_names_a_model_the_log_never_saw(workdir):
    result = govern(workdir, "audit", "verify", "execution-impakt")
    assert result.exit_code == EXIT_USAGE
    assert "no record of a model named 'execution-impakt'; it knows execution-impact" in (
        result.stderr
    )


def test_lineage_at_names_a_model_the_log_never_saw(workdir):
    result = govern(workdir, "lineage", "execution-impakt", "--at", "2026-12-01")
    assert result.exit_code == EXIT_USAGE
    assert "no record of a model named 'execution-impakt'" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["promote", MODEL, "1", "--as", "on-call", "--reason", "drill"],
        # The emergency: the registry's checkpoint tags cannot be read, so nothing is decided
        # (a rollback recorded behind a "recorded nothing" message was the alternative).
        ["rollback", MODEL, "--as", "on-call", "--reason", "drill"],
    ],
    ids=["promote", "rollback"],
)
def test_an_unreachable_mlflow_is_named_within_30_s_and_leaves_no_lease(workdir, command):
    import time

    import sqlalchemy as sa

    if command[0] == "rollback":
        assert approve(workdir, "1").exit_code == 0
        assert approve(workdir, "2").exit_code == 0
    settings = get_settings(workdir)
    with open_audit_log(settings.audit_db_url) as audit:
        before = len(audit.events())
    env = {
        **os.environ,
        # Port 9 (discard) has no listener here: every request is refused.
        "MLFLOW_TRACKING_URI": "http://127.0.0.1:9",
        "GOVERN_AUDIT_DB_URL": settings.audit_db_url,
    }
    govern_bin = str(Path(sys.executable).with_name("govern"))
    started = time.perf_counter()
    done = subprocess.run(
        [govern_bin, *command, "--workdir", str(workdir)],  # MLflow and the log from env
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    seconds = time.perf_counter() - started
    assert done.returncode == 1, done.stderr
    assert seconds < 30, f"took {seconds:.0f} s"
    assert "MLflow is unreachable" in done.stderr and "127.0.0.1" in done.stderr
    assert "Traceback" not in done.stderr
    engine = sa.create_engine(settings.audit_db_url)
    with engine.connect() as connection:
        leases = connection.execute(sa.text("SELECT * FROM governance_lifecycle_holders")).all()
    engine.dispose()
    assert leases == []
    with open_audit_log(settings.audit_db_url) as audit:
        assert len(audit.events()) == before


_HOLD_LEASE = """
import sys, time
from governance.ledger import open_audit_log
from governance.lifecycle.lease import model_lease
with open_audit_log(sys.argv[1]) as audit, model_lease(audit.engine, sys.argv[2], "crasher"):
    print("held", flush=True)
    time.sleep(600)
"""


def _holder(settings):
    """A process that takes the lifecycle lease and keeps it until it is killed."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LEASE, settings.audit_db_url, MODEL],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_live_holder_is_named_and_a_killed_one_is_broken_at_once(workdir):
    import time

    settings = get_settings(workdir)
    holder = _holder(settings)
    try:
        refused = approve(workdir, "1")
        assert refused.exit_code == EXIT_NOT_AUTHORISED
        assert f"crasher (pid {holder.pid} on " in refused.stderr
    finally:
        holder.kill()  # SIGKILL: no finally of its own runs, the row stays
        holder.wait()
    started = time.perf_counter()
    done = approve(workdir, "1")
    assert done.exit_code == 0, done.output
    assert time.perf_counter() - started < 15
    assert state(workdir)[1] == {"champion": "1"}


@pytest.mark.parametrize(
    "host, pid, since",
    [("this", 1, "now"), ("other-host", 4242, "2099-01-01 00:00:00+00:00")],
    ids=["init's pid on this host", "another host far in the future"],
)
def test_a_forged_holder_row_locks_nobody_out(workdir, host, pid, since):
    """A database writer inserts a holder row (no DDL): it holds no lock, so it blocks nothing.

    The lease is the lock a live process holds (a file lock on SQLite, an advisory lock on
    PostgreSQL); the row only names the holder. The next operator replaces it at once.
    """
    import socket
    import time
    from datetime import UTC, datetime

    import sqlalchemy as sa

    settings = get_settings(workdir)
    engine = open_stores(settings).audit.engine
    with model_lease(engine, MODEL, "probe"):
        pass  # creates the table
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO governance_lifecycle_holders VALUES (:m, 'mallory', :h, :p, 'tok', :t)"
            ),
            {
                "m": MODEL,
                "h": socket.gethostname() if host == "this" else host,
                "p": pid,
                "t": datetime.now(UTC) if since == "now" else datetime.fromisoformat(since),
            },
        )
    started = time.perf_counter()
    done = approve(workdir, "1")
    assert done.exit_code == 0, done.output
    assert time.perf_counter() - started < 15
    assert state(workdir)[1] == {"champion": "1"}
    with engine.connect() as connection:
        left = connection.execute(sa.text("SELECT * FROM governance_lifecycle_holders")).all()
    assert left == []


def _training_recorded(database: Path) -> bool:
    if not database.exists():
        return False
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
            row = connection.execute(
                "SELECT 1 FROM governance_audit_events WHERE action = 'candidate.trained'"
            ).fetchone()
    except sqlite3.Error:  # not created yet, or locked for a moment
        return False
    return row is not None


def test_a_retrain_killed_before_registration_leaves_nothing_reconcile_does_not_close(
    small_data_dir, tmp_path
):
    """Its run was open, no version registered: reconcile closes the run and its lease row."""
    import sqlalchemy as sa

    workdir = tmp_path / "killed"
    trust(workdir)
    drill = Path(__file__).parents[1] / "crash_drill.py"
    args = ["retrain", "--data", str(small_data_dir), "--workdir", str(workdir), "--as", "maker"]
    done = subprocess.run(
        [sys.executable, str(drill), "registration", *args],
        capture_output=True,
        text=True,
        timeout=240,
        start_new_session=True,
    )
    assert done.returncode == -9, done.stdout + done.stderr
    client = client_for(workdir)
    (run,) = client.search_runs(
        [client.get_experiment_by_name(get_settings(workdir).experiment_name).experiment_id]
    )
    assert run.info.status == "RUNNING"
    engine = sa.create_engine(get_settings(workdir).audit_db_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT model FROM governance_lifecycle_holders")).all()
    assert [r.model for r in rows] == [f"retrain:{run.info.run_id}"]

    closed = govern(workdir, "audit", "reconcile", MODEL, "--as", "on-call")
    assert closed.exit_code == 0, closed.output
    assert client.get_run(run.info.run_id).info.status == "FAILED"
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT * FROM governance_lifecycle_holders")).all() == []
    engine.dispose()
    assert govern(workdir, "audit", "verify").exit_code == 0


def test_a_retrain_killed_after_registration_is_closed_by_reconcile(small_data_dir, tmp_path):
    import signal
    import time

    from governance.lifecycle.lease import retrain_beacon

    workdir = tmp_path / "killed"
    trust(workdir)
    govern_bin = str(Path(sys.executable).with_name("govern"))
    args = ["retrain", "--data", str(small_data_dir), "--workdir", str(workdir), "--as", "maker"]
    # Many stress paths: the process is still stressing when it is killed. A session of its
    # own: the kill takes its temporary Prefect server with it, as a crash of the host would.
    retrain_process = subprocess.Popen(
        [govern_bin, *args, "--stress-paths", "400000"], start_new_session=True
    )
    try:
        deadline = time.monotonic() + 240
        # Killed once the log recorded the training: the version is registered and the
        # event reconcile reads is written. Polled read-only: opening MLflow or the audit
        # log here would race the retrain's own creation of the database.
        while not _training_recorded(workdir / "mlflow.db") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _training_recorded(workdir / "mlflow.db"), "the retrain never recorded training"
        os.killpg(retrain_process.pid, signal.SIGKILL)
        retrain_process.wait(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(retrain_process.pid, signal.SIGKILL)
    client = client_for(workdir)
    run_id = client.get_model_version(MODEL, "1").run_id
    assert client.get_run(run_id).info.status == "RUNNING"
    assert client.get_model_version(MODEL, "1").tags["lifecycle"] == "validating"

    # While a live process holds the run's lease, reconcile leaves the version alone.
    with retrain_beacon(open_stores(get_settings(workdir)).audit.engine, run_id, "maker"):
        untouched = govern(workdir, "audit", "reconcile", MODEL, "--as", "on-call")
    assert untouched.exit_code == 0, untouched.output
    assert client.get_model_version(MODEL, "1").tags["lifecycle"] == "validating"

    closed = govern(workdir, "audit", "reconcile", MODEL, "--as", "on-call")
    assert closed.exit_code == 0, closed.output
    assert client.get_run(run_id).info.status == "FAILED"
    assert client.get_model_version(MODEL, "1").tags["lifecycle"] == "failed"
    failed = [a for a in actions(workdir) if a[0] == "candidate.failed"]
    assert len(failed) == 1
    assert govern(workdir, "audit", "verify").exit_code == 0
    refused = approve(workdir, "1")
    assert refused.exit_code == EXIT_NOT_AUTHORISED
    # Had the retrain only been paused, its gates could not reopen the closed version.
    from governance.records.candidate import CandidateRun
    from governance.records.verdict import record_gates
    from validation.gates import GateReport

    stores = open_stores(get_settings(workdir))
    resumed = CandidateRun(run_id, MODEL, "maker", "test", "0" * 64)
    with pytest.raises(IntegrityError, match="was closed as failed by on-call"):
        record_gates(stores, resumed, "1", GateReport((), "policy"), {}, "")
    assert client.get_model_version(MODEL, "1").tags["lifecycle"] == "failed"


# -- signed decisions: keys, not names -----------------------------------------------------


def _audit_db(workdir):
    return get_settings(workdir).audit_db_url.removeprefix("sqlite:///")


def _rewrite_log(workdir, *statements):
    """What an insider with DDL rights does: drop the triggers, edit rows, re-chain them all.

    Every payload hash, link and event hash is recomputed after the edit, so the hash chain
    alone verifies again.
    """
    from governance.ledger import GENESIS_HASH, compute_event_hash
    from governance.ledger.hashing import sha256_text

    with sqlite3.connect(_audit_db(workdir)) as conn:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'"):
            conn.execute(f"DROP TRIGGER {name}")
        for statement in statements:
            conn.execute(statement)
        rows = conn.execute(
            "SELECT seq, event_id, ts, actor, action, model, version, payload_json "
            "FROM governance_audit_events ORDER BY seq"
        ).fetchall()
        prev = GENESIS_HASH
        for seq, event_id, ts, actor, action, model, version, payload_json in rows:
            payload_sha = sha256_text(payload_json)
            event_hash = compute_event_hash(
                seq=seq,
                event_id=event_id,
                ts=ts,
                actor=actor,
                action=action,
                model=model,
                version=version,
                payload_sha256=payload_sha,
                prev_hash=prev,
            )
            conn.execute(
                "UPDATE governance_audit_events SET payload_sha256 = ?, prev_hash = ?, "
                "event_hash = ? WHERE seq = ?",
                (payload_sha, prev, event_hash, seq),
            )
            prev = event_hash


def test_keys_create_writes_a_private_key_only_its_owner_reads(tmp_path):
    made = run_govern(["keys", "create", "alice", "--workdir", str(tmp_path / "w")])
    assert made.exit_code == 0, made.output
    key = tmp_path / "w" / "keys" / "alice.pem"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert re.search(r"alice: ed25519:[A-Za-z0-9+/]{43}=", made.stdout)
    again = run_govern(["keys", "create", "alice", "--workdir", str(tmp_path / "w")])
    assert again.exit_code == EXIT_USAGE and "never overwritten" in again.stderr
    traversal = run_govern(["keys", "create", "../x", "--workdir", str(tmp_path / "w")])
    assert traversal.exit_code == EXIT_USAGE and "'../x'" in traversal.stderr


def test_every_decision_is_signed_by_the_key_the_policy_lists(workdir):
    assert approve(workdir, "1").exit_code == 0
    policy = parse_policy(policy_text(workdir))
    with open_audit_log(get_settings(workdir).audit_db_url) as audit:
        events = audit.events()
    signed = {e.action: e.payload["signed"]["statement"] for e in events if "signed" in e.payload}
    assert set(signed) == {
        "policy.adopted",
        "candidate.trained",
        "candidate.gated",
        "signoff.approved",
        "version.released",
        "version.promoted",
    }
    approval = signed["signoff.approved"]
    trained = next(e for e in events if e.action == "candidate.trained" and e.version == "1")
    assert approval["public_key"] == policy.members["validator"]
    assert approval["model_sha256"] == trained.payload["model_sha256"]
    assert approval["dataset_sha256"] == trained.payload["dataset_sha256"]
    assert approval["policy_sha256"] == signed["policy.adopted"]["policy_sha256"]
    assert approval["gate_report_sha256"] and approval["decision"] == "signoff.approved"


def test_forged_events_from_a_database_writer_are_findings_not_a_lock_out(workdir):
    """No key, write access to the audit table: every kind of state change forged.

    An approval of a pending version, the rollback target marked failed, a policy adopted
    and a release of the champion, appended through the public API with well-formed links.
    Each is reported by ``audit verify``; none is acted on, copied into the registry or
    allowed to stop anyone: the champion is served, the emergency rollback goes through.
    """
    assert approve(workdir, "1").exit_code == 0
    assert approve(workdir, "2").exit_code == 0  # v2 champion, v1 previous
    approval = {"comment": "lgtm", "approvals": 1, "required": 1, "automatic": False}
    policy = {"policy_sha256": "0" * 64, "policy_yaml": "version: 1\n", "path": "/tmp/p"}
    with open_audit_log(get_settings(workdir).audit_db_url) as audit:
        audit.append("validator", "signoff.approved", approval, model=MODEL, version="3")
        audit.append("maker", "candidate.failed", {"error": "forged"}, model=MODEL, version="1")
        audit.append("head-of-model-risk", "policy.adopted", policy)
        audit.append("on-call", "version.released", {"bundle": "x"}, model=MODEL, version="2")
    verify = govern(workdir, "audit", "verify", "--json")
    assert verify.exit_code == EXIT_INTEGRITY
    findings = json.loads(verify.stdout[: verify.stdout.rindex("}") + 1])["findings"]
    forged = [f["message"] for f in findings if f["kind"] == "signature"]
    for action in ("signoff.approved", "candidate.failed", "policy.adopted", "version.released"):
        assert any(f"({action} by" in m and "no signed statement" in m for m in forged), forged
    assert load_champion(MODEL, workdir=workdir).version == "2"
    listing = govern(workdir, "signoff", "list")
    assert listing.exit_code == 0 and f"{MODEL} v3" in listing.stdout  # still pending
    lineage = govern(workdir, "lineage", MODEL, "3")
    assert lineage.exit_code == 0 and "lgtm" not in lineage.stdout  # no forged approval

    rollback = govern(workdir, "rollback", MODEL, "--as", "on-call", "--reason", "drill")
    assert rollback.exit_code == 0, rollback.output
    assert load_champion(MODEL, workdir=workdir).version == "1"
    reconcile = govern(workdir, "audit", "reconcile", MODEL, "--as", "on-call")
    assert reconcile.exit_code == 0, reconcile.output
    lifecycle, aliases = state(workdir)
    assert lifecycle["1"] == "champion" and lifecycle["3"] == "pending-signoff"
    assert aliases["champion"] == "1"
    assert govern(workdir, "audit", "verify").exit_code == EXIT_INTEGRITY  # still on record


def test_stress_evidence_appended_after_the_gate_verdict_fails_verify(workdir):
    # An insider with write access swaps the stress book a validator's what-if re-runs and
    # the figures the lineage shows, after the author signed the verdict on the real ones.
    with open_audit_log(get_settings(workdir).audit_db_url) as audit:
        [stressed] = [
            e for e in audit.events(model=MODEL, version="1") if e.action == "candidate.stressed"
        ]
        audit.append(
            "maker",
            "candidate.stressed",
            {**stressed.payload, "stress_book_sha256": "0" * 64, "table": []},
            model=MODEL,
            version="1",
        )
    verify = govern(workdir, "audit", "verify")
    assert verify.exit_code == EXIT_INTEGRITY
    assert "evidence appended after version 1 was judged" in verify.stderr
    # The what-if re-runs the book the author's signed verdict covered, not the swap.
    what_if = govern(workdir, "stress", MODEL, "1", "--scenario", "baseline", "--paths", "50")
    assert what_if.exit_code == 0, what_if.output


def test_a_statement_signed_with_a_key_of_ones_own_fails_verify(workdir, tmp_path):
    from governance.ledger.hashing import canonical_json
    from governance.trust.identity import create_key, load_signer

    create_key(tmp_path / "mallory", "validator")  # a key of the right name, not the listed one
    forger = load_signer(tmp_path / "mallory", "validator")
    with open_audit_log(get_settings(workdir).audit_db_url) as audit:
        version_events = audit.events(model=MODEL, version="1")
        payload = {"comment": "lgtm", "approvals": 1, "required": 1, "automatic": False}
        statement = {"decision": "signoff.approved", "signer": "validator", "public_key": "x"}
        statement["prev_event_hash"] = version_events[-1].event_hash
        audit.append(
            "validator",
            "signoff.approved",
            {
                **payload,
                "signed": {
                    "statement": statement,
                    "signature": forger.sign(canonical_json(statement).encode()),
                },
            },
            model=MODEL,
            version="1",
        )
    verify = govern(workdir, "audit", "verify")
    assert verify.exit_code == EXIT_INTEGRITY and "its signed statement says" in verify.stderr


def test_the_author_editing_actor_cannot_self_approve(workdir):
    adopt(
        workdir,
        policy_text(workdir).replace("validators: [validator,", "validators: [maker, validator,"),
    )
    # The author rewrites who trained v1, and re-chains the log so its hashes verify.
    _rewrite_log(
        workdir,
        "UPDATE governance_audit_events SET actor = 'someone-else' "
        "WHERE action IN ('candidate.trained', 'candidate.gated') AND version = '1'",
    )
    with open_audit_log(get_settings(workdir).audit_db_url) as audit:
        assert audit.verify().ok  # the chain alone no longer shows the edit
    before = state(workdir)
    refused = approve(workdir, "1", "maker")
    # Every event sits under a signed checkpoint: the re-chained log contradicts them.
    assert refused.exit_code == EXIT_INTEGRITY, refused.output
    assert "the log was rewritten" in refused.stderr
    assert state(workdir) == before
    verify = govern(workdir, "audit", "verify", "--json")
    assert verify.exit_code == EXIT_INTEGRITY
    findings = json.loads(verify.stdout[: verify.stdout.rindex("}") + 1])["findings"]
    assert any("someone-else" in f["message"] for f in findings if f["kind"] == "signature")


def test_maker_checker_compares_keys_not_names(workdir):
    # The author's key listed under a second name, which the policy makes a validator.
    text = policy_text(workdir)
    maker_key = parse_policy(text).members["maker"]
    text = text.replace("members:\n", f"members:\n  maker-2: {maker_key}\n", 1)
    adopt(workdir, text.replace("validators: [validator,", "validators: [maker-2, validator,"))
    keys = workdir / "keys"
    shutil.copy(keys / "maker.pem", keys / "maker-2.pem")
    before = (state(workdir), actions(workdir))
    refused = approve(workdir, "1", "maker-2")
    assert refused.exit_code == EXIT_NOT_AUTHORISED, refused.output
    assert (
        "maker-checker" in refused.stderr and "the key that signed the training" in refused.stderr
    )
    assert (state(workdir), actions(workdir)) == before


def test_an_approval_signed_by_a_key_not_in_the_policy_is_refused(workdir, tmp_path):
    from governance.trust.identity import create_key

    before = (state(workdir), actions(workdir))
    # Someone replaces the validator's key file with a key of their own.
    create_key(tmp_path / "other", "validator")
    shutil.copy(tmp_path / "other" / "validator.pem", workdir / "keys" / "validator.pem")
    swapped = approve(workdir, "1", "validator")
    assert swapped.exit_code == EXIT_NOT_AUTHORISED, swapped.output
    assert (
        "the key held for 'validator' is" in swapped.stderr and "the policy lists" in swapped.stderr
    )
    # A name the policy does not list, holding a key of its own.
    create_key(workdir / "keys", "mallory")
    stranger = approve(workdir, "1", "mallory")
    assert stranger.exit_code == EXIT_NOT_AUTHORISED
    assert "'mallory' has no public key in the policy" in stranger.stderr
    # Nobody's key at all: acting as someone whose key this process does not hold.
    (workdir / "keys" / "risk-officer.pem").unlink()
    keyless = approve(workdir, "1", "risk-officer")
    assert keyless.exit_code == EXIT_NOT_AUTHORISED and "private key" in keyless.stderr
    assert (state(workdir), actions(workdir)) == before


def test_a_policy_file_nobody_adopted_is_refused(workdir, tmp_path, monkeypatch):
    private = tmp_path / "private-policy.yaml"
    private.write_text(
        policy_text(workdir).replace("validators: [validator,", "validators: [intern, validator,")
    )
    monkeypatch.setenv("GOVERN_POLICY", str(private))
    before = (state(workdir), actions(workdir))
    refused = approve(workdir, "1", "intern")
    assert refused.exit_code == EXIT_INTEGRITY, refused.output
    assert sha256_file(workdir / "policy.yaml") in refused.stderr
    assert sha256_file(private) in refused.stderr
    assert (state(workdir), actions(workdir)) == before
    # Only an owner adopts it; then it is the policy in force.
    not_owner = govern(workdir, "policy", "adopt", str(private), "--as", "validator")
    assert not_owner.exit_code == EXIT_NOT_AUTHORISED and "owners adopt" in not_owner.stderr
    owner = govern(workdir, "policy", "adopt", str(private), "--as", "head-of-model-risk")
    assert owner.exit_code == 0, owner.output
    assert approve(workdir, "1", "intern").exit_code == 0
    assert govern(workdir, "audit", "verify").exit_code == 0


def test_an_approval_under_a_policy_adopted_after_the_gates_records_both(workdir):
    gated_under = sha256_file(workdir / "policy.yaml")
    newer = adopt(
        workdir,
        policy_text(workdir).replace("validators: [validator,", "validators: [intern, validator,"),
    )
    done = approve(workdir, "1", "intern")
    assert done.exit_code == 0, done.output
    assert f"gated under policy {gated_under}" in done.stderr
    assert sha256_file(newer) in done.stderr
    with open_audit_log(get_settings(workdir).audit_db_url) as audit:
        (approval,) = [e for e in audit.events() if e.action == "signoff.approved"]
        gated = next(e for e in audit.events() if e.action == "candidate.gated")
    assert approval.payload["gated_under_policy_sha256"] == gated_under
    assert approval.payload["signed"]["statement"]["policy_sha256"] == sha256_file(newer)
    assert gated.payload["gates"]["policy_sha256"] == gated_under
    assert govern(workdir, "audit", "verify").exit_code == 0


# -- checkpoints of the chain head, outside the database -----------------------------------


def _truncate_and_hide(workdir, newest):
    """An insider with DDL rights deletes the newest events and puts the registry back.

    The registry edits are what the MLflow UI allows: lifecycle and approvals tags back to
    what the shortened log says, the aliases it implies, the checkpoint tag removed.
    """
    with sqlite3.connect(_audit_db(workdir)) as conn:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'"):
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute(
            "DELETE FROM governance_audit_events WHERE seq > "
            f"(SELECT MAX(seq) - {newest} FROM governance_audit_events)"
        )
    client = client_for(workdir)
    client.set_model_version_tag(MODEL, "1", "lifecycle", "pending-signoff")
    client.set_model_version_tag(MODEL, "1", "signoff.approvals", "[]")
    client.delete_registered_model_alias(MODEL, "champion")
    client.set_registered_model_alias(MODEL, "candidate", "3")
    client.delete_registered_model_tag(MODEL, "audit.checkpoint")


def test_deleting_the_newest_events_is_caught_by_the_checkpoint_file(workdir):
    # v1 approved, released and promoted: three signed decisions between the action's
    # intent and completion, all five deleted, each under its checkpoint.
    _promoted(workdir)
    _truncate_and_hide(workdir, 5)
    with open_audit_log(get_settings(workdir).audit_db_url) as audit:
        assert audit.verify().ok  # the chain that is left is intact
    verify = govern(workdir, "audit", "verify", "--json")
    assert verify.exit_code == EXIT_INTEGRITY
    findings = json.loads(verify.stdout[: verify.stdout.rindex("}") + 1])["findings"]
    assert [f["kind"] for f in findings] == ["checkpoint"] * 5, findings
    assert "its newest events were deleted" in findings[0]["message"]
    before = state(workdir)
    refused = approve(workdir, "1")  # the rules check the checkpoints before acting
    assert refused.exit_code == EXIT_INTEGRITY and "contradicts its checkpoints" in refused.stderr
    assert state(workdir) == before


def test_deleting_the_newest_events_and_the_file_is_caught_by_the_tag(workdir):
    _promoted(workdir)
    with sqlite3.connect(_audit_db(workdir)) as conn:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'"):
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute(
            "DELETE FROM governance_audit_events WHERE seq > "
            "(SELECT MAX(seq) - 5 FROM governance_audit_events)"
        )
    get_settings(workdir).checkpoint_path.unlink()
    verify = govern(workdir, "audit", "verify")
    assert verify.exit_code == EXIT_INTEGRITY
    assert "tag audit.checkpoint of execution-impact" in verify.stderr
    assert "its newest events were deleted" in verify.stderr


def test_rechaining_after_an_edit_is_caught(workdir):
    _promoted(workdir)
    # The challenger's evidence edited, then every hash after it recomputed.
    _rewrite_log(
        workdir,
        "UPDATE governance_audit_events SET payload_json = "
        "json_set(payload_json, '$.verdicts', json('{}')) WHERE action = 'candidate.compared'",
    )
    with open_audit_log(get_settings(workdir).audit_db_url) as audit:
        assert audit.verify().ok
    verify = govern(workdir, "audit", "verify", "--json")
    assert verify.exit_code == EXIT_INTEGRITY
    findings = json.loads(verify.stdout[: verify.stdout.rindex("}") + 1])["findings"]
    rewritten = [f for f in findings if f["kind"] == "checkpoint"]
    assert rewritten and all("the log was rewritten" in f["message"] for f in rewritten)


def _signed_around_the_rules(workdir, name, action, payload, version):
    """Append ``action`` signed with ``name``'s own key through the public API, no rule asked."""
    from governance.lifecycle.version_state import now
    from governance.trust.policy_store import load_model_policy, signer_for
    from governance.trust.signatures import record_signed

    settings = get_settings(workdir)
    loaded = load_model_policy(settings.policy_path, MODEL)
    signer = signer_for(settings.keys_dir, loaded.file, name)
    with open_audit_log(settings.audit_db_url) as audit:
        record_signed(
            audit,
            signer,
            name,
            action,
            payload,
            MODEL,
            version,
            policy_sha256=loaded.sha256,
            time=now(),
        )


def test_a_validly_signed_decision_appended_around_the_rules_is_caught(workdir):
    rejected = govern(
        workdir, "signoff", "reject", MODEL, "3", "--as", "validator", "--comment", "tail risk"
    )
    assert rejected.exit_code == 0, rejected.output
    # The validator's own key, the right statement, but no rule asked: v3 was rejected.
    _signed_around_the_rules(
        workdir,
        "validator",
        "signoff.approved",
        {"comment": "changed my mind", "approvals": 1, "required": 1, "automatic": False},
        "3",
    )
    verify = govern(workdir, "audit", "verify")
    assert verify.exit_code == EXIT_INTEGRITY
    assert (
        "rule 'only pending versions are signed': execution-impact version 3 is 'rejected'"
        in verify.stderr
    )


def test_a_signed_rollback_cannot_choose_which_version_it_demotes(workdir):
    """The on-call key signs a rollback whose ``demoted`` names decommissioned v1."""
    for version in ("1", "2", "3"):
        assert approve(workdir, version).exit_code == 0  # v3 champion, v2 previous
    gone = govern(workdir, "decommission", MODEL, "1", "--as", "on-call", "--reason", "old")
    assert gone.exit_code == 0, gone.output
    _signed_around_the_rules(
        workdir,
        "on-call",
        "version.rolled_back",
        {"reason": "drill", "champion": "2", "demoted": "1"},
        "2",
    )
    verify = govern(workdir, "audit", "verify")
    assert verify.exit_code == EXIT_INTEGRITY
    assert (
        "rule 'other versions move by the log': it names '1' as demoted, but by the log that "
        "is '3'" in verify.stderr
    )
    # Served as if it had not happened: v3 stays champion, v1 decommissioned.
    reconcile = govern(workdir, "audit", "reconcile", MODEL, "--as", "on-call")
    assert reconcile.exit_code == 0 and "0 change(s)" in reconcile.stdout
    assert load_champion(MODEL, workdir=workdir).version == "3"
    assert state(workdir)[0]["1"] == "decommissioned"


def test_unsigned_checkpoints_are_findings_not_a_lock_out(workdir):
    """Garbage in the checkpoint tag (MLflow UI) and file (file system) stops nobody.

    Nobody without a key can write a checkpoint that verifies, so what they write says
    nothing about the log: the champion is served, an emergency rollback goes through, and
    ``audit verify`` names both forgeries.
    """
    assert approve(workdir, "1").exit_code == 0
    assert approve(workdir, "2").exit_code == 0
    client_for(workdir).set_registered_model_tag(MODEL, "audit.checkpoint", "{}")
    with get_settings(workdir).checkpoint_path.open("a") as handle:
        handle.write("not a checkpoint\n")
    verify = govern(workdir, "audit", "verify", "--json")
    assert verify.exit_code == EXIT_INTEGRITY
    findings = json.loads(verify.stdout[: verify.stdout.rindex("}") + 1])["findings"]
    forged = sorted(f["message"].split(" is not signed")[0] for f in findings)
    assert len(forged) == 2 and "audit-checkpoints.jsonl:" in forged[0], forged
    assert forged[1] == "checkpoint at tag audit.checkpoint of execution-impact", forged
    assert load_champion(MODEL, workdir=workdir).version == "2"
    rolled = govern(workdir, "rollback", MODEL, "--as", "on-call", "--reason", "v2 misprices")
    assert rolled.exit_code == 0, rolled.output
    assert load_champion(MODEL, workdir=workdir).version == "1"
    # The rollback's own checkpoint replaced the tag; the file keeps the forged line.
    assert govern(workdir, "audit", "verify").exit_code == EXIT_INTEGRITY


def test_audit_verify_as_a_member_checkpoints_the_head(workdir):
    from governance.trust.checkpoints import read_checkpoints

    settings = get_settings(workdir)
    signed = govern(workdir, "audit", "verify", "--as", "intern")  # a member, no role needed
    assert signed.exit_code == 0, signed.output
    with open_audit_log(settings.audit_db_url) as audit:
        head = audit.head()
    checkpoints = read_checkpoints(settings.checkpoint_path, client_for(workdir))
    (mine,) = [c for c in checkpoints if c.signer == "intern"]
    assert (mine.seq, mine.event_hash) == (head.seq, head.event_hash)
    stranger = govern(workdir, "audit", "verify", "--as", "mallory")
    assert stranger.exit_code == EXIT_NOT_AUTHORISED


# -- signed releases: OpenSSF model-signing bundles -----------------------------------------


def _released(workdir, version):
    """The version's release event, its bundle's file in the artifact store, its artifacts."""
    from urllib.parse import urlparse

    from governance.stores.artifacts import verified_artifacts

    stores = open_stores(get_settings(workdir))
    (released,) = [
        e
        for e in stores.audit.events(model=MODEL, version=version)
        if e.action == "version.released"
    ]
    run = stores.client.get_run(released.payload["bundle_uri"].split("/")[1])
    bundle = Path(urlparse(run.info.artifact_uri).path) / "release" / "model.sig"
    model_dir, _ = verified_artifacts(stores, MODEL, version)
    return released, bundle, model_dir


def _model_signing_verify(model_dir, bundle, public_pem, tmp_path):
    """The model-signing package's own command-line verifier."""
    public = tmp_path / "release.pub"
    public.write_bytes(public_pem)
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("model_signing")),
            "verify",
            "key",
            str(model_dir),
            "--signature",
            str(bundle),
            "--public_key",
            str(public),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_approved_version_carries_a_bundle_the_model_signing_verifier_accepts(workdir, tmp_path):
    from governance.trust.identity import release_public_pem

    assert approve(workdir, "1").exit_code == 0
    released, bundle, model_dir = _released(workdir, "1")
    policy = parse_policy(policy_text(workdir))
    assert released.payload["release_public_key"] == policy.release.public_key
    assert released.payload["bundle_sha256"] == sha256_file(bundle)
    public_pem = release_public_pem(released.payload["release_public_key"])

    accepted = _model_signing_verify(model_dir, bundle, public_pem, tmp_path)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr

    tampered = tmp_path / "tampered"
    shutil.copytree(model_dir, tampered)
    (law,) = tampered.rglob("law.json")
    law.write_text(json.dumps({**json.loads(law.read_text()), "beta": 0.9}))
    refused = _model_signing_verify(tampered, bundle, public_pem, tmp_path)
    assert refused.returncode != 0
    assert "law.json" in refused.stdout + refused.stderr


def test_load_champion_refuses_a_replaced_release_bundle(workdir, tmp_path):
    from governance.trust.identity import create_release_key, release_key_path

    assert approve(workdir, "1").exit_code == 0
    assert load_champion(MODEL, workdir=workdir).version == "1"
    _, bundle, model_dir = _released(workdir, "1")
    original = bundle.read_bytes()
    # An insider re-signs the artifacts with a release key of their own.
    create_release_key(tmp_path / "mallory", "release-signer")
    import model_signing

    try:
        model_signing.signing.Config().use_elliptic_key_signer(
            private_key=release_key_path(tmp_path / "mallory", "release-signer")
        ).sign(model_dir, bundle)
        with pytest.raises(IntegrityError, match="release bundle .* hashes to"):
            load_champion(MODEL, workdir=workdir)
        verify = govern(workdir, "audit", "verify")
        assert verify.exit_code == EXIT_INTEGRITY and "release bundle" in verify.stderr
    finally:
        bundle.write_bytes(original)  # the artifact store is shared with other tests' copies
    assert load_champion(MODEL, workdir=workdir).version == "1"


def test_an_approval_without_the_release_key_changes_nothing(workdir):
    (workdir / "keys" / "release-signer.release.pem").unlink()
    before = (state(workdir), actions(workdir))
    refused = approve(workdir, "1")
    assert refused.exit_code == EXIT_NOT_AUTHORISED, refused.output
    assert "signed releases" in refused.stderr and "release-signer" in refused.stderr
    assert (state(workdir), actions(workdir)) == before


# -- every documented tag and the description, against the log -----------------------------


@pytest.mark.parametrize(
    "tag, value",
    [
        ("gates.passed", "true"),
        ("gates.policy_sha256", "0" * 64),
        ("gates.failed", "none at all"),
        ("lineage.code_version", "v9.9.9"),
        ("lineage.dataset_uri", "file:///elsewhere"),
        ("lineage.dataset_rows", '{"executions": 1}'),
        ("lineage.data_validation", "passed (1 checks, 0 critical failures, 0 warnings)"),
    ],
)
def test_every_documented_tag_edited_in_the_ui_is_caught(workdir, tag, value):
    client = client_for(workdir)
    if client.get_model_version(MODEL, "2").tags[tag] == value:
        value = "edited"
    client.set_model_version_tag(MODEL, "2", tag, value)
    result = govern(workdir, "audit", "verify")
    assert result.exit_code == EXIT_INTEGRITY
    assert f"tag {tag} is {value!r}, but the audit log records" in result.stderr


def test_an_edited_version_description_is_caught(workdir):
    client = client_for(workdir)
    original = client.get_model_version(MODEL, "2").description
    assert original.startswith("Gates PASSED")
    client.update_model_version(MODEL, "2", description=original.replace("PASSED", "PASSED!"))
    result = govern(workdir, "audit", "verify")
    assert result.exit_code == EXIT_INTEGRITY
    assert "description v2" in result.stderr or "the version description hashes to" in result.stderr


# -- crash-safe lifecycle steps: killed at each step, reconciled -------------------------------


def _killed(workdir, step, *args):
    """Run ``govern ARGS`` in its own process and SIGKILL it at ``step`` of the action."""
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    drill = Path(__file__).parents[1] / "crash_drill.py"
    done = subprocess.run(
        [sys.executable, str(drill), step, *args, "--workdir", str(workdir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == -9, done.stdout + done.stderr


@pytest.mark.parametrize("step", ["intent", "decided", "view"])
def test_an_approval_killed_at_each_step_is_finished_or_undone_by_reconcile(workdir, step):
    _killed(workdir, step, "signoff", "approve", MODEL, "1", "--as", "validator")
    cut = govern(workdir, "audit", "verify", "--json")
    assert cut.exit_code == EXIT_INTEGRITY
    findings = json.loads(cut.stdout[: cut.stdout.rindex("}") + 1])["findings"]
    (action,) = [f["message"] for f in findings if f["kind"] == "action"]
    assert action.startswith("approve of v1 by validator was cut"), findings
    # The killed holder's lease is broken at once (same host): reconcile need not wait.
    fixed = govern(workdir, "audit", "reconcile", MODEL, "--as", "on-call")
    assert fixed.exit_code == 0, fixed.output
    outcome = "undone by reconcile" if step == "intent" else "finished by reconcile"
    assert outcome in fixed.stdout
    assert govern(workdir, "audit", "verify").exit_code == 0
    lifecycle, aliases = state(workdir)
    if step == "intent":
        assert lifecycle["1"] == "pending-signoff" and "champion" not in aliases
        assert approve(workdir, "1").exit_code == 0  # nothing half-done blocks a retry
    else:
        assert lifecycle["1"] == "champion" and aliases["champion"] == "1"
    assert load_champion(MODEL, workdir=workdir).version == "1"


@pytest.mark.parametrize("step", ["intent", "decided", "view"])
def test_a_rollback_killed_at_each_step_is_finished_or_undone_by_reconcile(workdir, step):
    assert approve(workdir, "1").exit_code == 0
    assert approve(workdir, "2").exit_code == 0
    _killed(workdir, step, "rollback", MODEL, "--as", "on-call", "--reason", "drill")
    assert govern(workdir, "audit", "verify").exit_code == EXIT_INTEGRITY
    fixed = govern(workdir, "audit", "reconcile", MODEL, "--as", "on-call")
    assert fixed.exit_code == 0, fixed.output
    assert govern(workdir, "audit", "verify").exit_code == 0
    expected = "2" if step == "intent" else "1"
    assert state(workdir)[1]["champion"] == expected
    assert load_champion(MODEL, workdir=workdir).version == expected


@pytest.mark.parametrize("step", ["intent", "decided", "view"])
def test_a_promotion_killed_at_each_step_is_finished_or_undone_by_reconcile(workdir, step):
    assert approve(workdir, "1").exit_code == 0  # champion
    adopt(
        workdir,
        policy_text(workdir).replace("promote_on_approval: true", "promote_on_approval: false"),
    )
    assert approve(workdir, "2").exit_code == 0  # approved, waiting for its promotion
    _killed(workdir, step, "promote", MODEL, "2", "--as", "on-call", "--reason", "drill")
    assert govern(workdir, "audit", "verify").exit_code == EXIT_INTEGRITY
    fixed = govern(workdir, "audit", "reconcile", MODEL, "--as", "on-call")
    assert fixed.exit_code == 0, fixed.output
    assert govern(workdir, "audit", "verify").exit_code == 0
    expected = "1" if step == "intent" else "2"
    assert state(workdir)[1]["champion"] == expected
    assert load_champion(MODEL, workdir=workdir).version == expected


@pytest.mark.parametrize("step", ["intent", "decided", "view"])
def test_a_decommission_killed_at_each_step_is_finished_or_undone_by_reconcile(workdir, step):
    _killed(workdir, step, "decommission", MODEL, "3", "--as", "on-call", "--reason", "drill")
    assert govern(workdir, "audit", "verify").exit_code == EXIT_INTEGRITY
    fixed = govern(workdir, "audit", "reconcile", MODEL, "--as", "on-call")
    assert fixed.exit_code == 0, fixed.output
    assert govern(workdir, "audit", "verify").exit_code == 0
    expected = "pending-signoff" if step == "intent" else "decommissioned"
    assert state(workdir)[0]["3"] == expected


def test_a_decision_refused_inside_its_action_closes_the_intent(workdir):
    """A signature over another comment is refused when recorded; the log says so, verify 0."""
    from governance.lifecycle.actions import approve as approve_version
    from governance.lifecycle.actions import sign_decision
    from governance.trust.policy_store import load_model_policy, presigned_for, signer_for

    settings = get_settings(workdir)
    stores = open_stores(settings)
    policy = load_model_policy(settings.policy_path, MODEL)
    validator = signer_for(settings.keys_dir, policy.file, "validator")
    token = sign_decision(stores, policy, MODEL, "1", validator, "approve", "reviewed")
    presigned = presigned_for(policy.file, "validator", token)
    service = signer_for(settings.keys_dir, policy.file, "on-call")
    with pytest.raises(NotAuthorised, match="differs from the decision as it stands now"):
        approve_version(stores, policy, MODEL, "1", presigned, "another comment", service=service)
    with open_audit_log(settings.audit_db_url) as audit:
        intent, completion = audit.events()[-2:]
    assert intent.action == "lifecycle.intent"
    assert completion.payload["intent_seq"] == intent.seq
    assert completion.payload["outcome"].startswith("not done: NotAuthorised")
    assert govern(workdir, "audit", "verify").exit_code == 0
    assert state(workdir)[0]["1"] == "pending-signoff"


def test_a_rollback_the_registry_could_not_show_says_it_is_recorded(workdir, monkeypatch):
    """MLflow fails after the decision: exit 7, the message says what was committed."""
    import governance.lifecycle.actions as actions
    from cli.exit_codes import EXIT_RECORDED_NOT_APPLIED

    assert approve(workdir, "1").exit_code == 0
    assert approve(workdir, "2").exit_code == 0

    def unreachable(*args, **kwargs):
        raise ConnectionError("MLflow went away")

    monkeypatch.setattr(actions, "sync_view", unreachable)
    cut = govern(workdir, "rollback", MODEL, "--as", "on-call", "--reason", "drill")
    monkeypatch.undo()
    assert cut.exit_code == EXIT_RECORDED_NOT_APPLIED, cut.output
    assert "the rollback of execution-impact version 1 is decided and recorded" in cut.stderr
    assert "govern audit reconcile" in cut.stderr and "not the rollback again" in cut.stderr
    assert load_champion(MODEL, workdir=workdir).version == "1"  # in force by the log
    fixed = govern(workdir, "audit", "reconcile", MODEL, "--as", "on-call")
    assert fixed.exit_code == 0, fixed.output
    assert govern(workdir, "audit", "verify").exit_code == 0
    assert state(workdir)[1]["champion"] == "1"


def test_a_version_deleted_in_the_ui_stays_on_the_record_and_its_loss_is_recorded(workdir):
    _promoted(workdir)  # v1 champion
    client_for(workdir).delete_model_version(MODEL, "1")

    found = govern(workdir, "audit", "verify")
    assert found.exit_code == EXIT_INTEGRITY
    assert "v1: deleted from the MLflow registry outside governance" in found.stderr
    # What was decided stands on the log and the hash-checked artifacts, not on the view.
    assert load_champion(MODEL, workdir=workdir).version == "1"
    report = govern(workdir, "lineage", MODEL, "1", "--format", "json")
    assert report.exit_code == 0, report.output
    lineage = json.loads(report.stdout)
    assert lineage["lifecycle"] == "champion"
    assert "deleted from the MLflow registry" in lineage["audit"]["note"]
    listed = govern(workdir, "lineage", MODEL, "--inventory", "--format", "json")
    rows = {row["version"]: row for row in json.loads(listed.stdout)}
    assert rows["1"]["lifecycle"] == "champion" and rows["1"]["registry"] == "deleted"
    assert rows["2"]["registry"] == "registered"

    # Reconcile cannot re-register it under its number (MLflow never reuses one): it
    # checks the artifacts and records the loss, signed by the operator, once.
    fixed = govern(workdir, "audit", "reconcile", MODEL, "--as", "on-call")
    assert fixed.exit_code == 0, fixed.output
    assert "v1" in fixed.stdout and "deleted" in fixed.stdout
    recorded = [e for e in actions(workdir) if e[0] == "registry.version_deleted"]
    assert recorded == [("registry.version_deleted", "1", "on-call")]
    assert govern(workdir, "audit", "reconcile", MODEL, "--as", "on-call").exit_code == 0
    assert len([e for e in actions(workdir) if e[0] == "registry.version_deleted"]) == 1
    verified = govern(workdir, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "1 version(s) deleted from the registry" in verified.stdout
    # A rollback or promotion that would alias a deleted version still acts on the log.
    assert approve(workdir, "2").exit_code == 0
    back = govern(workdir, "rollback", MODEL, "--as", "on-call", "--reason", "slippage alert")
    assert back.exit_code == 0, back.output
    assert load_champion(MODEL, workdir=workdir).version == "1"
    assert govern(workdir, "audit", "verify").exit_code == 0


def test_the_governed_loader_imports_neither_numba_nor_the_engine_nor_the_reports(workdir):
    _promoted(workdir)
    probe = (
        "import sys\n"
        "import pandas as pd\n"
        "from governance import load_champion\n"
        f"champion = load_champion({MODEL!r}, workdir={str(workdir)!r})\n"
        "orders = pd.DataFrame({'qty': [1e3, 5e5], 'adv': 5e6, 'daily_vol': 0.02,\n"
        "                       'spread_bps': 4.0, 'shares_outstanding': 5e8})\n"
        "assert len(champion.decide(orders)) == 2\n"
        "unwanted = ['numba', 'validation.stress.kernels', 'validation.stress.engine',\n"
        "            'validation.stress.runner', 'lineage', 'matplotlib', 'prefect']\n"
        "print(sorted(u for u in unwanted if u in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
