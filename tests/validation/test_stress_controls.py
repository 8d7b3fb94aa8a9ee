"""Tests of the risk controls: each acts exactly when its condition holds, every path still ends
flat, and switching a control off changes a scenario's outcome in the direction it should."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.validation.stress_books import controls_only
from validation.stress import (
    CONTROL_NAMES,
    Controls,
    MarketModel,
    Scenario,
    StressConfig,
    run_scenario,
    simulate,
)
from vocabulary import SESSION_MINUTES

DAY = float(SESSION_MINUTES)  # minutes per trading day
C = {name: i for i, name in enumerate(CONTROL_NAMES)}


def _scenario(**fields) -> Scenario:
    return Scenario(name="test", description="test scenario", **fields)


# --- each control's mechanics, in markets where every number is known -------------------------


def test_kill_switch_flattens_on_mark_to_market_loss_not_realised_loss() -> None:
    # A sale into a deterministic 10 % slide over 30 minutes. The fills alone lose little; the
    # unfilled position marked at the quote loses fast. The switch fires on the mark.
    market = MarketModel(s0=100.0, sigma=0.0, dynamics="geometric")
    slide = _scenario(market_move={"knots": [[0, 0.0], [30, -0.10]]})
    x = np.linspace(3000, 0, 31)
    ctl = controls_only("kill_switch", max_loss_bps=150.0)
    r = simulate(market, x, 30 / DAY, 4, 0, controls=ctl, scenario=slide, trace_path=1)
    loss = r.trace["loss"]
    limit = 150e-4 * 3000 * 100.0
    kill = int(np.argmax(loss > limit))
    assert kill > 0 and np.all(loss[:kill] <= limit)
    assert np.all(r.kill_step == kill) and np.all(r.first_fire[:, C["kill_switch"]] == kill)
    filled_before = r.trace["trade"][:kill]
    realised = float(np.sum(filled_before * (100.0 - r.trace["price"][:kill])))
    assert realised < 0.2 * limit  # the fills alone were far inside the limit
    # The algorithm stops: nothing traded after, the remainder completed by the backstop.
    np.testing.assert_allclose(r.filled + r.completed, 3000)
    assert np.all(r.completed > 0) and np.all(r.overrun == 0)
    assert np.all(np.nan_to_num(r.trace["trade"][kill:]) == 0)  # not traced once done
    calm = simulate(market, x, 30 / DAY, 4, 0, controls=ctl, scenario=_scenario())
    assert np.all(calm.control_counts == 0) and np.all(calm.completed == 0)


def test_the_backstop_after_a_kill_carries_the_price_path_and_its_own_impact() -> None:
    # The same slide: after the kill the backstop works the rest over its completion steps
    # while the market keeps falling, so it sells below the mid at which the switch fired;
    # without the slide its own permanent impact alone pushes the mid down as it sells.
    market = MarketModel(s0=100.0, sigma=0.0, dynamics="geometric", gamma=1e-3)
    slide = _scenario(market_move={"knots": [[0, 0.0], [30, -0.10]]})
    x = np.linspace(3000, 0, 61)
    ctl = controls_only("kill_switch", max_loss_bps=150.0)
    r = simulate(market, x, 60 / DAY, 2, 0, controls=ctl, scenario=slide, trace_path=0)
    kill = int(r.kill_step[0])
    assert 0 < kill < 30
    mid_at_kill = r.trace["mid"][kill]
    assert r.mark[0] < mid_at_kill * (1 - 0.02)  # the slide went on for most of the backstop
    stop = _scenario(market_move={"knots": [[0, 0.0], [3, -0.10]]})  # then flat
    s = simulate(market, x, 60 / DAY, 2, 0, controls=ctl, scenario=stop, trace_path=0)
    kill = int(s.kill_step[0])
    assert 0 <= kill < 3
    assert s.mark[0] < 90.0  # the backstop's sales moved the flat market's mid below 90


def test_price_collar_blocks_outside_the_band_and_resumes_inside() -> None:
    # Deterministic 10% drop by minute 10, recovered by minute 20: outside a 4.5% collar at
    # the starts of steps 5..15 (move 5%..10%..5%), inside at 4% (steps 4 and 16).
    market = MarketModel(s0=100.0, sigma=0.0, dynamics="geometric")
    drop = _scenario(market_move={"knots": [[0, 0.0], [10, -0.10], [20, 0.0]]})
    x = np.linspace(3000, 0, 31)
    ctl = controls_only("price_collar", collar_bps=450)
    r = simulate(market, x, 30 / DAY, 5, 0, controls=ctl, scenario=drop, trace_path=2)
    assert np.all(r.control_counts[:, C["price_collar"]] == 11)
    assert list(r.trace.events["price_collar"]) == list(range(5, 16))
    trades = r.trace["trade"]
    assert np.all(trades[5:16] == 0) and trades[16] == pytest.approx(1700 - 500)  # catch-up
    np.testing.assert_allclose(r.filled, 3000)


def test_participation_cap_bounds_ours_over_market_plus_ours() -> None:
    # Flat volume of 1000 shares a minute; the schedule asks 300 a minute, 23 % of the flow.
    market = MarketModel(s0=10.0, sigma=0.0, adv=390_000.0)
    x = np.linspace(9000, 0, 31)
    capped = simulate(market, x, 30 / DAY, 4, 0, controls=controls_only("participation_cap"))
    assert np.all(capped.control_counts[:, C["participation_cap"]] == 30)
    np.testing.assert_allclose(capped.max_participation, 0.20)  # 250 / (1000 + 250)
    np.testing.assert_allclose(capped.max_requested_participation, 300 / 1300)
    np.testing.assert_allclose(capped.filled, 30 * 250)
    np.testing.assert_allclose(capped.completed, 9000 - 30 * 250)  # the rest, at the close


def test_slippage_guard_limits_child_orders_against_the_quote() -> None:
    # Linear impact c n and a half spread of 2 bps; the spread widens 20x from minute 10 to 20.
    market = MarketModel(s0=100.0, sigma=0.0, eta=2e-7, epsilon=0.02)
    wide = _scenario(spread={"knots": [[9.99, 1.0], [10, 20.0], [20, 20.0], [20.01, 1.0]]})
    x = np.linspace(30_000, 0, 31)
    tau = 1 / DAY
    ctl = controls_only("slippage_guard", slippage_tolerance_bps=25.0)
    r = simulate(
        market, x, 30 / DAY, 3, 0, controls=ctl, scenario=wide, trace_path=0, reference_vol=0.02
    )
    trades, slip = r.trace["trade"], r.trace["slippage"]
    c = 2e-7 / (tau * 100.0)  # the kernel's linear coefficient, a fraction of S0 per share
    # The guard measures beyond the arrival half spread (2 bps, the price of immediacy).
    # Normal spread: 1000 shares cost c * 1000 = 5.1 bps beyond it, within 25 bps.
    assert trades[0] == pytest.approx(1000) and slip[0] == pytest.approx(c * 1000)
    # Wide spread: its widening alone, 38 bps, exceeds the tolerance: nothing is sent.
    assert np.all(trades[10:20] == 0)
    # After it, the backlog is cut to the largest child order within 25 bps.
    assert trades[20] == pytest.approx(25e-4 / c)
    assert r.control_counts[0, C["slippage_guard"]] >= 10


def test_slippage_tolerance_contracts_as_realised_volatility_rises() -> None:
    market = MarketModel(s0=100.0, sigma=0.02, dynamics="geometric", epsilon=0.02)
    spike = _scenario(volatility={"knots": [[0, 1.0], [10, 6.0]]})
    ctl = controls_only("slippage_guard", slippage_tolerance_bps=25.0)
    r = simulate(
        market, np.linspace(3000, 0, 61), 60 / DAY, 3, 4, controls=ctl, scenario=spike, trace_path=0
    )
    tol = r.trace["tolerance"]
    assert tol[0] == pytest.approx(25e-4)
    assert np.nanmax(tol[40:]) < 0.5 * 25e-4  # six times the volatility, a fraction of the room


def test_feed_guard_pauses_on_a_stale_quote_and_resumes() -> None:
    # Quote frozen at the starts of minutes 10 to 19: its third stale start (minute 12) pauses
    # the order, the fresh quote of minute 20 resumes it.
    market = MarketModel(s0=100.0, sigma=0.5, dynamics="arithmetic")
    frozen = _scenario(feed={"stale": [[10, 20]]})
    x = np.linspace(3000, 0, 31)
    ctl = controls_only("feed_guard", max_stale_steps=3)
    r = simulate(market, x, 30 / DAY, 3, 2, controls=ctl, scenario=frozen, trace_path=0)
    paused = r.trace.events["feed_guard"]
    assert list(paused) == list(range(12, 20))
    assert np.all(r.trace["trade"][paused] == 0) and r.trace["trade"][20] > 100  # catch-up
    np.testing.assert_allclose(r.filled, 3000)


def test_a_child_order_priced_off_a_bad_quote_is_picked_off() -> None:
    # A purchase while the quote shows a +8 % spike pays the spiked price, not the market's.
    market = MarketModel(s0=100.0, sigma=0.0)
    spiked = _scenario(feed={"spikes": [[5, 0.08]]})
    x = np.linspace(3000, 0, 31)
    off = simulate(market, x, 30 / DAY, 2, 0, side="buy", scenario=spiked, trace_path=0)
    assert off.trace["price"][5] == pytest.approx(108.0)
    guarded = simulate(
        market, x, 30 / DAY, 2, 0, side="buy", scenario=spiked, controls=controls_only("feed_guard")
    )
    assert np.all(guarded.cost < off.cost)


# --- each control matters, in the direction it should, in a realistic stress ----------------

ORDER = pd.DataFrame(
    {
        "order_id": ["blk-1"],
        "side": ["sell"],
        "quantity": [400_000.0],
        "arrival_price": [50.0],
        "adv": [4_000_000.0],
        "daily_vol": [0.02],
        "spread_bps": [6.0],
        "horizon_minutes": [240.0],
        "style": ["vwap"],
        "predicted_cost_bps": [20.0],
    }
)


def _cost(scenario: str, controls: Controls, order: pd.DataFrame = ORDER, n_paths: int = 2000):
    """The order's simulation (common random numbers across controls)."""
    cfg = StressConfig(n_paths=n_paths, seed=3, controls=controls)
    return run_scenario(order, scenario, cfg).orders[0].sim


