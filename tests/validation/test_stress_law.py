"""The stress engine prices execution with the generator's own impact law, and its
information-leakage score moves with how visibly a schedule trades."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthetic import generate
from synthetic.config import SynthConfig
from synthetic.ground_truth import GAMMA, expected_cost_bps, permanent_impact
from validation.stress import Controls, StressConfig, run_scenario, run_stress
from vocabulary import SESSION_MINUTES


@pytest.fixture(scope="module")
def executions() -> pd.DataFrame:
    return generate(SynthConfig(orders=5_000, days=5, seed=11)).executions


def _stress_orders(executions: pd.DataFrame, minutes: float) -> pd.DataFrame:
    """Orders of 1-30 % of ADV from the generated data, as the stress engine takes them."""
    size = executions["qty"] / executions["adv"]
    picks = [int(np.argmin(np.abs(size.to_numpy() - s))) for s in (0.01, 0.05, 0.1, 0.2, 0.3)]
    rows = executions.iloc[picks]
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(rows))],
            "side": rows["side"].to_numpy(),
            "quantity": rows["qty"].to_numpy(float),
            "arrival_price": rows["arrival_mid"].to_numpy(float),
            "adv": rows["adv"].to_numpy(float),
            "shares_outstanding": rows["shares_outstanding"].to_numpy(float),
            "daily_vol": rows["true_daily_vol"].to_numpy(float),
            "spread_bps": rows["spread_bps"].to_numpy(float),
            "horizon_minutes": minutes,
            "style": "twap",
            "predicted_cost_bps": 0.0,
        }
    )


def test_engine_mean_cost_matches_the_generators_expected_cost(executions) -> None:
    # Controls off, flat volume without noise, a constant rate: the engine's participation
    # per step is the order's X / (V T), so its mean cost must be the generator's law.
    minutes = 120.0
    orders = _stress_orders(executions, minutes)
    cfg = StressConfig(
        n_paths=20_000,
        seed=4,
        volume_profile="flat",
        volume_noise=0.0,
        controls=Controls.none(),
        simulate_to_close=False,
    )
    result = run_scenario(orders, "baseline", cfg)
    horizon_days = minutes / SESSION_MINUTES
    size = orders["quantity"] / orders["adv"]
    law = expected_cost_bps(
        orders["daily_vol"].to_numpy(),
        (size / horizon_days).to_numpy(),
        size.to_numpy(),
        (orders["shares_outstanding"] / orders["adv"]).to_numpy(),
        orders["spread_bps"].to_numpy(),
    )
    steps = minutes / cfg.step_minutes
    for order, expected in zip(result.orders, law, strict=True):
        sim = order.sim
        row = orders.set_index("order_id").loc[order.order_id]
        # A trade moves the mid after it fills, so N steps pay (1 - 1/N) of I / 2.
        perm = 1e4 * permanent_impact(
            row["daily_vol"], row["quantity"] / row["adv"], row["shares_outstanding"] / row["adv"]
        )
        expected_engine = expected - perm / 2.0 / steps
        se = sim.cost_bps.std(ddof=1) / np.sqrt(sim.n_paths)
        assert abs(sim.cost_bps.mean() - expected_engine) < 4 * se + 0.02, (
            order.order_id,
            sim.cost_bps.mean(),
            expected_engine,
            se,
        )
        assert np.all(sim.completed == 0)
    assert GAMMA == cfg.gamma  # one law: the engine's defaults are the generator's


def test_a_visible_schedule_breaches_the_leakage_levels_and_a_discreet_one_does_not() -> None:
    base = {
        "side": ["sell"],
        "quantity": [300_000.0],
        "arrival_price": [50.0],
        "adv": [3_000_000.0],
        "daily_vol": [0.02],
        "spread_bps": [4.0],
        "predicted_cost_bps": [10.0],
        "style": ["vwap"],
    }
    # 10 % of ADV in 20 minutes: about two thirds of the flow; over the day: 6 %.
    reckless = pd.DataFrame({**base, "order_id": ["blk"], "horizon_minutes": [20.0]})
    discreet = reckless.assign(horizon_minutes=float(SESSION_MINUTES))
    cfg = StressConfig(n_paths=500, seed=2, controls=Controls.none())
    report = run_stress({"reckless": reckless, "discreet": discreet}, ["predatory_traders"], cfg)
    loud = report["predatory_traders", "reckless"].metrics
    quiet = report["predatory_traders", "discreet"].metrics
    assert loud.information_leakage > 0.90, loud.information_leakage
    assert loud.risk_metrics["information_leakage"].action_rate == 1.0
    assert quiet.information_leakage < 0.75, quiet.information_leakage
    # In a market that does not react, the same reckless schedule leaks nothing measurable.
    calm = run_stress({"reckless": reckless}, ["baseline"], cfg)["baseline", "reckless"].metrics
    assert calm.information_leakage < 0.2
    # Being seen costs money: the reaction moves the price against the order.
    assert loud.shortfall_bps.mean > calm.shortfall_bps.mean + 50
