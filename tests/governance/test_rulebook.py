"""The one rulebook, walked row by row against acting, verifying and replaying.

For every lifecycle step of the table and every state a version can be in, on a real
audit log with signed events: the check a lifecycle command makes before acting refuses
exactly the states the row does not start from; the same decision appended around that
check (validly signed, through the public API) is what ``audit verify`` reports, by the
same rule; and an allowed one leaves the version in the row's state when replayed.
"""

import shutil

import pytest
from govern_cli import MODEL, trust

from governance.ledger import open_audit_log
from governance.ledger.replay import replay
from governance.lifecycle.rule_checks import Request, check_decisions, refusal
from governance.stores.settings import get_settings
from governance.trust.policy_store import load_model_policy, signer_for
from governance.trust.signatures import key_sponsors, record_signed
from vocabulary import Lifecycle, Role, Rule
from vocabulary.rulebook import AUTO_APPROVER, TRANSITIONS, transition

#: Who holds each role among the tests' people (the author of every version is 'maker').
HOLDER = {
    Role.VERSION_AUTHOR: "maker",
    Role.AUTHOR_OR_OPERATOR: "on-call",
    Role.VALIDATOR: "risk-officer",
    Role.OPERATOR: "on-call",
    Role.MEMBER: "maker",
}

#: How version 1 reaches each state, step by step (versions 2 and 3 help).
PATHS = {
    Lifecycle.VALIDATING: ["train 1"],
    Lifecycle.PENDING_SIGNOFF: ["train 1", "gate 1"],
    Lifecycle.REJECTED: ["train 1", "gate-fail 1"],
    Lifecycle.FAILED: ["train 1", "fail 1"],
    Lifecycle.APPROVED: ["ready 1"],
    Lifecycle.CHAMPION: ["ready 1", "promote 1"],
    Lifecycle.PREVIOUS: ["ready 1", "promote 1", "ready 2", "promote 2"],
    Lifecycle.RETIRED: ["ready 1", "promote 1", "ready 2", "promote 2", "ready 3", "promote 3"],
    Lifecycle.ROLLED_BACK: ["ready 2", "promote 2", "ready 1", "promote 1", "rollback 2"],
    Lifecycle.DECOMMISSIONED: ["train 1", "decommission 1"],
}


class SignedLog:
    """Appends one model's decisions, each signed by its maker's own key, no rule asked."""

    def __init__(self, workdir):
        self.settings = get_settings(workdir)
        self.loaded = load_model_policy(self.settings.policy_path, MODEL)
        self.audit = open_audit_log(self.settings.audit_db_url)

    def history(self):
        return replay(self.audit.events(model=MODEL)).get(MODEL)

    def append(self, step, version, signer, actor=None, **payload):
        with_key = signer_for(self.settings.keys_dir, self.loaded.file, signer)
        record_signed(
            self.audit,
            with_key,
            actor or signer,
            transition(step).action,
            payload,
            MODEL,
            version,
            policy_sha256=self.loaded.sha256,
            time="2026-12-08T09:00:00+00:00",
        )

    def payload(self, step, version):
        """What the lifecycle would record for ``step`` of ``version`` now."""
        history = self.history()
        if step == "train":
            return {"run_id": f"run-{version}", "model_sha256": "0" * 64}
        if step in ("gate", "gate-fail"):
            passed = step == "gate"
            return {
                "run_id": f"run-{version}",
                "lifecycle": Lifecycle.PENDING_SIGNOFF if passed else Lifecycle.REJECTED,
                "gates": {"passed": passed, "policy_sha256": self.loaded.sha256},
            }
        if step == "fail":
            return {"run_id": f"run-{version}", "error": "the stress step died"}
        if step == "approve":
            state = history.state(version)
            required = self.loaded.policy.approvals_required
            return {"comment": "ok", "approvals": len(state.approvals) + 1, "required": required}
        if step == "reject":
            return {"comment": "tail risk"}
        if step == "release":
            return {"release_public_key": self.loaded.file.release.public_key}
        if step == "promote":
            return {"reason": "r", "champion": version, **history.promotion_moves()}
        if step == "rollback":
            return {"reason": "r", "champion": version, **history.rollback_moves()}
        return {"reason": "r"}

    def take(self, step, version, signer):
        name = "gate" if step == "gate-fail" else step
        self.append(name, version, signer, **self.payload(step, version))

    def walk(self, path):
        for move in path:
            step, version = move.split()
            if step == "ready":
                for name, signer in (("train", "maker"), ("gate", "maker")):
                    self.take(name, version, signer)
                validators = ("validator", "risk-officer")
                for by in validators[: self.loaded.policy.approvals_required]:
                    self.take("approve", version, by)
                continue
            signer = {"train": "maker", "gate": "maker", "gate-fail": "maker"}.get(step, "on-call")
            self.take(step, version, signer)


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    """One work directory per state, version 1 in it, every event validly signed."""
    found = {}
    for state, path in PATHS.items():
        workdir = tmp_path_factory.mktemp(state.value) / "w"
        trust(workdir)
        log = SignedLog(workdir)
        log.walk(path)
        assert log.history().state("1").lifecycle == state, state
        assert check_decisions(log.audit.events()) == []
        log.audit.close()
        found[state] = workdir
    return found


