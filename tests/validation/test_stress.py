"""Tests of the numba stress engine: closed forms, controls, reproducibility, scenarios, metrics."""

from __future__ import annotations

import json
import math

import numba
import numpy as np
import pytest
from matplotlib.figure import Figure

from vocabulary.errors import UsageError
from validation.stress import (
    CONTROL_NAMES,
    REQUIRED_SCENARIOS,
    Controls,
    MarketModel,
    Scenario,
    ScenarioFileError,
    StressConfig,
    StressInputError,
    example_orders,
    load_scenarios,
    plot_path_trace,
    plot_shortfall_distributions,
    run_scenario,
    run_stress,
    simulate,
    trace_order,
    validate_orders,
)

DAY = 390.0  # minutes per trading day
C = {name: i for i, name in enumerate(CONTROL_NAMES)}

# --- Almgren & Chriss (2000) example ----------------------------------------------------------
AC_X, AC_T, AC_N = 1e6, 5.0, 5
AC = {"s0": 50.0, "sigma": 0.95, "eta": 2.5e-6, "gamma": 2.5e-7, "epsilon": 0.0625}
AC_LAMBDA = 1e-6


def ac_closed_form(x: np.ndarray) -> tuple[float, float]:
    """E and V of the paper's section 2 for a sale along holdings ``x``."""
    tau = AC_T / AC_N
    n = -np.diff(x)
    eta_tilde = AC["eta"] - 0.5 * AC["gamma"] * tau
    mean = (
        0.5 * AC["gamma"] * AC_X**2
        + AC["epsilon"] * np.abs(n).sum()
        + eta_tilde / tau * (n**2).sum()
    )
    var = AC["sigma"] ** 2 * tau * (x[1:] ** 2).sum()
    return float(mean), float(var)


def ac_trajectories() -> dict[str, np.ndarray]:
    tau = AC_T / AC_N
    eta_tilde = AC["eta"] - 0.5 * AC["gamma"] * tau
    kappa_tilde2 = AC_LAMBDA * AC["sigma"] ** 2 / eta_tilde
    kappa = math.acosh(1.0 + 0.5 * kappa_tilde2 * tau**2) / tau
    t = np.arange(AC_N + 1) * tau
    return {
        "linear": np.linspace(AC_X, 0.0, AC_N + 1),
        "sinh": np.sinh(kappa * (AC_T - t)) / math.sinh(kappa * AC_T) * AC_X,
    }


@pytest.mark.parametrize("name", ["linear", "sinh"])
def test_almgren_chriss_closed_form(name: str) -> None:
    x = ac_trajectories()[name]
    n_paths = 100_000
    result = simulate(MarketModel(**AC), holdings=x, horizon=AC_T, n_paths=n_paths, seed=7)
    mean, var = ac_closed_form(x)
    assert result.cost.shape == (n_paths,)
    se = math.sqrt(var / n_paths)
    assert abs(result.cost.mean() - mean) < 4 * se, (result.cost.mean(), mean, se)
    # The cost is Gaussian, so the sample variance has relative s.e. sqrt(2 / (n - 1)).
    rel_se = math.sqrt(2.0 / (n_paths - 1))
    assert abs(result.cost.var(ddof=1) / var - 1.0) < 4 * rel_se
    assert np.all(result.unfilled == 0)


def test_almgren_chriss_sinh_beats_linear_on_mean_variance() -> None:
    # The optimal trajectory minimises E + lambda V; check the closed forms agree with MC too.
    trajs = ac_trajectories()
    market = MarketModel(**AC)
    utility = {}
    for name, x in trajs.items():
        r = simulate(market, holdings=x, horizon=AC_T, n_paths=50_000, seed=3)
        utility[name] = r.cost.mean() + AC_LAMBDA * r.cost.var()
    assert utility["sinh"] < utility["linear"]


