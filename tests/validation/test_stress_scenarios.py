"""Tests of the scenario library: the shipped file, its hash, file errors, data-only scenarios."""

from __future__ import annotations

import hashlib
import json
from importlib.resources import files

import numpy as np
import pytest

from tests.validation.stress_books import example_orders
from validation.stress import (
    REQUIRED_SCENARIOS,
    MarketModel,
    Scenario,
    ScenarioFileError,
    ScenarioLibrary,
    StressConfig,
    StressInputError,
    load_scenarios,
    run_scenario,
    simulate,
)
from vocabulary import SESSION_MINUTES

DAY = float(SESSION_MINUTES)  # minutes per trading day


def _scenario(**fields) -> Scenario:
    return Scenario(name="test", description="test scenario", **fields)


def test_shipped_library_loads_with_required_scenarios() -> None:
    lib = load_scenarios()
    assert set(REQUIRED_SCENARIOS) <= set(lib.names)
    spike = lib["vol_spike"]
    minutes = np.array([0.0, 15.0, 30.0, 100.0])  # since the onset
    # From the name's own volatility, doubling within 30 minutes (the essay's 90 % to 180 %).
    np.testing.assert_allclose(spike.daily_volatility(minutes, 0.02), [0.02, 0.03, 0.04, 0.04])
    np.testing.assert_allclose(spike.market_move_at(minutes), [0, -0.075, -0.15, -0.15])
    assert (spike.onset.earliest, spike.onset.latest) == (15, 330)
    with pytest.raises(KeyError, match="unknown scenario 'nope'"):
        lib["nope"]


def _drop_step(scenario, path: int, start_minute: float = 0.0) -> int:
    """The step at which a zero-volatility market first falls, on one path."""
    market = MarketModel(s0=100.0, sigma=0.0, dynamics="geometric")
    r = simulate(
        market,
        np.linspace(600.0, 0.0, 61),
        60 / DAY,
        path + 1,
        3,
        scenario=scenario,
        start_minute=start_minute,
        trace_path=path,
    )
    return int(np.argmax(r.trace["mid_end"] < 99.0))


def test_events_begin_on_the_session_clock_at_an_onset_drawn_per_path() -> None:
    drop = {"market_move": {"knots": [[0, 0.0], [1, -0.05]]}}
    fixed = _scenario(**drop, onset={"earliest": 20, "latest": 20})
    # The onset is a session minute: an order starting at minute 5 meets it at its step 15.
    assert _drop_step(fixed, 0) == 20 and _drop_step(fixed, 0, start_minute=5.0) == 15
    spread = _scenario(**drop, onset={"earliest": 10, "latest": 50})
    steps = [_drop_step(spread, p) for p in range(40)]
    assert min(steps) >= 10 and max(steps) <= 50
    assert len(set(steps)) > 15  # each path meets the event at its own time
    assert steps == [_drop_step(spread, p) for p in range(40)]  # the same seed, the same onsets
    with pytest.raises(StressInputError, match="latest must be >= earliest"):
        _scenario(**drop, onset={"earliest": 50, "latest": 10})


def test_vol_spike_moves_the_market_down_15_percent_for_sales_and_purchases_alike() -> None:
    market = MarketModel(s0=100.0, sigma=1e-9, dynamics="geometric")
    scen = load_scenarios()["vol_spike"]
    x = np.full(61, 1000.0)  # nothing to trade: look at the market only
    for side in ("sell", "buy"):
        r = simulate(
            market, x, 60 / DAY, 2, 0, side=side, scenario=_scenario(market_move=scen.market_move)
        )
        np.testing.assert_allclose(r.mark, 85.0, rtol=1e-6)


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
        "    market_move:\n      knots: [[5, 0.0], [6, -0.05]]\n"
    )
    lib = load_scenarios(path)
    sales = example_orders("champion").assign(side="sell")
    result = run_scenario(sales, lib["halt_and_gap"], StressConfig(n_paths=64))
    assert result.scenario == "halt_and_gap"
    assert result.metrics.shortfall_bps.mean > 100  # a 5% gap against every sale


def test_library_knows_the_sha256_of_the_bytes_it_was_loaded_from(tmp_path) -> None:
    shipped = files("validation.stress") / "scenarios.yaml"  # package data, as in a wheel
    lib = load_scenarios()
    assert lib.sha256 == hashlib.sha256(shipped.read_bytes()).hexdigest()
    assert lib.select(["baseline"]).sha256 == lib.sha256  # a subset of the same file
    path = tmp_path / "calm.yaml"
    path.write_text("version: 1\nscenarios:\n  calm:\n    description: c\n")
    assert load_scenarios(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    built = ScenarioLibrary(version=1, scenarios={"calm": {"description": "c"}})
    assert built.sha256 is None  # not loaded from a file
    copy = ScenarioLibrary.model_validate_json(lib.model_dump_json())  # e.g. a flow parameter
    assert copy.sha256 == lib.sha256 and copy == lib
    path.write_text("version: 1\nsha256: forged\nscenarios:\n  calm:\n    description: c\n")
    with pytest.raises(ScenarioFileError, match="must not set sha256"):
        load_scenarios(path)