def _paired_lower(better, worse, *, on: str = "cost_bps") -> None:
    d = getattr(worse, on) - getattr(better, on)
    se = d.std(ddof=1) / np.sqrt(d.size)
    assert d.mean() > 3 * se, (d.mean(), se)


def test_kill_switch_cuts_the_loss_in_a_trend_and_a_volatility_spike() -> None:
    # The budget is the order's law cost plus three standard deviations of the rest of its
    # session: in a market falling through a sale it fires on about 1 path in 20 and lowers
    # the mean cost; in a volatility spike (the 15 % fall) on about half and caps the tail too.
    for scenario, fired in (("falling_market", 0.03), ("vol_spike", 0.3)):
        on, off = _cost(scenario, Controls()), _cost(scenario, Controls(kill_switch=False))
        _paired_lower(on, off)
        assert np.mean(on.kill_step >= 0) > fired
    assert np.percentile(on.cost_bps, 95) < np.percentile(off.cost_bps, 95)


def test_slippage_guard_waits_out_a_spread_blowout() -> None:
    # Half the block: the guard's limit leaves room to catch up once spreads narrow.
    half = ORDER.assign(quantity=[200_000.0])
    _paired_lower(
        _cost("spread_blowout", controls_only("slippage_guard"), half, n_paths=8000),
        _cost("spread_blowout", Controls.none(), half, n_paths=8000),
    )


