"""The one replay of the audit log: states, approvals, champions, rejections, milestones.

Every test writes real events to an audit log in a temporary SQLite database and replays
what the log returns; the payloads are those the lifecycle steps record.
"""

import pytest

from governance.ledger import open_audit_log
from governance.ledger.replay import replay
from vocabulary import Action, Lifecycle

MODEL = "execution-impact"


class Log:
    """Appends one model's events the way the pipeline does and replays them."""

    def __init__(self, audit):
        self.audit = audit

    def record(self, action, version, actor="on-call", model=MODEL, **payload):
        return self.audit.append(actor, action, payload, model=model, version=version)

    def trained(self, version, author="maker", model=MODEL):
        return self.record(
            Action.CANDIDATE_TRAINED, version, author, model, run_id=f"run-{version}"
        )

    def gated(self, version, passed=True):
        lifecycle = Lifecycle.PENDING_SIGNOFF if passed else Lifecycle.REJECTED
        return self.record(
            Action.CANDIDATE_GATED, version, "maker", lifecycle=lifecycle, gates={"passed": passed}
        )

    def approved(self, version, by="validator", approvals=1, required=1, automatic=False):
        return self.record(
            Action.SIGNOFF_APPROVED,
            version,
            by,
            comment=f"reviewed v{version}",
            approvals=approvals,
            required=required,
            automatic=automatic,
        )

    def promoted(self, version, previous=None, retired=None, reason="sign-off complete"):
        return self.record(
            Action.VERSION_PROMOTED,
            version,
            reason=reason,
            champion=version,
            previous=previous,
            retired=retired,
        )

    def ready(self, version):
        """Trained, gated and approved: promotable."""
        self.trained(version)
        self.gated(version)
        self.approved(version)

    def history(self):
        return replay(self.audit.events(model=MODEL))[MODEL]


@pytest.fixture
def log(tmp_path):
    audit = open_audit_log(f"sqlite:///{tmp_path / 'audit.db'}")
    yield Log(audit)
    audit.close()


@pytest.fixture
def three_champions(log):
    """v1, v2, v3 promoted in turn; a rollback restores v2; v2 is then decommissioned."""
    seqs = {}
    for version, previous, retired in (("1", None, None), ("2", "1", None), ("3", "2", "1")):
        log.ready(version)
        seqs[f"promote {version}"] = log.promoted(version, previous, retired).seq
    seqs["rollback"] = log.record(
        Action.VERSION_ROLLED_BACK, "2", reason="slippage alert on v3", champion="2", demoted="3"
    ).seq
    seqs["decommission"] = log.record(
        Action.VERSION_DECOMMISSIONED,
        "2",
        reason="bias on large orders",
        was_champion=True,
        aliases_removed=["champion"],
        replacement=None,
    ).seq
    return log.history(), seqs


def test_each_state_change_is_kept_with_its_event(log):
    trained = log.trained("1")
    gated = log.gated("1")
    approved = log.approved("1")
    promoted = log.promoted("1")
    v1 = log.history().state("1")
    assert [(s.lifecycle, s.action, s.seq, s.at, s.by) for s in v1.states] == [
        (Lifecycle.VALIDATING, Action.CANDIDATE_TRAINED, trained.seq, trained.ts, "maker"),
        (Lifecycle.PENDING_SIGNOFF, Action.CANDIDATE_GATED, gated.seq, gated.ts, "maker"),
        (Lifecycle.APPROVED, Action.SIGNOFF_APPROVED, approved.seq, approved.ts, "validator"),
        (Lifecycle.CHAMPION, Action.VERSION_PROMOTED, promoted.seq, promoted.ts, "on-call"),
    ]
    assert v1.states[-1].reason == "sign-off complete" and v1.states[-1].champion == "1"


def test_the_rules_api_reads_the_current_state(log):
    log.trained("1")
    assert log.history().state("1").lifecycle == "validating"
    gated = log.gated("1")
    v1 = log.history().state("1")
    assert (v1.lifecycle, v1.author, v1.gates_passed, v1.approvers, v1.last_seq) == (
        "pending-signoff",
        "maker",
        True,
        [],
        gated.seq,
    )
    # plain text, so that refusals quote the state the way its tag reads
    assert repr(v1.lifecycle) == "'pending-signoff'"
    assert log.history().aliases == {"candidate": "1"}


def test_approvals_count_until_the_policy_is_met(log):
    log.trained("1")
    log.gated("1")
    first = log.approved("1", "validator", approvals=1, required=2)
    assert log.history().state("1").lifecycle == "pending-signoff"
    second = log.approved("1", "risk-officer", approvals=2, required=2, automatic=True)
    v1 = log.history().state("1")
    assert v1.lifecycle == "approved" and v1.last_seq == second.seq
    assert v1.approvers == ["validator", "risk-officer"]
    assert [(a.by, a.at, a.seq, a.automatic, a.required) for a in v1.approvals] == [
        ("validator", first.ts, first.seq, False, 2),
        ("risk-officer", second.ts, second.seq, True, 2),
    ]


