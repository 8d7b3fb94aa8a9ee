"""Tests of the risk controls: each fires exactly when its condition holds, and only then."""

from __future__ import annotations

import math

import numpy as np
import pytest

from validation.stress import CONTROL_NAMES, Controls, MarketModel, Scenario, simulate
from vocabulary import SESSION_MINUTES

DAY = float(SESSION_MINUTES)  # minutes per trading day
C = {name: i for i, name in enumerate(CONTROL_NAMES)}


def _scenario(**fields) -> Scenario:
    return Scenario(name="test", description="test scenario", **fields)


def test_kill_switch_fires_when_and_only_when_loss_exceeds_limit() -> None:
    # No volatility: each 1000-share clip loses exactly 1000 * (eps + eta * n / tau) = 89.
    market = MarketModel(s0=100.0, sigma=0.0, eta=1e-7, epsilon=0.05)
    x = np.linspace(10_000, 0, 11)
    horizon = 10 / DAY
    tau = horizon / 10
    per_step = 1000 * (0.05 + 1e-7 * 1000 / tau)
    assert per_step == pytest.approx(89.0)
    # limit 250 (2.5 bps of 1e6): loss 178 after two clips, 267 after three -> fires at step 3.
    fired = simulate(
        market, x, horizon, 20, 1, controls=Controls.only("kill_switch", max_loss_bps=2.5)
    )
    assert np.all(fired.first_fire[:, C["kill_switch"]] == 3)
    assert np.all(fired.control_counts[:, C["kill_switch"]] == 1)
    assert np.all(fired.filled == 3000) and np.all(fired.halt_step == 3)
    # limit 900 > 890, the loss of the whole order: never fires.
    calm = simulate(
        market, x, horizon, 20, 1, controls=Controls.only("kill_switch", max_loss_bps=9)
    )
    assert np.all(calm.control_counts == 0) and np.all(calm.filled == 10_000)
    # switched off: never fires even when the condition holds.
    off = simulate(market, x, horizon, 20, 1, controls=Controls.none())
    assert np.all(off.control_counts == 0) and np.all(off.filled == 10_000)


def test_price_collar_blocks_outside_the_band_and_resumes_inside() -> None:
    # Deterministic 10% drop by minute 10, recovered by minute 20: outside a 4.5% collar at
    # the starts of steps 5..15 (move 5%..10%..5%), inside at 4% (steps 4 and 16).
    market = MarketModel(s0=100.0, sigma=0.0, dynamics="geometric")
    drop = _scenario(adverse_move={"knots": [[0, 0.0], [10, 0.10], [20, 0.0]]})
    x = np.linspace(3000, 0, 31)
    horizon = 30 / DAY
    ctl = Controls.only("price_collar", collar_bps=450)
    r = simulate(market, x, horizon, 5, 0, controls=ctl, scenario=drop, trace_path=2)
    assert np.all(r.control_counts[:, C["price_collar"]] == 11)
    assert np.all(r.first_fire[:, C["price_collar"]] == 5)
    assert list(r.trace.events["price_collar"]) == list(range(5, 16))
    trades = r.trace["trade"]
    assert np.all(trades[5:16] == 0) and trades[16] == pytest.approx(1700 - 500)  # catch-up
    assert np.all(r.filled == pytest.approx(3000))
    calm = simulate(market, x, horizon, 5, 0, controls=ctl, scenario=_scenario())
    assert np.all(calm.control_counts == 0)


def test_participation_cap_clips_only_above_the_cap() -> None:
    # Flat volume of 1000 shares per one-minute step; the schedule asks 300 per step.
    market = MarketModel(s0=10.0, sigma=0.0, adv=390_000.0)
    x = np.linspace(9000, 0, 31)
    horizon = 30 / DAY
    capped = simulate(market, x, horizon, 4, 0, controls=Controls.only("participation_cap"))
    assert np.all(capped.control_counts[:, C["participation_cap"]] == 30)
    assert np.all(capped.filled == pytest.approx(30 * 250))
    assert np.all(capped.max_participation == pytest.approx(0.25))
    loose = simulate(
        market,
        x,
        horizon,
        4,
        0,
        controls=Controls.only("participation_cap", max_participation=0.35),
    )
    assert np.all(loose.control_counts == 0) and np.all(loose.filled == pytest.approx(9000))
    assert np.all(loose.max_participation == pytest.approx(0.30))


def _expected_pauses(move: np.ndarray, tol: float, sig_ref: float, halflife: float) -> np.ndarray:
    """Independent recomputation of the dynamic slippage condition on a deterministic path."""
    tau = 1.0 / DAY
    lam = 0.5 ** (1.0 / halflife)
    var = sig_ref**2 * tau
    q_prev = 1.0
    flags = []
    margins = []
    for k, a in enumerate(move):
        q = 1.0 - a  # a sale: the quote falls by the adverse move
        if k > 0:
            r = (q - q_prev) / q_prev
            var = lam * var + (1 - lam) * r * r
        sigma_hat = math.sqrt(var / tau)
        tol_k = tol * min(1.0, sig_ref / sigma_hat)
        flags.append(a > tol_k)
        margins.append(abs(a - tol_k))
        q_prev = q
    assert min(margins) > 1e-9  # no knife edge
    return np.array(flags)


