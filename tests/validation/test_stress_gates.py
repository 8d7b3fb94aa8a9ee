"""The stress tail gate on realistic candidates, run through the real engine and the policy."""

import pytest

from governance.stores.settings import DEFAULT_POLICY
from tests.validation.stress_books import example_orders
from validation.gates import stress_checks
from validation.policy import parse_policy
from validation.stress import StressConfig, run_stress
from validation.stress.catalogue import gate_table

POLICY = parse_policy(DEFAULT_POLICY.read_text()).for_model("execution-impact")
SCENARIOS = ["baseline", "vol_spike", "flash_crash_recovery"]


def _book(horizons: list[float]):
    orders = example_orders("champion").assign(style="vwap", start_minute=0.0)
    return orders.assign(horizon_minutes=horizons)


@pytest.fixture(scope="module")
def reports():
    """A sensible book and one rushed by a model that forecasts a fraction of the cost."""
    config = StressConfig(n_paths=3_000, seed=5)
    sensible = _book([240.0, 180.0, 360.0])
    # Blocks of 8-10 % of ADV in five minutes, with small cost forecasts of its own.
    rushing = _book([5.0, 5.0, 5.0]).assign(predicted_cost_bps=[2.0, 2.0, 2.0])
    return {
        name: run_stress({"champion": sensible, "candidate": book}, SCENARIOS, config)
        for name, book in (("sensible", sensible), ("rushing", rushing))
    }


def _tail_checks(report):
    return {
        c.subject: c for c in stress_checks(POLICY, gate_table(report)) if c.gate == "stress CVaR95"
    }


def test_a_sensible_book_keeps_its_tail_within_the_loss_budget(reports):
    checks = _tail_checks(reports["sensible"])
    assert sorted(checks) == sorted(SCENARIOS)
    assert all(c.status == "pass" for c in checks.values()), checks


def test_the_loss_budget_is_the_same_whatever_the_model_forecasts_or_schedules(reports):
    # A model must not set its own limit: the kill level and the budget the tail is judged
    # against come from the orders' observables, not from its horizons or its forecasts.
    for scenario in SCENARIOS:
        table = gate_table(reports["rushing"]).set_index(["scenario", "model"])
        budget = table["loss_budget_bps"]
        assert budget[scenario, "candidate"] == budget[scenario, "champion"]
        sensible = gate_table(reports["sensible"]).set_index(["scenario", "model"])
        assert sensible["loss_budget_bps"][scenario, "candidate"] == budget[scenario, "champion"]
