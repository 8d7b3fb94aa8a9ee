"""Tests of the random streams: thread-count independence, common random numbers, and the
compiled kernel against its own source run by the Python interpreter."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from tests.validation.almgren_chriss import AC, AC_T, ac_trajectories
from tests.validation.stress_interpreted import run_interpreted
from validation.stress import (
    Controls,
    MarketModel,
    StressConfig,
    example_orders,
    load_scenarios,
    run_stress,
    simulate,
    trace_order,
)
from validation.stress.inputs import prepare_inputs
from vocabulary import SESSION_MINUTES

DAY = float(SESSION_MINUTES)  # minutes per trading day


def _stressed_args(**kw) -> tuple[tuple, dict]:
    """Positional and keyword arguments of a stressed simulation (all controls, vol spike)."""
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
    assert np.array_equal(small.raw, large.raw[:300], equal_nan=True)


@pytest.mark.parametrize(
    "scenario", ["vol_spike", "adverse_trend", "feed_corruption", "predatory_traders"]
)
def test_compiled_kernel_agrees_with_its_interpreted_source(scenario: str) -> None:
    # adverse_trend (jumps) and feed_corruption (random spikes) also use the event stream;
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
    d = trace_order(chall, "adverse_trend", cfg, order_id="blk-eq-1", path=3)
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