def copy_of(logs, state, tmp_path):
    """A signed log of its own with version 1 in ``state``."""
    workdir = tmp_path / "w"
    shutil.copytree(logs[state], workdir)
    return SignedLog(workdir)


def refused_both_ways(log, request, rule=None):
    """The rule refusing ``request`` before acting, and the finding of it on the record."""
    refused = refusal(request, log.history())
    assert refused is not None and rule in (None, refused.rule), refused
    payload = log.payload(request.step.name, request.version)
    log.append(request.step.name, request.version, request.signer, request.actor, **payload)
    (problem,) = check_decisions(log.audit.events())
    assert f"rule '{refused.rule}'" in problem.message
    return refused


VERSION_STEPS = [t for t in TRANSITIONS if t.on_version and t.name not in ("train", "replace")]


@pytest.mark.parametrize("state", list(PATHS), ids=str)
@pytest.mark.parametrize("step", VERSION_STEPS, ids=lambda t: t.name)
def test_each_step_is_allowed_from_its_states_only_before_acting_on_record_and_in_replay(
    logs, tmp_path, step, state
):
    log = copy_of(logs, state, tmp_path)
    signer = HOLDER[step.role]
    payload = log.payload(step.name, "1")
    request = Request(step, log.loaded.file, MODEL, "1", signer, signer, payload=payload)
    before = refusal(request, log.history())  # what a lifecycle command checks first

    log.append(step.name, "1", signer, **payload)
    problems = check_decisions(log.audit.events())
    allowed = state in step.from_states
    if allowed:
        assert before is None, before
        assert problems == []
        if step.to_state is not None:
            assert log.history().state("1").lifecycle == step.to_state
    else:
        expected = Rule.DECOMMISSIONED_IS_FINAL if state == Lifecycle.DECOMMISSIONED else step.rule
        assert before is not None and before.rule == expected
        assert len(problems) == 1 and f"rule '{expected}'" in problems[0].message
    log.audit.close()


@pytest.mark.parametrize("step", VERSION_STEPS, ids=lambda t: t.name)
def test_a_member_without_the_steps_role_is_refused_by_its_role_rule(logs, tmp_path, step):
    """'intern' holds a key and no role; from a state the step allows, only the role fails."""
    log = copy_of(logs, next(s for s in PATHS if s in step.from_states), tmp_path)
    request = Request(step, log.loaded.file, MODEL, "1", "intern", "intern")
    assert "'intern' may not" in refused_both_ways(log, request).reason
    log.audit.close()


def test_a_validator_cannot_approve_their_own_version_by_name_or_by_key(logs, tmp_path):
    log = copy_of(logs, Lifecycle.PENDING_SIGNOFF, tmp_path)
    # Under another name, with the key that signed the training (the same name is refused
    # by the role first: the author 'maker' is no validator).
    authors_key = log.loaded.file.members["maker"]
    request = Request(
        transition("approve"), log.loaded.file, MODEL, "1", "validator", "validator", authors_key
    )
    refused = refusal(request, log.history())
    assert refused is not None and refused.rule == Rule.MAKER_CHECKER
    log.audit.close()


def test_automatic_approval_only_where_the_policy_allows_it(logs, tmp_path):
    log = copy_of(logs, Lifecycle.PENDING_SIGNOFF, tmp_path)
    request = Request(transition("approve"), log.loaded.file, MODEL, "1", AUTO_APPROVER, "maker")
    refused_both_ways(log, request, Rule.AUTOMATIC_APPROVAL)
    log.audit.close()


