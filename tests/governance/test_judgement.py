"""The version description a validator reads in the registry fits the registry's column."""

import numpy as np
import pandas as pd
from fixed_model import Fixed

from governance.records.verdict import DESCRIPTION_LIMIT, version_description
from validation.comparison import compare_candidate
from validation.gates import GateCheck, GateReport


def _comparison():
    rng = np.random.default_rng(0)
    day = np.repeat(np.arange(12), 100)
    frame = pd.DataFrame(
        {
            "start_ts": pd.date_range("2026-03-02", periods=12, tz="UTC")[day],
            "qty": 1e4,
            "adv": 1e6,
            "daily_vol": 0.02,
            "asset": "A",
        }
    )
    truth = rng.gamma(2, 10, day.size)
    return compare_candidate(
        frame,
        frame,
        truth + rng.normal(0, 5, day.size),
        Fixed(truth),
        {"champion": Fixed(truth * 1.3)},
        "start_ts",
        0.1,
    )


def test_a_long_verdict_is_cut_on_a_line_to_fit_and_says_where_the_rest_is():
    failing = tuple(
        GateCheck("risk metric market_impact", f"scenario_{i}", 0.5, "x" * 200, "fail")
        for i in range(60)
    )
    stress = pd.DataFrame(
        {"model": ["candidate"], "scenario": ["baseline"], "cvar95_shortfall_bps": [40.0]}
    )
    latency = {"p50_ms": 0.004, "p99_ms": 0.005}
    text = version_description(_comparison(), stress, GateReport(failing, "0" * 64), latency)
    assert len(text) <= DESCRIPTION_LIMIT
    assert text.startswith("Gates FAILED: 0 pass, 0 warn, 60 fail")
    assert "cut to fit the registry; the gate report has every check" in text
    assert text.endswith("Reports: run artifacts reports/*.json|md|html, plots/*.png.")
    short = version_description(_comparison(), stress, GateReport(failing[:2], "0" * 64), latency)
    assert "cut to fit" not in short and len(short) < DESCRIPTION_LIMIT
