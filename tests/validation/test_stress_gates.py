"""The stress tail gate on realistic candidates, run through the real engine and the policy."""

import pytest

from governance.settings import DEFAULT_POLICY
from validation.gates import stress_checks
from validation.policy import parse_policy
from validation.stress import StressConfig, example_orders, run_stress
from validation.stress.catalogue import gate_table

POLICY = parse_policy(DEFAULT_POLICY.read_text()).for_model("execution-impact")
SCENARIOS = ["baseline", "vol_spike", "flash_crash_recovery"]


def _book(horizons: list[float]):
    orders = example_orders("champion").assign(style="vwap", start_minute=0.0)
    return orders.assign(horizon_minutes=horizons)


@pytest.fixture(scope="module")
def tail_checks():
    """The CVaR95 check per scenario for a sensible and for a rushing candidate."""
    config = StressConfig(n_paths=3_000, seed=5)
    candidates = {
        "sensible": _book([240.0, 180.0, 360.0]),
        # A model that believes impact is a fraction of what it is: blocks of 8-10 % of ADV
        # in five minutes, with its own small cost forecasts. Its loss budget is the risk of
        # five minutes; the participation cap and the overrun make it carry the blocks for
        # an hour or more, all three at once when the market falls.
        "rushing": _book([5.0, 5.0, 5.0]),
    }
    checks = {}
    for name, book in candidates.items():
        report = run_stress(
            {"champion": _book([240.0, 180.0, 360.0]), "candidate": book}, SCENARIOS, config
        )
        checks[name] = {
            c.subject: c
            for c in stress_checks(POLICY, gate_table(report))
            if c.gate == "stress CVaR95"
        }
    return checks


def test_a_sensible_book_keeps_its_tail_within_the_loss_budget(tail_checks):
    checks = tail_checks["sensible"]
    assert sorted(checks) == sorted(SCENARIOS)
    assert all(c.status == "pass" for c in checks.values()), checks


def test_a_book_rushed_by_an_optimistic_model_fails_the_stressed_tail_gate(tail_checks):
    checks = tail_checks["rushing"]
    crash = checks["flash_crash_recovery"]
    assert crash.status == "fail" and crash.value > 2.6, crash
    assert checks["baseline"].status == "pass"  # the calm market alone does not show it