def test_feed_guard_protects_a_purchase_from_a_corrupted_feed() -> None:
    buy = ORDER.assign(side=["buy"])
    _paired_lower(
        _cost("feed_corruption", controls_only("feed_guard"), buy, n_paths=8000),
        _cost("feed_corruption", Controls.none(), buy, n_paths=8000),
    )


def test_price_collar_keeps_a_sale_out_of_a_flash_crash() -> None:
    _paired_lower(
        _cost("flash_crash_recovery", controls_only("price_collar", "participation_cap")),
        _cost("flash_crash_recovery", controls_only("participation_cap")),
    )


def test_participation_cap_keeps_participation_and_impact_down_when_liquidity_goes() -> None:
    on = _cost("liquidity_withdrawal", controls_only("participation_cap"))
    off = _cost("liquidity_withdrawal", Controls.none())
    assert np.nanmax(on.max_participation) <= 0.20 + 1e-12
    assert np.nanmean(off.max_participation) > 0.4
    _paired_lower(on, off, on="impact_cost")


def test_what_controls_hold_back_is_completed_at_a_cost_in_every_scenario() -> None:
    for scenario in ("baseline", "spread_blowout", "feed_corruption", "vol_spike"):
        sim = _cost(scenario, Controls())
        np.testing.assert_allclose(sim.filled + sim.completed, 400_000.0)
        np.testing.assert_allclose(sim.cost, sim.execution_cost + sim.completion_cost)


