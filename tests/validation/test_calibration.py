"""Absolute calibration on the holdout: bias and slope error with day-clustered intervals."""

import numpy as np
import pandas as pd
import pytest
from fixed_model import Fixed

from validation.comparison import calibration, compare_candidate
from validation.gates import calibration_checks

DAYS = 12


def _holdout(seed=0, n=6_000):
    rng = np.random.default_rng(seed)
    day = np.repeat(np.arange(DAYS), n // DAYS)
    truth = rng.gamma(2.0, 10.0, n)
    # Day-level market noise shared by the day's orders, as in the generator.
    actual = truth + rng.normal(0.0, 4.0, DAYS)[day] + rng.normal(0.0, 30.0, n)
    return day, truth, actual


def test_a_calibrated_model_is_within_its_limits():
    day, truth, actual = _holdout()
    c = calibration("candidate", actual, truth, day, 0.10, 0.25)
    assert not c.miscalibrated, c.explanation
    assert c.bias_low < 0 < c.bias_high or abs(c.bias) < c.bias_limit


@pytest.mark.parametrize(
    ("predicted", "flag"),
    [
        (lambda t: t * 0.6, "biased"),  # a level 40 % low: trained before costs rose
        (lambda t: t + 8.0, "biased"),  # fees counted twice
        (lambda t: 20.0 + (t - 20.0) * 2.0, "mis_sloped"),  # differences doubled
    ],
)
def test_a_miscalibrated_model_is_caught(predicted, flag):
    day, truth, actual = _holdout()
    c = calibration("candidate", actual, predicted(truth), day, 0.10, 0.25)
    assert getattr(c, flag), c.explanation
    assert c.miscalibrated


def test_the_slope_error_is_the_least_squares_slope_minus_one():
    day, truth, actual = _holdout()
    predicted = 5.0 + 0.8 * truth
    c = calibration("candidate", actual, predicted, day, 0.10, 0.25)
    slope = np.polyfit(predicted, actual, 1)[0]
    assert c.slope_error == pytest.approx(slope - 1.0, rel=1e-9)


def test_predictions_that_do_not_vary_have_no_slope_and_are_miscalibrated():
    day, truth, actual = _holdout()
    c = calibration("candidate", actual, np.full_like(truth, actual.mean()), day, 0.10, 0.25)
    assert c.mis_sloped and c.miscalibrated and not c.biased
    assert "slope undefined" in c.explanation
    assert c.as_dict()["slope_error"] is None


def test_the_slope_interval_covers_the_slope_of_a_mis_sloped_model():
    # Predicted differences doubled: the interval's half-width shrinks with the estimator's
    # own variance, so a mis-sloped model does not widen its way out of the check.
    rng = np.random.default_rng(3)
    covered = 0
    for _ in range(200):
        day = np.repeat(np.arange(DAYS), 200)
        truth = rng.gamma(2.0, 10.0, day.size)
        actual = truth + rng.normal(0.0, 15.0, day.size)
        c = calibration("candidate", actual, 20.0 + 2.0 * (truth - 20.0), day, 0.10, 0.25)
        covered += c.slope_low <= -0.5 <= c.slope_high
    assert covered >= 180  # 95 % nominal: 190 expected, 180 is 2.3 standard errors below


def test_bad_input_is_refused_with_what_was_expected():
    day, truth, actual = _holdout()
    with pytest.raises(ValueError, match="limits must be >= 0"):
        calibration("candidate", actual, truth, day, -0.1, 0.25)


def test_the_candidate_fails_and_a_champion_wrong_the_same_way_is_flagged():
    day, truth, actual = _holdout()
    frame = pd.DataFrame(
        {
            "start_ts": pd.date_range("2026-03-02", periods=DAYS, tz="UTC")[day],
            "qty": 1e4,
            "adv": 1e6,
            "daily_vol": 0.02,
            "asset": "A",
        }
    )
    # Both trained before the costs rose by half: the candidate beats the champion.
    report = compare_candidate(
        frame,
        frame,
        actual,
        Fixed(truth / 1.5),
        {"champion": Fixed(truth / 1.4)},
        "start_ts",
        0.10,
        calibration_limits=(0.10, 0.25),
    )
    checks = {c.subject: c for c in calibration_checks(report)}
    assert checks["candidate"].status == "fail"
    assert checks["champion"].status == "warn"
    assert "flagged, not judged" in checks["champion"].limit
