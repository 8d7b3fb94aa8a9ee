"""Derived check columns and the gating of checks on missing or mistyped columns."""

import numpy as np
import pandas as pd
import pytest

from expectations import CONTRACTS
from expectations.executions import FILL_DEVIATION, SHORTFALL_GAP
from expectations.market_bars import CLOSE_JUMP, INTRADAY_GAP, TS_STEP
from expectations.prepare import column_problems, prepare


def _orders(**columns) -> pd.DataFrame:
    base = {"side": ["buy", "sell"], "arrival_mid": [100.0, 100.0]}
    return pd.DataFrame({**base, **columns})


def test_shortfall_gap_is_zero_when_prices_imply_the_reported_shortfall():
    frame = _orders(avg_fill_px=[100.5, 99.8], shortfall_bps=[50.0, 20.0])
    np.testing.assert_allclose(SHORTFALL_GAP.compute(frame), [0.0, 0.0], atol=1e-9)


def test_buy_filled_ten_percent_below_arrival_shows_a_large_gap():
    frame = _orders(avg_fill_px=[90.0, 99.8], shortfall_bps=[12.0, 20.0])
    gap = SHORTFALL_GAP.compute(frame)
    assert gap.iloc[0] == pytest.approx(12.0 + 1000.0)
    assert abs(gap.iloc[1]) < 1e-9


def test_shortfall_gap_is_nan_for_an_invalid_side():
    frame = pd.DataFrame(
        {"side": ["hold"], "arrival_mid": [100.0], "avg_fill_px": [101.0], "shortfall_bps": [1.0]}
    )
    assert SHORTFALL_GAP.compute(frame).isna().all()


def test_fill_deviation_is_relative_distance_from_arrival():
    frame = _orders(avg_fill_px=[150.0, 80.0])
    np.testing.assert_allclose(FILL_DEVIATION.compute(frame), [0.5, 0.2])


def _bars(ts: list[str], assets: list[str], close: list[float] | None = None) -> pd.DataFrame:
    close = close or [100.0] * len(ts)
    return pd.DataFrame({"ts": pd.to_datetime(ts, utc=True), "asset": assets, "close": close})


def test_ts_step_follows_row_order_per_asset():
    frame = _bars(
        ["2026-01-05 14:30", "2026-01-05 14:30", "2026-01-05 14:35", "2026-01-05 14:25"],
        ["A", "B", "A", "A"],
    )
    steps = TS_STEP.compute(frame)
    assert steps.isna().tolist() == [True, True, False, False]
    assert steps.iloc[2] == 300.0
    assert steps.iloc[3] == -600.0


def test_intraday_gap_ignores_overnight_and_weekend_and_row_order():
    frame = _bars(
        [
            "2026-01-09 20:55",  # Friday's last bar
            "2026-01-12 14:30",  # Monday's first bar: weekend gap, not stale
            "2026-01-12 17:00",  # 150 min after 14:30 the same day: stale
            "2026-01-12 14:35",  # out of row order, still counted in time order
        ],
        ["A", "A", "A", "A"],
    )
    gaps = INTRADAY_GAP.compute(frame)
    assert np.isnan(gaps.iloc[0]) and np.isnan(gaps.iloc[1])
    assert gaps.iloc[3] == 5.0
    assert gaps.iloc[2] == 145.0


def test_close_jump_flags_a_spike_in_robust_sigmas():
    rng = np.random.default_rng(0)
    ts = pd.date_range("2026-01-05 14:30", periods=78, freq="5min", tz="UTC")
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, 78)))
    close[40] *= 3.0
    frame = pd.DataFrame({"ts": ts, "asset": "A", "close": close})
    jumps = CLOSE_JUMP.compute(frame)
    assert jumps.iloc[40] > 100 and jumps.iloc[41] > 100
    assert jumps.drop([40, 41]).max() < 8


def test_prepare_skips_checks_of_a_missing_column_and_keeps_the_rest(clean_tables):
    contract = CONTRACTS["executions"]
    frame = clean_tables["executions"].drop(columns=["daily_vol"])
    prepared = prepare(contract, frame)
    assert set(prepared.skipped) == {
        "daily_vol_dtype",
        "daily_vol_not_null",
        "daily_vol_is_fraction",
        "daily_vol_plausible",
    }
    assert all("column daily_vol missing" in r for r in prepared.skipped.values())
    assert "daily_vol_present" in {c.name for c in prepared.runnable}
    assert "daily_vol" in clean_tables["executions"].columns  # input untouched


def test_prepare_skips_value_checks_of_a_mistyped_column(clean_tables):
    contract = CONTRACTS["executions"]
    frame = clean_tables["executions"].assign(qty=lambda f: f["qty"].astype(str))
    assert column_problems(contract, frame) == {"qty": "dtype str, expected numeric"}
    prepared = prepare(contract, frame)
    runnable = {c.name for c in prepared.runnable}
    assert {"qty_dtype", "qty_not_null"} <= runnable
    assert prepared.skipped == {
        "qty_positive": "not evaluated: column qty dtype str, expected numeric",
        "adv_covers_qty": "not evaluated: column qty dtype str, expected numeric",
    }


def test_prepare_adds_derived_columns_on_a_fresh_index(clean_tables):
    frame = clean_tables["market_bars"].set_index(
        pd.Index(range(10, 10 + len(clean_tables["market_bars"])))
    )
    prepared = prepare(CONTRACTS["market_bars"], frame)
    assert isinstance(prepared.frame.index, pd.RangeIndex)
    derived = {c for c in prepared.frame.columns if c.startswith("chk_")}
    assert derived == {"chk_ts_step_s", "chk_intraday_gap_min", "chk_close_jump_sigmas"}
    assert prepared.frame["chk_intraday_gap_min"].max() == 5.0


def test_prepare_drops_columns_outside_the_schema(clean_tables):
    prepared = prepare(CONTRACTS["executions"], clean_tables["executions"])
    assert "regime" not in prepared.frame.columns