def test_simulate_refuses_bad_input_with_clear_messages() -> None:
    with pytest.raises(StressInputError, match=r"sigma must be >= 0, got -0.1"):
        MarketModel(s0=50.0, sigma=-0.1)
    with pytest.raises(StressInputError, match=r"s0 must be > 0, got 0"):
        MarketModel(s0=0.0, sigma=0.1)
    with pytest.raises(StressInputError, match=r"colour is not a known field"):
        MarketModel(s0=1.0, sigma=0.1, colour="red")
    with pytest.raises(StressInputError, match=r"impact='power' needs adv"):
        MarketModel(s0=1.0, sigma=0.1, impact="power")
    market = MarketModel(**AC)
    with pytest.raises(StressInputError, match=r"non-increasing .* index 2 \(5 -> 6\)"):
        simulate(market, [10.0, 5.0, 6.0, 0.0], 1.0, 10, 0)
    with pytest.raises(StressInputError, match=r"n_paths must be >= 1, got 0"):
        simulate(market, [10.0, 0.0], 1.0, 0, 0)
    with pytest.raises(StressInputError, match=r"horizon must be > 0, got -1"):
        simulate(market, [10.0, 0.0], -1.0, 10, 0)
    with pytest.raises(StressInputError, match=r"holdings must be finite, got nan at index 1"):
        simulate(market, [10.0, np.nan, 0.0], 1.0, 10, 0)
    with pytest.raises(StressInputError, match=r"side must be 'buy' or 'sell'"):
        simulate(market, [10.0, 0.0], 1.0, 10, 0, side="short")
    with pytest.raises(StressInputError, match=r"participation cap needs market.adv"):
        simulate(market, [10.0, 0.0], 1.0, 10, 0, controls=Controls.only("participation_cap"))
    # The errors are usage errors for the CLI and ValueErrors for Python callers.
    assert issubclass(StressInputError, UsageError) and issubclass(StressInputError, ValueError)


# --- controls ----------------------------------------------------------------------------------
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


# --- reproducibility ---------------------------------------------------------------------------
def _stressed_run(**kw):
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
        volume_noise=0.25,
    )
    args = {
        "controls": Controls(),
        "scenario": load_scenarios()["vol_spike"],
        "window": 390 / DAY,
        "stream": "blk-1",
    }
    args.update(kw)
    return simulate(
        market, np.linspace(4e5, 0, 121), 120 / DAY, args.pop("n_paths", 1500), 5, **args
    )


def test_results_do_not_depend_on_the_number_of_threads() -> None:
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _stressed_run()
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = _stressed_run()
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one.raw, two.raw, equal_nan=True)
    assert np.array_equal(one.control_counts, two.control_counts)
    assert np.array_equal(one.first_fire, two.first_fire)


def test_path_streams_do_not_depend_on_n_paths() -> None:
    small = _stressed_run(n_paths=300)
    large = _stressed_run(n_paths=1000)
    assert np.array_equal(small.raw, large.raw[:300], equal_nan=True)


