"""Tests of the random streams: thread-count independence, common random numbers, and the
compiled kernel against its own source run by the Python interpreter."""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd
import pytest
from numba import typed

import validation.stress.kernels as K
from tests.validation.almgren_chriss import AC, AC_T, ac_trajectories
from tests.validation.stress_books import example_orders
from tests.validation.stress_interpreted import run_interpreted
from validation.stress import (
    Controls,
    MarketModel,
    StressConfig,
    StressInputError,
    load_scenarios,
    run_stress,
    simulate,
    trace_order,
)
from validation.stress.engine import allocate_outputs, run_kernel, schedule_plan
from validation.stress.inputs import prepare_inputs
from validation.stress.kernels import is_schedule_only
from validation.stress.streams import make_generators
from vocabulary import SESSION_MINUTES

DAY = float(SESSION_MINUTES)  # minutes per trading day


def _geometric_market(**kw) -> MarketModel:
    """A geometric, power-law market with the generator's impact law and a U-shaped volume."""
    return MarketModel(
        s0=50.0,
        sigma=0.02,
        dynamics="geometric",
        impact="power",
        eta=0.142,
        gamma=0.314,
        epsilon=0.01,
        adv=4e6,
        volume_profile="u_shape",
        **kw,
    )


def _stressed_args(**kw) -> tuple[tuple, dict]:
    """Positional and keyword arguments of a stressed simulation (all controls, vol spike)."""
    market = _geometric_market(volume_noise=0.25)
    args = {
        "controls": Controls(),
        "scenario": load_scenarios()["vol_spike"],
        "window": 390 / DAY,
        "stream": "blk-1",
    }
    args.update(kw)
    return (market, np.linspace(4e5, 0, 121), 120 / DAY, args.pop("n_paths", 1500), 5), args


def _stressed_run(**kw):
    positional, keywords = _stressed_args(**kw)
    return simulate(*positional, **keywords)


def _stressed_inputs(**kw):
    positional, keywords = _stressed_args(**kw)
    return prepare_inputs(*positional, **keywords)


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
    assert np.array_equal(small.raw, large.raw[:, :300], equal_nan=True)


@pytest.mark.parametrize(
    "scenario", ["vol_spike", "falling_market", "feed_corruption", "predatory_traders"]
)
def test_compiled_kernel_agrees_with_its_interpreted_source(scenario: str) -> None:
    # falling_market (jumps) and feed_corruption (random spikes) also use the event stream;
    # predatory_traders exercises the leakage reaction.
    scen = load_scenarios()[scenario]
    compiled = _stressed_run(n_paths=40, scenario=scen)
    raw, counts, first, _ = run_interpreted(_stressed_inputs(n_paths=40, scenario=scen))
    np.testing.assert_allclose(raw, compiled.raw, rtol=1e-12, atol=1e-9, equal_nan=True)
    assert np.array_equal(counts, compiled.control_counts)
    assert np.array_equal(first, compiled.first_fire)
    assert counts.sum() > 0  # the controls did act on these paths


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
    # Steps after an order is flat are not traced (NaN); compare where both traded.
    both = np.isfinite(a["shock"]) & np.isfinite(b["shock"])
    assert both[:10].all() and np.array_equal(a["shock"][both], b["shock"][both])
    # A scenario with jumps draws from the event stream; price shocks are unchanged.
    d = trace_order(chall, "falling_market", cfg, order_id="blk-eq-1", path=3)
    both = np.isfinite(a["shock"]) & np.isfinite(d["shock"])
    assert both[:10].all() and np.array_equal(a["shock"][both], d["shock"][both])
    c = trace_order(champ, "baseline", cfg, order_id="blk-eq-2", path=3)
    assert not np.array_equal(a["shock"][:10], c["shock"][:10])  # other order, other stream


def test_champion_and_challenger_are_paired() -> None:
    cfg = StressConfig(n_paths=400, seed=2)
    models = {"champion": example_orders("champion"), "challenger": example_orders("challenger")}
    report = run_stress(models, ["baseline"], cfg)
    paired = report.paired().iloc[0]
    assert paired["correlation"] > 0.5
    assert paired["se_bps"] < paired["se_unpaired_bps"]