def test_champion_intervals_follow_promotions_rollback_and_decommission(three_champions):
    history, seq = three_champions
    assert [(c.version, c.from_seq, c.to_seq) for c in history.champions] == [
        ("1", seq["promote 1"], seq["promote 2"]),
        ("2", seq["promote 2"], seq["promote 3"]),
        ("3", seq["promote 3"], seq["rollback"]),
        ("2", seq["rollback"], seq["decommission"]),
    ]
    assert all(c.from_ts <= c.to_ts for c in history.champions)
    assert history.champion_before(seq["promote 1"]) is None
    assert history.champion_before(seq["promote 1"] + 1) == "1"
    assert history.champion_before(seq["promote 2"]) == "1"  # the moment before it
    assert history.champion_before(seq["rollback"]) == "3"
    assert history.champion_before(seq["decommission"]) == "2"
    assert history.champion_before(seq["decommission"] + 1) is None
    assert history.aliases == {}  # decommissioning v2 removed both of its aliases


def test_milestones_say_when_who_and_why(three_champions):
    history, seq = three_champions
    v1, v2, v3 = (history.state(v) for v in ("1", "2", "3"))
    assert [s.lifecycle for s in v1.states][-3:] == ["champion", "previous", "retired"]
    assert (v1.promoted.seq, v1.promoted.by) == (seq["promote 1"], "on-call")
    assert v1.retired.seq == seq["promote 3"]
    assert v1.retired.reason == "superseded when v3 was promoted (sign-off complete)"
    assert v1.rolled_back is None and v1.decommissioned is None
    assert (v3.lifecycle, v3.rolled_back.seq, v3.rolled_back.reason) == (
        "rolled-back",
        seq["rollback"],
        "slippage alert on v3",
    )
    # the first promotion is when it went live; the rollback made it champion again
    assert v2.promoted.seq == seq["promote 2"]
    assert [s.action for s in v2.states if s.lifecycle == Lifecycle.CHAMPION] == [
        Action.VERSION_PROMOTED,
        Action.VERSION_ROLLED_BACK,
    ]
    assert (v2.lifecycle, v2.decommissioned.seq, v2.decommissioned.reason) == (
        "decommissioned",
        seq["decommission"],
        "bias on large orders",
    )


def test_decommissioning_the_champion_with_a_replacement(log):
    for version, previous in (("1", None), ("2", "1")):
        log.ready(version)
        log.promoted(version, previous)
    ended = log.record(
        Action.VERSION_DECOMMISSIONED,
        "2",
        reason="bias",
        was_champion=True,
        aliases_removed=["champion"],
        replacement="1",
    )
    started = log.record(
        Action.VERSION_PROMOTED, "1", reason="replaces decommissioned version 2", champion="1"
    )
    history = log.history()
    assert [(c.version, c.to_seq) for c in history.champions][-2:] == [
        ("2", ended.seq),
        ("1", None),
    ]
    assert history.champions[-1].from_seq == started.seq
    assert history.aliases == {"champion": "1"}
    assert history.state("1").lifecycle == "champion"


def test_rejections_and_failures(log):
    log.trained("4")
    log.gated("4", passed=False)
    log.trained("5")
    log.gated("5")
    rejected = log.record(Action.SIGNOFF_REJECTED, "5", "validator", comment="holdout too short")
    log.trained("6")
    failed = log.record(Action.CANDIDATE_FAILED, "6", "maker", error="ValueError: no paths")
    history = log.history()
    v4, v5, v6 = (history.state(v) for v in ("4", "5", "6"))
    # rejected at its gates: no validator turned it down
    assert (v4.lifecycle, v4.gated, v4.gates_passed, v4.rejection) == (
        "rejected",
        True,
        False,
        None,
    )
    assert (v5.lifecycle, v5.rejection.by, v5.rejection.reason, v5.rejection.seq) == (
        "rejected",
        "validator",
        "holdout too short",
        rejected.seq,
    )
    assert (v6.lifecycle, v6.last_seq, v6.states[-1].reason) == (
        "failed",
        failed.seq,
        "ValueError: no paths",
    )
    assert "candidate" not in history.aliases  # the rejection took v5's alias away


def test_events_the_replay_cannot_place_are_skipped(log):
    log.record(Action.DATA_VALIDATED, None, "maker", run_id="run-1")  # no version yet
    log.approved("9")  # never trained: ``govern audit verify`` reports it
    log.trained("1", author="maker")
    log.trained("1", author="other", model="another-model")
    histories = replay(log.audit.events())
    assert set(histories) == {MODEL, "another-model"}
    assert set(histories[MODEL].versions) == {"1"} and histories[MODEL].state("9") is None
    assert histories["another-model"].state("1").author == "other"