@pytest.mark.parametrize("scenario", ["vol_spike", "adverse_trend", "feed_corruption"])
def test_backends_agree(scenario: str) -> None:
    # adverse_trend (jumps) and feed_corruption (random spikes) also use the event stream.
    scen = load_scenarios()[scenario]
    nb = _stressed_run(n_paths=300, scenario=scen)
    npy = _stressed_run(n_paths=300, scenario=scen, backend="numpy")
    py = _stressed_run(n_paths=40, scenario=scen, backend="python")
    np.testing.assert_allclose(npy.raw, nb.raw, rtol=1e-9, atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(py.raw, nb.raw[:40], rtol=1e-9, atol=1e-9, equal_nan=True)
    assert np.array_equal(npy.control_counts, nb.control_counts)
    assert np.array_equal(npy.first_fire, nb.first_fire)
    assert np.array_equal(py.control_counts, nb.control_counts[:40])


def test_common_random_numbers_across_schedules_and_scenarios() -> None:
    market = MarketModel(**AC)
    trajs = ac_trajectories()
    for path in (0, 300, 799):  # chunks 0, 1 and 3
        shocks = [
            simulate(market, x, AC_T, 800, 11, trace_path=path).trace["shock"]
            for x in trajs.values()
        ]
        assert np.array_equal(shocks[0], shocks[1])
    other_seed = simulate(market, trajs["linear"], AC_T, 10, 12, trace_path=0).trace["shock"]
    assert not np.array_equal(other_seed, shocks[0])
    # Orders in a stress run: same shocks whatever the scenario and the horizon.
    cfg = StressConfig(n_paths=4)
    champ, chall = example_orders("champion"), example_orders("challenger")
    a = trace_order(champ, "baseline", cfg, order_id="blk-eq-1", path=3)
    b = trace_order(chall, "vol_spike", cfg, order_id="blk-eq-1", path=3)
    n = min(a["shock"].size, b["shock"].size)
    assert n == 120 and np.array_equal(a["shock"][:n], b["shock"][:n])
    # A scenario with jumps draws from the event stream; price shocks are unchanged.
    d = trace_order(chall, "adverse_trend", cfg, order_id="blk-eq-1", path=3)
    assert np.array_equal(a["shock"][:n], d["shock"][:n])
    c = trace_order(champ, "baseline", cfg, order_id="blk-eq-2", path=3)
    assert not np.array_equal(a["shock"][:n], c["shock"][:n])  # other order, other stream


def test_champion_and_challenger_are_paired() -> None:
    cfg = StressConfig(n_paths=400, seed=2)
    models = {"champion": example_orders("champion"), "challenger": example_orders("challenger")}
    report = run_stress(models, ["baseline"], cfg)
    paired = report.paired().iloc[0]
    assert paired["correlation"] > 0.5
    assert paired["se_bps"] < paired["se_unpaired_bps"]


# --- scenario library --------------------------------------------------------------------------
def test_shipped_library_loads_with_required_scenarios() -> None:
    lib = load_scenarios()
    assert set(REQUIRED_SCENARIOS) <= set(lib.names)
    spike = lib["vol_spike"]
    minutes = np.array([0.0, 10.0, 25.0, 40.0, 100.0])
    np.testing.assert_allclose(
        spike.daily_volatility(minutes, 0.02), np.array([0.9, 0.9, 1.35, 1.8, 1.8]) / math.sqrt(252)
    )
    np.testing.assert_allclose(spike.adverse_at(minutes), [0, 0, 0.075, 0.15, 0.15])
    with pytest.raises(KeyError, match="unknown scenario 'nope'"):
        lib["nope"]


def test_vol_spike_moves_the_price_15_percent_against_the_order() -> None:
    market = MarketModel(s0=100.0, sigma=1e-9, dynamics="geometric")
    scen = load_scenarios()["vol_spike"]
    x = np.full(61, 1000.0)  # nothing to trade: look at the market only
    for side, expected in (("sell", 85.0), ("buy", 115.0)):
        r = simulate(
            market, x, 60 / DAY, 2, 0, side=side, scenario=_scenario(adverse_move=scen.adverse_move)
        )
        np.testing.assert_allclose(r.mark, expected, rtol=1e-6)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "version: 1\nscenarios:\n  a:\n    description: x\n    volatility:\n"
            "      unit: percent\n      knots: [[0, 1]]\n",
            "scenarios.a.volatility.unit must be 'multiplier' or 'annualised', got 'percent'",
        ),
        (
            "version: 1\nscenarios:\n  a:\n    description: x\n    liquidity:\n"
            "      knots: [[10, 1], [5, 0.5]]\n",
            "scenarios.a.liquidity.knots: knot minutes must be strictly increasing",
        ),
        (
            "version: 1\nscenarios:\n  a:\n    description: x\n    liquidity:\n"
            "      knots: [[0, -0.5]]\n",
            "liquidity multipliers must be > 0 (found -0.5)",
        ),
        (
            "version: 1\nscenarios:\n  a:\n    description: x\n    colour: red\n",
            "scenarios.a.colour is not a known field",
        ),
        (
            "version: 1\nscenarios:\n  a:\n    volatility: null\n",
            "scenarios.a.description is required",
        ),
        ("version: 2\nscenarios:\n  a:\n    description: x\n", "version must be 1, got 2"),
        (
            "version: 1\nscenarios:\n  a:\n    description: x\n    jumps:\n"
            "      intensity_per_day: -1\n",
            "scenarios.a.jumps.intensity_per_day must be >= 0, got -1",
        ),
        (
            "version: 1\nscenarios:\n  A b:\n    description: x\n",
            "name must be lower-case letters",
        ),
        ("version: 1\nscenarios: [1, 2\n", "is not valid YAML/JSON"),
        ("- 1\n- 2\n", "must hold a mapping with 'version' and 'scenarios', got list"),
    ],
)
def test_scenario_file_errors_name_field_expectation_and_value(tmp_path, text, fragment) -> None:
    path = tmp_path / "scenarios.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioFileError) as info:
        load_scenarios(path)
    assert fragment in str(info.value)
    assert str(path) in str(info.value)