# --- the risk monitor: the essay's metrics watched while trading, with their actions -------


def test_participation_above_its_action_level_halts_trading_and_hands_off_the_rest() -> None:
    # 1000 shares of market volume a minute; the schedule asks 700 (41 % of the flow).
    market = MarketModel(s0=10.0, sigma=0.0, adv=390_000.0)
    x = np.linspace(21_000, 0, 31)
    r = simulate(market, x, 30 / DAY, 2, 0, controls=controls_only("risk_monitor"))
    # The first full 5-minute window ends at step 4: 41 % > 25 %, trading halts there.
    assert np.all(r.first_fire[:, C["participation_halt"]] == 4)
    np.testing.assert_allclose(r.filled, 5 * 700)
    np.testing.assert_allclose(r.completed, 21_000 - 5 * 700)
    off = simulate(market, x, 30 / DAY, 2, 0, controls=Controls.none())
    assert np.all(off.control_counts == 0) and np.all(off.completed == 0)


def test_slippage_above_its_action_level_pauses_the_strategy_for_one_window() -> None:
    # Linear impact of 30 bps on each 100-share fill and no spread: every fill sits about
    # 29.7 bps above the interval VWAP.
    market = MarketModel(s0=100.0, sigma=0.0, eta=0.003 / 390 * 100 / 100, adv=3.9e6)
    x = np.linspace(3000, 0, 31)
    r = simulate(
        market, x, 30 / DAY, 2, 0, side="buy", controls=controls_only("risk_monitor"), trace_path=0
    )
    trades = r.trace["trade"]
    # Paused after the first fill, re-checked after each window: the slippage persists (the
    # market's VWAP never catches up with the fill), so it stays paused and the backstop
    # takes the rest.
    assert r.first_fire[0, C["slippage_pause"]] == 0
    assert r.control_counts[0, C["slippage_pause"]] == 6  # steps 0, 5, 10, 15, 20, 25
    assert trades[0] > 0 and np.all(trades[1:] == 0)
    np.testing.assert_allclose(r.completed, 3000 - trades[0])


def test_a_dispersed_fill_price_is_reviewed_while_trading_goes_on() -> None:
    # The market turns six times as volatile as the pre-trade estimate.
    market = MarketModel(s0=100.0, sigma=0.02, dynamics="geometric", epsilon=0.001)
    wild = _scenario(volatility={"knots": [[0, 6.0]]})
    r = simulate(
        market,
        np.linspace(3000, 0, 61),
        60 / DAY,
        200,
        5,
        controls=controls_only("risk_monitor"),
        scenario=wild,
        reference_vol=0.02,
        trace_path=0,
    )
    assert np.mean(r.control_counts[:, C["dispersion_review"]] > 0) > 0.5
    np.testing.assert_allclose(r.filled, 3000)  # a review stops nothing


def test_leakage_above_its_action_level_reroutes_the_rest_and_stops_the_bleeding() -> None:
    # About a fifth of the flow (below the participation action level) in a market that
    # trades hard ahead of a visible order: the leakage score passes 0.90 and the rest of
    # the order is re-routed to the backstop.
    hunted = _scenario(leakage={"strength": 10.0, "threshold": 0.10})
    visible = ORDER.assign(horizon_minutes=[120.0])
    cfg = {"n_paths": 2000, "seed": 3}
    on = (
        run_scenario(visible, hunted, StressConfig(**cfg, controls=controls_only("risk_monitor")))
        .orders[0]
        .sim
    )
    off = run_scenario(visible, hunted, StressConfig(**cfg, controls=Controls.none())).orders[0].sim
    assert np.mean(on.control_counts[:, C["leakage_reroute"]] > 0) > 0.5
    assert np.mean(on.control_counts[:, C["participation_halt"]] > 0) < 0.2
    _paired_lower(on, off)