# --- the schedule-only kernel -------------------------------------------------------------------
def _schedule_only_cases() -> dict[str, tuple[MarketModel, np.ndarray, float, dict]]:
    """Runs whose trades are the same on every path, covering each branch of the lean kernel."""
    geometric = _geometric_market()
    arithmetic_with_volume = MarketModel(**AC, adv=2e7, volume_profile="u_shape")
    spike_at_a_fixed_time = load_scenarios()["vol_spike"].model_copy(update={"onset": None})
    x_ac = ac_trajectories()["sinh"]
    return {
        "almgren_chriss_sell": (MarketModel(**AC), x_ac, AC_T, {}),
        "almgren_chriss_buy": (MarketModel(**AC), x_ac, AC_T, {"side": "buy"}),
        # A schedule that leaves a third at its horizon: overrun, then completion at the close.
        "geometric_remainder_overrun_and_completion": (
            geometric,
            np.linspace(4e6, 4e6 / 3, 61),
            60 / DAY,
            {"window": 390 / DAY, "start_minute": 30.0, "stream": "blk-2"},
        ),
        "geometric_pov_in_a_scenario": (
            geometric,
            np.full(91, 3e5),
            90 / DAY,
            {"pov_rate": 0.05, "scenario": spike_at_a_fixed_time, "window": 200 / DAY},
        ),
        "arithmetic_with_volume_buy": (
            arithmetic_with_volume,
            np.linspace(1e6, 0.0, 121),
            120 / DAY,
            {"side": "buy", "window": 300 / DAY},
        ),
    }


def _run(inputs):
    """The leading arguments of both kernels, on fresh streams of the run's seed."""
    gens = typed.List(make_generators(inputs.seed, inputs.n_paths, inputs.stream))
    return gens, inputs.n_paths, K.CHUNK_SIZE, inputs.par, inputs.stp, inputs.base


@pytest.mark.parametrize("case", list(_schedule_only_cases()))
def test_schedule_only_kernel_gives_the_general_kernels_outputs_bit_for_bit(case: str) -> None:
    market, holdings, horizon, kw = _schedule_only_cases()[case]
    inputs = prepare_inputs(market, holdings, horizon, 700, 11, **kw)
    assert is_schedule_only(inputs.par)
    out, fires, first, _ = allocate_outputs(inputs)
    K.simulate_schedule_chunks(*_run(inputs), *schedule_plan(inputs), out)
    general, fires, first, trace = allocate_outputs(inputs)
    K.simulate_chunks(*_run(inputs), inputs.tgt, general, fires, first, -1, trace)
    assert np.array_equal(out, general, equal_nan=True)
    assert not fires.any() and np.all(first == -1)  # no control fired
    assert np.array_equal(run_kernel(inputs)[0], out, equal_nan=True)
    assert np.unique(out[K.O_COST]).size == inputs.n_paths  # every path priced on its own
    if case.startswith("geometric_remainder"):
        assert np.all(out[K.O_OVERRUN] > 0) and np.all(out[K.O_COMPLETED] > 0)


def test_schedule_only_kernel_does_not_depend_on_the_number_of_threads() -> None:
    market, holdings, horizon, kw = _schedule_only_cases()["geometric_pov_in_a_scenario"]
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = simulate(market, holdings, horizon, 1300, 3, **kw)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = simulate(market, holdings, horizon, 1300, 3, **kw)
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one.raw, two.raw, equal_nan=True)