def test_slippage_guard_tightens_with_realised_volatility_pauses_resumes_and_halts() -> None:
    market = MarketModel(s0=100.0, sigma=0.0, dynamics="geometric")
    knots = [[0, 0.0], [10, 0.03], [30, 0.03], [40, 0.0]]
    scen = _scenario(adverse_move={"knots": knots})
    n = 60
    x = np.linspace(6000, 0, n + 1)
    horizon = n / DAY
    minutes = np.arange(n, dtype=float)
    move = np.interp(minutes, [k[0] for k in knots], [k[1] for k in knots])
    expected = _expected_pauses(move, 0.04, 0.02, 15.0)
    assert expected.any() and not expected.all()
    ctl = Controls.only("slippage_guard", slippage_tolerance_bps=400, max_pause_steps=1000)
    r = simulate(
        market, x, horizon, 3, 0, controls=ctl, scenario=scen, reference_vol=0.02, trace_path=0
    )
    assert np.array_equal(r.trace["flags"] & (1 << C["slippage_pause"]) > 0, expected)
    assert np.all(r.control_counts[:, C["slippage_halt"]] == 0)
    assert np.all(r.filled == pytest.approx(6000))  # paused, then resumed and caught up
    # A static 400 bps tolerance (no tightening: the reference volatility is huge) never
    # fires, since the move peaks at 300 bps: the pauses above come from the tightening.
    static = simulate(market, x, horizon, 3, 0, controls=ctl, scenario=scen, reference_vol=10.0)
    assert np.all(static.control_counts == 0)
    # More than 5 consecutive pauses halt the order.
    ctl5 = Controls.only("slippage_guard", slippage_tolerance_bps=400, max_pause_steps=5)
    h = simulate(market, x, horizon, 3, 0, controls=ctl5, scenario=scen, reference_vol=0.02)
    first_pause = int(np.argmax(expected))
    assert expected[first_pause : first_pause + 6].all()
    assert np.all(h.first_fire[:, C["slippage_halt"]] == first_pause + 5)
    assert np.all(h.halt_step == first_pause + 5)
    assert np.all(h.unfilled > 0)


def test_feed_guard_halts_on_stale_and_spiking_quotes_only() -> None:
    market = MarketModel(s0=100.0, sigma=0.02, dynamics="geometric")
    x = np.linspace(1000, 0, 101)
    horizon = 100 / DAY
    ctl = Controls.only("feed_guard", max_stale_steps=5, spike_bps=500)
    stale = simulate(
        market, x, horizon, 50, 4, controls=ctl, scenario=_scenario(feed={"stale": [[20, 35]]})
    )
    # Quotes at the starts of steps 20, 21, ... repeat step 19's: the 5th repeat is step 24.
    assert np.all(stale.first_fire[:, C["feed_guard"]] == 24)
    assert np.all(stale.filled == pytest.approx(240))
    spike = simulate(
        market, x, horizon, 50, 4, controls=ctl, scenario=_scenario(feed={"spikes": [[60, 0.08]]})
    )
    assert np.all(spike.first_fire[:, C["feed_guard"]] == 60)
    clean = simulate(market, x, horizon, 500, 4, controls=ctl, scenario=_scenario())
    assert np.all(clean.control_counts == 0)
    off = simulate(
        market,
        x,
        horizon,
        50,
        4,
        controls=Controls.none(),
        scenario=_scenario(feed={"stale": [[20, 35]], "spikes": [[60, 0.08]]}),
    )
    assert np.all(off.control_counts == 0)


def test_every_control_flag_matches_its_condition_step_by_step() -> None:
    """On stressed paths with all controls on, a flag is set exactly when its condition holds."""
    scen = _scenario(
        volatility={"unit": "annualised", "knots": [[0, 0.9], [10, 0.9], [40, 1.8]]},
        adverse_move={"knots": [[10, 0.0], [40, 0.15]]},
        liquidity={"knots": [[10, 1.0], [40, 0.5]]},
        feed={"stale": [[70, 80]], "spike_probability": 0.01, "spike_size": 0.06},
    )
    ctl = Controls(
        max_loss_bps=3,
        collar_bps=600,
        max_participation=0.2,
        slippage_tolerance_bps=150,
        max_pause_steps=8,
        max_stale_steps=4,
        spike_bps=400,
    )
    market = MarketModel(
        s0=50.0,
        sigma=0.02,
        dynamics="geometric",
        impact="power",
        eta=0.142,
        gamma=0.314,
        epsilon=0.01,
        adv=4e6,
        volume_profile="u_shape",
        volume_noise=0.3,
    )
    x = np.linspace(300_000, 0, 121)
    seen = np.zeros(len(CONTROL_NAMES), dtype=bool)
    for path in range(24):
        t = simulate(
            market, x, 120 / DAY, path + 1, 9, controls=ctl, scenario=scen, trace_path=path
        ).trace
        flags = t["flags"]
        live = t["live"] > 0.5
        assert np.all(flags[~live] == 0)
        kill = live & (t["loss"] > ctl.max_loss_bps * 1e-4 * 300_000 * 50.0)
        feed = live & ((t["stale_run"] >= ctl.max_stale_steps) | (t["abs_return"] > 0.04))
        act = live & ~kill & ~feed & (t["desired"] > 0)
        collar = act & (np.abs(t["quote"] / 50.0 - 1.0) > 0.06)
        pcap = act & (t["desired"] > 0.2 * t["market_volume"])
        pause = act & (t["slippage"] > t["tolerance"])
        run, halt = 0, np.zeros_like(pause)
        for k in range(pause.size):
            if act[k]:
                run = run + 1 if pause[k] else 0
                halt[k] = pause[k] and run > ctl.max_pause_steps
        expected = {
            "kill_switch": kill,
            "feed_guard": feed,
            "price_collar": collar,
            "slippage_pause": pause,
            "slippage_halt": halt,
            "participation_cap": pcap,
        }
        for name, cond in expected.items():
            got = (flags & (1 << C[name])) > 0
            assert np.array_equal(got, cond), (path, name, np.flatnonzero(got ^ cond))
            seen[C[name]] |= got.any()
    assert seen.all(), dict(zip(CONTROL_NAMES, seen, strict=True))
