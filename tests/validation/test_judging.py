"""The retrain's judging stages on candidates the family's own policy produces from damaged data.

One desk's market over 120 days (the generator, a seed of its own): the champion is the
family's candidate fitted on the first 60-day snapshot, the candidates on the next one, their
training rows damaged as real defects arise. Each is judged as ``govern retrain`` judges it
(:mod:`validation.judging`); ``bench/verdicts.py`` measures the rates over many seeds.
"""

import numpy as np
import pandas as pd
import pytest

from governance.stores.settings import DEFAULT_POLICY
from models import get_family, out_of_time_split
from synthetic import SynthConfig, generate
from validation import judging
from validation.latency import measure_latency
from validation.policy import parse_policy
from validation.stress import load_scenarios, run_stress

FAMILY = get_family("execution-impact")
POLICY = parse_policy(DEFAULT_POLICY.read_text()).for_model("execution-impact")
LIBRARY = load_scenarios()
SEED, DAYS, SNAPSHOT = 5, 120, 60
HOLDOUT_START = SNAPSHOT + 48  # the first holdout day of the second snapshot


def _market(shift_after_day=None):
    config = SynthConfig(seed=SEED, days=DAYS, orders=240_000, shift_after_day=shift_after_day)
    frame = FAMILY.training_frame(generate(config).as_dict())
    days = pd.bdate_range(config.start_date, periods=DAYS, tz="UTC").date
    day = np.searchsorted(days, frame["start_ts"].dt.date.to_numpy())
    return frame, day


def _judged(split, train, champion):
    fitted = FAMILY.fit(train, SEED)
    references = {"champion": champion, **fitted.baselines}
    comparison = judging.challenge(FAMILY, split.holdout, fitted.candidate, references, POLICY)
    books = judging.stress_books(FAMILY, split.holdout, fitted.candidate, "champion", champion)
    stress = run_stress(books, LIBRARY, judging.stress_config(POLICY, 2_000, SEED), library=LIBRARY)
    compiled = FAMILY.compile(fitted.candidate)
    (arguments,) = compiled.arguments(split.holdout.head(1))
    latency = measure_latency(lambda: compiled.decide_one(*arguments))
    return judging.judge(
        FAMILY, POLICY, "test", comparison, stress, latency, SEED, tuple(LIBRARY.names)
    )


@pytest.fixture(scope="module")
def reports():
    frame, day = _market()
    older = out_of_time_split(frame.loc[day < SNAPSHOT], FAMILY.time_column, 0.2)
    champion = FAMILY.fit(older.train, SEED).candidate
    recent = out_of_time_split(frame.loc[day >= SNAPSHOT], FAMILY.time_column, 0.2)
    shifted, shifted_day = _market(shift_after_day=HOLDOUT_START)
    stale = out_of_time_split(shifted.loc[shifted_day >= SNAPSHOT], FAMILY.time_column, 0.2)
    inflated = recent.train.assign(shortfall_bps=recent.train["shortfall_bps"] * 1.5)
    halved = recent.train.assign(shortfall_bps=recent.train["shortfall_bps"] * 0.5)
    return {
        "honest": _judged(recent, recent.train, champion),
        "costs x1.5": _judged(recent, inflated, champion),
        "costs x0.5": _judged(recent, halved, champion),
        # Trained before impact and volatility rose; the champion is as stale as it is.
        "stale": _judged(stale, stale.train, champion),
    }


def _failed(report):
    return {c.gate for c in report.failures}


def test_an_honest_retrain_passes_every_gate(reports):
    report = reports["honest"]
    assert report.passed, report.failure_message()


def test_a_candidate_trained_on_inflated_costs_fails_the_challenger_and_calibration(reports):
    report = reports["costs x1.5"]
    assert {"challenger", "calibration"} <= _failed(report), report.failure_message()
    (candidate,) = [c for c in report.failures if c.gate == "calibration"]
    assert candidate.subject == "candidate" and candidate.value.startswith("bias +")


def test_a_candidate_trained_on_halved_costs_rushes_and_fails_decisions_and_impact(reports):
    # Costs recorded at half their size make every horizon look cheap to shorten: the
    # family's own policy trades faster than the champion's, and that costs more on the
    # same simulated markets and moves the calm-market price past the essay's action level.
    failed = {(c.gate, c.subject) for c in reports["costs x0.5"].failures}
    assert ("decisions", "vs champion in baseline") in failed, failed
    assert ("risk metric market_impact", "baseline_uncontrolled") in failed, failed
    honest = {(c.gate, c.subject): c.status for c in reports["honest"].checks}
    assert honest["decisions", "vs champion in baseline"] == "pass"
    assert honest["risk metric market_impact", "baseline_uncontrolled"] != "fail"


def test_a_model_trained_before_a_regime_shift_is_refused_and_the_champion_flagged(reports):
    report = reports["stale"]
    assert "calibration" in _failed(report), report.to_markdown()
    flagged = [c for c in report.checks if c.gate == "calibration" and c.subject == "champion"]
    assert [c.status for c in flagged] == ["warn"]