def test_scenario_file_missing_and_required_names(tmp_path) -> None:
    with pytest.raises(ScenarioFileError, match="cannot be read"):
        load_scenarios(tmp_path / "absent.yaml")
    path = tmp_path / "lib.json"
    path.write_text(json.dumps({"version": 1, "scenarios": {"calm": {"description": "c"}}}))
    assert load_scenarios(path).names == ["calm"]
    with pytest.raises(ScenarioFileError, match="must define scenarios vol_spike; got calm"):
        load_scenarios(path, require=("vol_spike",))


def test_new_scenario_is_data_only(tmp_path) -> None:
    path = tmp_path / "more.yaml"
    path.write_text(
        "version: 1\nscenarios:\n  halt_and_gap:\n    description: gap\n"
        "    adverse_move:\n      knots: [[5, 0.0], [6, 0.05]]\n"
    )
    lib = load_scenarios(path)
    result = run_scenario(example_orders("champion"), lib["halt_and_gap"], StressConfig(n_paths=64))
    assert result.scenario == "halt_and_gap"
    assert result.metrics.shortfall_bps.mean > 100  # a 5% gap against every order


# --- orders ------------------------------------------------------------------------------------
def test_orders_validation_lists_problems_with_ids() -> None:
    orders = example_orders("champion")
    with pytest.raises(StressInputError, match=r"missing required column\(s\) \['adv'\]"):
        validate_orders(orders.drop(columns="adv"))
    bad = orders.assign(spread_bps=[-3.2, 1.0, -3.2], side=["sell", "hold", "buy"])
    with pytest.raises(StressInputError) as info:
        validate_orders(bad)
    msg = str(info.value)
    assert "spread_bps must be >= 0, got -3.2 in 2 rows (order_id: blk-eq-1, blk-eq-3)" in msg
    assert "side must be 'buy' or 'sell' (or +1/-1), got 'hold' in 1 row" in msg
    late = orders.assign(start_minute=[300.0, 0.0, 0.0])
    with pytest.raises(StressInputError, match=r"start_minute \+ horizon_minutes must be <= 390"):
        validate_orders(late)
    with pytest.raises(StressInputError, match="participation is required for style 'pov'"):
        validate_orders(orders.assign(participation=np.nan))
    ok = validate_orders(orders)
    assert list(ok["style"]) == ["vwap", "vwap", "pov"] and list(ok["side"]) == [-1.0, 1.0, -1.0]


# --- metrics -----------------------------------------------------------------------------------
def test_metrics_are_sane_and_json_ready() -> None:
    cfg = StressConfig(n_paths=600, seed=3)
    result = run_scenario(example_orders("champion"), "baseline", cfg, model="champion")
    m = result.metrics
    for dist in (m.shortfall_bps, m.shortfall_ccy):
        assert dist.p50 <= dist.p95 <= dist.cvar95
    assert m.shortfall_bps.mean == pytest.approx(
        m.execution_cost_bps.mean + m.opportunity_cost_bps.mean
    )
    orders = example_orders("champion")
    notional = float((orders["quantity"] * orders["arrival_price"]).sum())
    assert np.allclose(result.book_cost_bps, result.book_cost / notional * 1e4)
    assert 0 <= m.information_leakage <= 1
    assert all(0 <= v <= 1 for v in m.control_rates.values())
    assert m.max_participation_5min.p95 <= cfg.controls.max_participation + 1e-12
    for oid, row in m.cost_error_by_order.items():
        assert row["error_bps"] == pytest.approx(row["realised_mean_bps"] - row["predicted_bps"])
        assert oid.startswith("blk-eq-")
    payload = json.dumps(result.to_dict())
    assert "shortfall_bps" in payload and "NaN" not in payload
    frame = result.orders_frame()
    assert len(frame) == 3 and {"cost_error_bps", "unfilled_mean_fraction"} <= set(frame.columns)


