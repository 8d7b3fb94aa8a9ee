import numpy as np
import pandas as pd
import pytest

from validation.comparison import compare_candidate, compare_paired, day_block_bootstrap


class Fixed:
    """A 'model' whose predictions are given (the comparison only calls predict)."""

    def __init__(self, values):
        self.values = values

    def predict(self, features):
        return self.values


@pytest.fixture(scope="module")
def holdout():
    rng = np.random.default_rng(0)
    n_days, per_day = 30, 400
    day = np.repeat(pd.date_range("2026-03-02", periods=n_days, freq="B", tz="UTC"), per_day)
    truth = rng.gamma(2.0, 10.0, n_days * per_day)
    # Day-level shocks make errors correlated within a day, as in real execution data.
    day_shock = np.repeat(rng.normal(0, 8, n_days), per_day)
    actual = truth + day_shock + rng.normal(0, 20, truth.size)
    frame = pd.DataFrame(
        {
            "start_ts": day,
            "qty": rng.uniform(1e3, 1e6, truth.size),
            "adv": 5e6,
            "daily_vol": rng.uniform(0.01, 0.04, truth.size),
            "asset": rng.choice(["A", "B", "C"], truth.size),
        }
    )
    return frame, truth, actual


def test_equal_challenger_is_non_inferior(holdout):
    frame, truth, actual = holdout
    noise = np.random.default_rng(1).normal(0, 0.5, truth.size)
    report = compare_candidate(
        frame, frame, actual, Fixed(truth + noise), {"champion": Fixed(truth)}, "start_ts", 0.02
    )
    c = report.champion
    assert c.verdict == "non-inferior"
    assert c.ci_low < 0.5 and c.ci_high < c.margin_bps


def test_worse_challenger_is_flagged(holdout):
    frame, truth, actual = holdout
    report = compare_candidate(
        frame, frame, actual, Fixed(truth * 1.3 + 3), {"champion": Fixed(truth)}, "start_ts", 0.02
    )
    assert report.champion.verdict == "worse"
    assert report.champion.ci_low > 0


def test_better_challenger_is_recognised(holdout):
    frame, truth, actual = holdout
    report = compare_candidate(
        frame, frame, actual, Fixed(truth), {"baseline": Fixed(truth * 1.3 + 3)}, "start_ts", 0.02
    )
    assert report.comparisons["baseline"].verdict == "better"
    assert "baseline" in report.to_markdown()


def test_day_blocks_widen_the_interval_when_days_are_correlated():
    rng = np.random.default_rng(3)
    days = np.repeat(np.arange(40), 250)
    diff = np.repeat(rng.normal(0, 1.0, 40), 250) + rng.normal(0, 1.0, days.size)
    _, low_block, high_block = day_block_bootstrap(diff, days, seed=1)
    _, low_row, high_row = day_block_bootstrap(diff, np.arange(days.size), seed=1)
    assert (high_block - low_block) > 5 * (high_row - low_row)


def test_bootstrap_is_deterministic_and_validates():
    diff, days = np.arange(10.0), np.repeat([1, 2], 5)
    assert day_block_bootstrap(diff, days, seed=4) == day_block_bootstrap(diff, days, seed=4)
    with pytest.raises(ValueError, match="at least 2 days, got 1"):
        day_block_bootstrap(diff, np.ones(10))
    with pytest.raises(ValueError, match="same length"):
        day_block_bootstrap(diff, np.ones(3))
    with pytest.raises(ValueError, match="margin must be >= 0"):
        compare_paired("x", diff, diff, diff, days, -0.1)


def test_segments_cover_size_volatility_and_asset(holdout):
    frame, truth, actual = holdout
    report = compare_candidate(
        frame, frame, actual, Fixed(truth), {"champion": Fixed(truth + 1)}, "start_ts", 0.02
    )
    seg = report.segments
    assert set(seg["segment"]) == {"size", "volatility", "asset"}
    assert set(seg["model"]) == {"candidate", "champion"}
    per_segment = seg[seg["model"] == "candidate"].groupby("segment")["n"].sum()
    assert (per_segment == len(frame)).all()
    champion_bias = seg[(seg["model"] == "champion") & (seg["segment"] == "asset")]["bias"]
    candidate_bias = seg[(seg["model"] == "candidate") & (seg["segment"] == "asset")]["bias"]
    np.testing.assert_allclose(champion_bias.to_numpy() - candidate_bias.to_numpy(), 1.0)
