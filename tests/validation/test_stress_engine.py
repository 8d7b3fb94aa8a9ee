"""Tests of :func:`validation.stress.simulate`: Almgren-Chriss closed forms, input checks and the
per-path risk metrics against their definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.validation.almgren_chriss import AC, AC_LAMBDA, AC_T, ac_closed_form, ac_trajectories
from tests.validation.stress_books import controls_only
from validation.stress import MarketModel, StressInputError, simulate
from validation.stress.metrics import leakage_score
from vocabulary import SESSION_MINUTES
from vocabulary.errors import UsageError

DAY = float(SESSION_MINUTES)  # minutes per trading day


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
    assert np.all(result.completed == 0)


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
        simulate(market, [10.0, 0.0], 1.0, 10, 0, controls=controls_only("participation_cap"))
    # The errors are usage errors for the CLI and ValueErrors for Python callers.
    assert issubclass(StressInputError, UsageError) and issubclass(StressInputError, ValueError)


def test_risk_metrics_match_their_definitions() -> None:
    # No volatility, linear impact, flat volume: every quantity is known in closed form.
    market = MarketModel(s0=100.0, sigma=0.0, eta=1e-6, epsilon=0.02, adv=3.9e6)
    x = np.linspace(6000, 0, 31)
    tau = (30 / DAY) / 30
    r = simulate(market, x, 30 / DAY, 3, 0, side="buy")
    per_share = 0.02 + 1e-6 * 200 / tau
    market_per_step = 3.9e6 * tau  # 10,000 shares a minute at the mid, 100
    vwap = (market_per_step * 100.0 + 200 * (100.0 + per_share)) / (market_per_step + 200)
    np.testing.assert_allclose(r.interval_vwap, vwap)
    np.testing.assert_allclose(r.slippage, (100.0 + per_share - vwap) / vwap)
    np.testing.assert_allclose(r.impact_cost, per_share / 100.0)
    np.testing.assert_allclose(r.cost, 6000 * per_share)
    np.testing.assert_allclose(r.max_participation, 200 / 10_200)
    np.testing.assert_allclose(r.max_requested_participation, 200 / 10_200)
    assert np.all(r.completed == 0)


def test_every_path_ends_flat_and_the_remainder_is_completed_at_a_cost() -> None:
    # A schedule that stops at 40 % of the order: the backstop completes the rest, working it
    # over completion_minutes at the market's volume, at the spread plus temporary impact.
    market = MarketModel(s0=100.0, sigma=0.0, impact="power", eta=0.142, epsilon=0.02, adv=3.9e6)
    x = np.linspace(6000, 3600, 31)
    r = simulate(market, x, 30 / DAY, 3, 0, side="buy", completion_minutes=30.0)
    np.testing.assert_allclose(r.filled, 2400)
    np.testing.assert_allclose(r.completed, 3600)
    np.testing.assert_allclose(r.completion_share, 0.6)
    # sigma = 0 makes the power law's impact vanish, so completion pays the half spread alone.
    np.testing.assert_allclose(r.completion_cost, 3600 * 0.02)
    np.testing.assert_allclose(r.cost, r.execution_cost + r.completion_cost)
    noisy = market.model_copy(update={"sigma": 0.02 * 100.0})
    slow = simulate(noisy, x, 30 / DAY, 2000, 0, side="buy", completion_minutes=120.0)
    fast = simulate(noisy, x, 30 / DAY, 2000, 0, side="buy", completion_minutes=5.0)
    # The same shocks; a completion rushed into 5 minutes pays more impact than one over 2 h.
    assert np.all(fast.completion_cost > slow.completion_cost)


def test_fill_price_variance_ratio_is_one_without_impact() -> None:
    market = MarketModel(s0=100.0, sigma=2.0)  # arithmetic, no impact, no spread
    r = simulate(market, np.linspace(1000, 0, 101), 100 / DAY, 4000, 8)
    ratio = np.nanmean(r.fill_var) / np.nanmean(r.fill_var_ref)
    assert ratio == pytest.approx(1.0, abs=0.05)
    assert np.allclose(r.fill_var_ref, r.fill_var_ref[0])  # deterministic weights


def test_information_leakage_separates_visible_from_hidden_trading() -> None:
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