def test_a_second_approval_by_the_same_validator_is_refused(logs, tmp_path):
    log = copy_of(logs, Lifecycle.PENDING_SIGNOFF, tmp_path)
    # The first of two approvals (the shipped policy asks for one: this log asks for two).
    log.append("approve", "1", "risk-officer", comment="ok", approvals=1, required=2)
    assert log.history().state("1").lifecycle == Lifecycle.PENDING_SIGNOFF
    file, step = log.loaded.file, transition("approve")
    again = Request(step, file, MODEL, "1", "risk-officer", "risk-officer")
    same_key = Request(
        step, file, MODEL, "1", "validator", "validator", file.members["risk-officer"]
    )
    for request in (again, same_key):
        refused = refusal(request, log.history())
        assert refused is not None and refused.rule == Rule.DISTINCT_APPROVERS
    assert refusal(Request(step, file, MODEL, "1", "validator", "validator"), log.history()) is None
    log.audit.close()


def test_the_policy_is_adopted_by_owners_only(logs):
    log = SignedLog(logs[Lifecycle.VALIDATING])
    step = transition("adopt")
    owner = log.loaded.file.owners[0]
    assert refusal(Request(step, log.loaded.file, None, None, owner, owner), None) is None
    refused = refusal(Request(step, log.loaded.file, None, None, "on-call", "on-call"), None)
    assert refused is not None and refused.rule == Rule.OWNERS_ADOPT
    log.audit.close()


def _adopt_with_new_members(log, roles):
    """The owner lists new people (keys made now) with ``roles`` and adopts the policy."""
    import yaml

    from governance.lifecycle.adoption import adopt_policy
    from governance.trust.identity import create_key

    raw = yaml.safe_load(log.settings.policy_path.read_text())
    model = raw["models"][MODEL]
    for name, role in roles.items():
        raw["members"][name] = create_key(log.settings.keys_dir, name)
        if role == "validator":
            model["validators"] = [*model["validators"], name]
    log.settings.policy_path.write_text(yaml.safe_dump(raw, sort_keys=False))
    owner = log.loaded.file.owners[0]
    adopt_policy(log.audit, log.settings, log.settings.policy_path, owner, "2026-12-08T10:00:00Z")
    log.loaded = load_model_policy(log.settings.policy_path, MODEL)
    return owner


def _trained_by(log, author, version="1"):
    for step in ("train", "gate"):
        log.append(step, version, author, **log.payload(step, version))


def _approval(log, approver, version="1"):
    key = log.loaded.file.members[approver]
    sponsors = key_sponsors(log.audit.events())
    return Request(
        transition("approve"),
        log.loaded.file,
        MODEL,
        version,
        approver,
        approver,
        key,
        sponsors=sponsors,
    )


def test_an_owner_cannot_approve_what_a_key_they_listed_trains(tmp_path):
    """The owner alone: a second key of their own, trained with, approved with the first."""
    workdir = tmp_path / "w"
    trust(workdir)
    log = SignedLog(workdir)
    owner = _adopt_with_new_members(log, {"owner-alt": "author"})
    _trained_by(log, "owner-alt")
    refused_both_ways(log, _approval(log, owner), Rule.SEPARATION_THROUGH_POLICY)
    log.audit.close()


def test_a_validator_an_owner_listed_cannot_approve_what_that_owners_new_key_trains(tmp_path):
    workdir = tmp_path / "w"
    trust(workdir)
    log = SignedLog(workdir)
    _adopt_with_new_members(log, {"puppet": "validator", "alt": "author"})
    _trained_by(log, "alt")
    refused_both_ways(log, _approval(log, "puppet"), Rule.SEPARATION_THROUGH_POLICY)
    log.audit.close()


def test_an_owner_cannot_train_what_a_validator_they_listed_approves(tmp_path):
    workdir = tmp_path / "w"
    trust(workdir)
    log = SignedLog(workdir)
    owner = _adopt_with_new_members(log, {"puppet": "validator"})
    _trained_by(log, owner)
    refused_both_ways(log, _approval(log, "puppet"), Rule.SEPARATION_THROUGH_POLICY)
    log.audit.close()


def test_keys_of_the_first_policy_and_independent_validators_are_unaffected(tmp_path):
    """The first policy is the root of trust; a validator it listed checks a new author."""
    workdir = tmp_path / "w"
    trust(workdir)
    log = SignedLog(workdir)
    _adopt_with_new_members(log, {"newcomer": "author"})
    _trained_by(log, "newcomer")
    request = _approval(log, "risk-officer")
    assert refusal(request, log.history()) is None
    log.append("approve", "1", "risk-officer", **log.payload("approve", "1"))
    assert check_decisions(log.audit.events()) == []
    log.audit.close()