def test_summary_is_tidy() -> None:
    cfg = StressConfig(n_paths=64)
    models = {"champion": example_orders("champion"), "challenger": example_orders("challenger")}
    report = run_stress(models, ["baseline", "spread_blowout"], cfg)
    tidy = report.summary()
    assert list(tidy.columns) == ["scenario", "model", "metric", "statistic", "unit", "value"]
    assert set(tidy["scenario"]) == {"baseline", "spread_blowout"}
    assert not tidy.duplicated(["scenario", "model", "metric", "statistic"]).any()
    assert report.wide().shape[0] == 4
    json.dumps(report.to_dict())


def test_risk_metrics_match_their_definitions() -> None:
    # No volatility, linear impact, flat volume: every quantity is known in closed form.
    market = MarketModel(s0=100.0, sigma=0.0, eta=1e-6, epsilon=0.02, adv=3.9e6)
    x = np.linspace(6000, 0, 31)
    tau = (30 / DAY) / 30
    r = simulate(market, x, 30 / DAY, 3, 0, side="buy")
    per_share = 0.02 + 1e-6 * 200 / tau
    np.testing.assert_allclose(r.slippage, per_share / 100.0)
    np.testing.assert_allclose(r.impact_cost, per_share / 100.0)
    np.testing.assert_allclose(r.cost, 6000 * per_share)
    np.testing.assert_allclose(r.max_participation, 200 / 10_000)


def test_fill_price_variance_ratio_is_one_without_impact() -> None:
    market = MarketModel(s0=100.0, sigma=2.0)  # arithmetic, no impact, no spread
    r = simulate(market, np.linspace(1000, 0, 101), 100 / DAY, 4000, 8)
    ratio = np.nanmean(r.fill_var) / np.nanmean(r.fill_var_ref)
    assert ratio == pytest.approx(1.0, abs=0.05)
    assert np.allclose(r.fill_var_ref, r.fill_var_ref[0])  # deterministic weights


def test_information_leakage_separates_visible_from_hidden_trading() -> None:
    from validation.stress.metrics import leakage_score

    # A bursty schedule: trade sizes vary from step to step (fixed pattern).
    sizes = np.random.default_rng(0).uniform(0.0, 2000.0, 100)
    x = np.concatenate([[sizes.sum()], sizes.sum() - np.cumsum(sizes)])
    x[-1] = 0.0
    loud = MarketModel(
        s0=100.0, sigma=1e-3, gamma=1000.0, impact="power", adv=1e6, dynamics="geometric"
    )
    quiet = loud.model_copy(update={"sigma": 0.03, "gamma": 0.3})
    scores = {}
    for name, market in (("loud", loud), ("quiet", quiet)):
        r = simulate(market, x, 100 / DAY, 300, 1)
        scores[name] = leakage_score(r.leak_moments)
    assert scores["loud"] > 0.9 and scores["quiet"] < 0.1, scores
    twap = simulate(quiet, np.linspace(1e5, 0, 101), 100 / DAY, 50, 1)
    assert leakage_score(twap.leak_moments) == 0.0  # a constant rate carries no signal


# --- plots -------------------------------------------------------------------------------------
def test_plots_return_figures_and_write_png(tmp_path) -> None:
    cfg = StressConfig(n_paths=64)
    models = {"champion": example_orders("champion"), "challenger": example_orders("challenger")}
    report = run_stress(models, ["baseline", "vol_spike"], cfg)
    fig = plot_shortfall_distributions(report, path=tmp_path / "dist.png")
    assert isinstance(fig, Figure) and (tmp_path / "dist.png").stat().st_size > 10_000
    trace = trace_order(models["champion"], "vol_spike", cfg, path=1)
    assert trace.events["slippage_pause"].size > 0  # controls fire in the vol spike
    fig = plot_path_trace(trace, path=tmp_path / "trace.png")
    assert isinstance(fig, Figure) and (tmp_path / "trace.png").stat().st_size > 10_000


def test_run_stress_refuses_mismatched_books() -> None:
    champ = example_orders("champion")
    other = champ.assign(order_id=["x", "y", "z"])
    with pytest.raises(StressInputError, match="same stress orders"):
        run_stress({"a": champ, "b": other}, ["baseline"], StressConfig(n_paths=8))
    with pytest.raises(StressInputError, match="max_participation must be <= 1, got 2"):
        StressConfig(controls={"max_participation": 2})
