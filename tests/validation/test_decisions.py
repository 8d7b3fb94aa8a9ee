"""The candidate's decisions are judged on the real stress engine, on common random numbers."""

import pytest

from governance.stores.settings import DEFAULT_POLICY
from tests.validation.stress_books import example_orders
from validation.decisions import compare_decisions
from validation.gates import decision_checks, stress_checks
from validation.policy import parse_policy
from validation.stress import StressConfig, run_stress
from validation.stress.catalogue import gate_table

RISK_AVERSION = 0.1  # the impact family's
MARGIN = 0.05  # the shipped policy's decision_margin


def _book(horizons, share_of_adv=None):
    orders = example_orders("champion").assign(style="vwap", start_minute=0.0)
    if share_of_adv is not None:
        orders = orders.assign(quantity=orders["adv"] * share_of_adv)
    return orders.assign(horizon_minutes=horizons)


SENSIBLE = _book([240.0, 180.0, 360.0])
#: Orders of 0.2 % of ADV: half an hour costs little impact and carries little risk.
SMALL = _book([30.0, 30.0, 30.0], share_of_adv=0.002)


@pytest.fixture(scope="module")
def runs():
    config = StressConfig(n_paths=2_000, seed=5)
    candidates = {
        "same schedules": (SENSIBLE, SENSIBLE),
        # Blocks of 10 % of ADV in five minutes: the impact the policy exists to avoid.
        "rushed": (SENSIBLE, _book([5.0, 5.0, 5.0])),
        # A little faster on one order only: a real but immaterial difference.
        "one order a little faster": (SENSIBLE, _book([240.0, 120.0, 360.0])),
        # Small orders spread over the whole day: the timing risk the policy exists to avoid.
        "dawdling": (SMALL, _book([390.0, 390.0, 390.0], share_of_adv=0.002)),
    }
    # The calm market as the desk runs it, and without controls, where risk metrics are judged.
    calm = ["baseline", "baseline_uncontrolled"]
    return {
        name: run_stress({"champion": ours, "candidate": theirs}, calm, config)
        for name, (ours, theirs) in candidates.items()
    }


def _judged(report):
    return compare_decisions(report, ("baseline",), RISK_AVERSION, MARGIN)["baseline"]


def test_the_same_schedules_cost_the_same_on_the_same_markets(runs):
    d = _judged(runs["same schedules"])
    assert d.difference == d.ci_low == d.ci_high == 0.0
    assert d.verdict == "non-inferior", d.explanation


def test_a_candidate_dawdling_over_small_orders_is_judged_worse_and_fails(runs):
    d = _judged(runs["dawdling"])
    assert d.verdict == "worse", d.explanation
    assert d.ci_low > d.margin > 0
    assert "cost more than champion's in baseline" in d.explanation
    policy = parse_policy(DEFAULT_POLICY.read_text()).for_model("execution-impact")
    checks = decision_checks(policy, {"baseline": d})
    judged = [(c.gate, c.value, c.status) for c in checks if c.value != "not run"]
    assert judged == [("decisions", "worse", "fail")]


def test_a_candidate_rushing_its_blocks_cannot_pass(runs):
    # Blocks of 10 % of ADV asked for in five minutes: the cap clips them and they are worked
    # off after their horizon, every path completed at a cost, so the rush does not look
    # cheap (after the controls its cost is close to the sensible book's); what fails it is
    # its own footprint: it leaves almost the whole book to the overrun, and without the
    # controls its requested participation breaches its action level everywhere and its
    # impact moves the price past the essay's action level.
    report = runs["rushed"]
    rushed = report["baseline", "candidate"].metrics
    assert rushed.completion_share.mean > 0.9
    assert rushed.risk_metrics["participation_5min"].action_rate == 1.0
    policy = parse_policy(DEFAULT_POLICY.read_text()).for_model("execution-impact")
    checks = {c.gate: c for c in stress_checks(policy, gate_table(report))}
    assert checks["completion share"].status == "fail"
    assert checks["risk metric market_impact"].status == "fail"
    assert checks["risk metric market_impact"].subject == "baseline_uncontrolled"
    # No schedule within the policy's 10 % asks that much: the policy reports it.
    assert checks["risk metric participation_5min"].status == "warn"


def test_a_small_difference_in_one_order_is_within_the_margin(runs):
    d = _judged(runs["one order a little faster"])
    assert d.verdict in ("better", "non-inferior"), d.explanation
    # Common random numbers: the paired interval is far narrower than the difference of
    # two independent runs' spreads would allow.
    assert d.ci_high - d.ci_low < 0.2 * d.reference_objective
    assert d.difference != 0.0


def test_scenarios_not_run_are_left_to_the_gates_and_one_model_is_refused(runs):
    assert compare_decisions(runs["rushed"], ("vol_spike",), RISK_AVERSION, MARGIN) == {}
    alone = run_stress({"candidate": SENSIBLE}, ["baseline"], StressConfig(n_paths=64))
    with pytest.raises(ValueError, match="'candidate' and one reference, got models"):
        compare_decisions(alone, ("baseline",), RISK_AVERSION, MARGIN)