@pytest.mark.parametrize(
    "change",
    [
        {"controls": Controls()},
        {"controls": Controls.none().model_copy(update={"risk_monitor": True})},
        {"market": {"volume_noise": 0.25}},
        {"market": {"jump_intensity": 2.0, "jump_std": 0.01}},
        {"scenario": "vol_spike"},  # a randomised onset
        {"scenario": "predatory_traders"},  # others react to our participation
        {"scenario": "feed_corruption"},
    ],
    ids=str,
)
def test_runs_whose_trades_depend_on_the_path_take_the_general_kernel(change: dict) -> None:
    market, holdings, horizon, kw = _schedule_only_cases()["geometric_pov_in_a_scenario"]
    market = market.model_copy(update=change.get("market", {}))
    if "scenario" in change:
        kw = {**kw, "scenario": load_scenarios()[change["scenario"]]}
    kw = {**kw, "controls": change.get("controls")}
    inputs = prepare_inputs(market, holdings, horizon, 10, 1, **kw)
    assert not is_schedule_only(inputs.par)


# --- the book's shared market -------------------------------------------------------------------
def _twin_costs(scenario: str, market_share: float) -> tuple[np.ndarray, np.ndarray]:
    """Costs per path of two identical orders (different ids) in one book, controls off."""
    order = example_orders("champion").iloc[[0]]
    book = pd.concat([order, order.assign(order_id="blk-eq-1-twin")])
    cfg = StressConfig(n_paths=4000, seed=3, controls=Controls.none(), market_share=market_share)
    first, second = run_stress({"m": book}, [scenario], cfg)[scenario, "m"].orders
    return first.sim.cost, second.sim.cost


@pytest.mark.parametrize("market_share", [0.0, 0.3])
def test_orders_of_a_book_share_the_market_factor(market_share: float) -> None:
    # Same schedule, own shocks of unit variance split sqrt(1 - rho) own, sqrt(rho) market:
    # the two costs correlate at rho (s.e. about (1 - rho^2) / sqrt(n) = 0.016 here).
    a, b = _twin_costs("baseline", market_share)
    assert abs(np.corrcoef(a, b)[0, 1] - market_share) < 0.06


def test_a_market_wide_event_hits_the_whole_book_at_once() -> None:
    # No market factor: what the twins share is the scenario's onset, drawn per path from
    # the book's stream; in vol_spike when the 15 % move starts decides most of the cost.
    a, b = _twin_costs("vol_spike", 0.0)
    assert np.corrcoef(a, b)[0, 1] > 0.5


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"market_share": 1.5}, r"market_share must be <= 1, got 1.5"),
        (
            {"market_share": 0.3, "horizon": 0.3, "holdings": np.linspace(1e5, 0.0, 8)},
            r"needs steps that divide the session, got steps of 16.7143 minutes in a "
            r"390-minute session",
        ),
        (
            {"market_share": 0.3, "start_minute": 350.0},
            r"needs the window to end by the close: it starts at step 350 and lasts 60 steps, "
            r"the session has 390",
        ),
    ],
)
def test_a_market_factor_needs_a_session_clock(kw: dict, message: str) -> None:
    args = {"holdings": np.linspace(1e5, 0.0, 61), "horizon": 60 / DAY, **kw}
    with pytest.raises(StressInputError, match=message):
        simulate(_geometric_market(), n_paths=10, seed=1, **args)


@pytest.mark.parametrize("key", [None, "blk-eq-1", "book", 0])
def test_the_book_streams_are_every_orders_and_no_orders_own(key) -> None:
    def firsts(stream):
        return [g.standard_normal() for g in make_generators(7, 3 * K.CHUNK_SIZE, stream)]

    n = K.STREAMS_PER_CHUNK
    mine, other = firsts(key), firsts("another order")
    assert mine[2::n] == other[2::n]  # the book's, whatever the key
    own = [x for i, x in enumerate(mine) if i % n != 2]
    assert len(set(own) | set(mine[2::n])) == len(mine)  # no own stream is a book stream


def test_a_config_whose_steps_do_not_divide_the_session_needs_independent_markets() -> None:
    with pytest.raises(
        ValueError, match=r"step_minutes that divide session_minutes .* got 7 and 390"
    ):
        StressConfig(step_minutes=7.0)
    StressConfig(step_minutes=7.0, market_share=0.0)  # each order on its own market
