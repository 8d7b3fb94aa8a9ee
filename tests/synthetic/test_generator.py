import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from synthetic import CORRUPTION_KINDS, SynthConfig, generate, write
from synthetic.ground_truth import expected_cost_bps
from vocabulary import SESSION_MINUTES

EXECUTION_COLUMNS = {
    "order_id",
    "asset",
    "side",
    "start_ts",
    "end_ts",
    "qty",
    "arrival_mid",
    "avg_fill_px",
    "adv",
    "daily_vol",
    "spread_bps",
    "participation",
    "shortfall_bps",
}
BAR_COLUMNS = {"ts", "asset", "open", "high", "low", "close", "volume", "bid", "ask", "depth"}


@pytest.fixture(scope="module")
def data():
    return generate(SynthConfig(orders=20_000, days=10, assets=5, seed=7))


def test_tables_have_documented_columns(data):
    assert EXECUTION_COLUMNS <= set(data.executions.columns)
    assert BAR_COLUMNS <= set(data.market_bars.columns)
    assert {"rfq_id", "dealer", "size", "quoted_spread_bps", "response_ms", "filled"} <= set(
        data.rfq.columns
    )
    assert len(data.executions) == 20_000


def test_same_seed_same_bytes(tmp_path):
    cfg = SynthConfig(orders=2_000, days=5, assets=3, seed=11)
    a = write(generate(cfg), tmp_path / "a")
    b = write(generate(cfg), tmp_path / "b")
    for name in a:
        assert a[name].read_bytes() == b[name].read_bytes()
    other = generate(SynthConfig(orders=2_000, days=5, assets=3, seed=12))
    assert not other.executions.equals(generate(cfg).executions)


def test_clean_data_is_internally_consistent(data):
    ex, bars = data.executions, data.market_bars
    assert ex["order_id"].is_unique
    assert (ex["end_ts"] > ex["start_ts"]).all()
    assert ex["participation"].between(0, 1, inclusive="right").all()
    sign = np.where(ex["side"] == "buy", 1.0, -1.0)
    recomputed = sign * (ex["avg_fill_px"] / ex["arrival_mid"] - 1.0) * 1e4
    np.testing.assert_allclose(recomputed, ex["shortfall_bps"], rtol=1e-9, atol=1e-9)
    assert (bars["bid"] <= bars["ask"]).all()
    assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()
    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
    per_asset = bars.groupby("asset")["ts"].apply(lambda s: s.is_monotonic_increasing)
    assert per_asset.all()


def test_shortfall_is_expected_cost_plus_zero_mean_noise(data):
    ex = data.executions
    # Without the turnover of each asset we bound the expected cost between its extremes.
    horizon = (ex["end_ts"] - ex["start_ts"]).dt.total_seconds() / (SESSION_MINUTES * 60)
    low = expected_cost_bps(ex["daily_vol"], ex["participation"], horizon, 50.0, ex["spread_bps"])
    high = expected_cost_bps(ex["daily_vol"], ex["participation"], horizon, 500.0, ex["spread_bps"])
    residual_low = (ex["shortfall_bps"] - high).mean()
    residual_high = (ex["shortfall_bps"] - low).mean()
    stderr = ex["shortfall_bps"].std() / np.sqrt(len(ex))
    assert residual_low - 4 * stderr < 0 < residual_high + 4 * stderr


def test_volume_curve_is_u_shaped(data):
    bars = data.market_bars
    minute = bars["ts"].dt.hour * 60 + bars["ts"].dt.minute
    by_minute = bars.groupby(minute)["volume"].mean()
    middle = by_minute.iloc[len(by_minute) // 2]
    assert by_minute.iloc[0] > 1.5 * middle and by_minute.iloc[-1] > 1.5 * middle


def test_regime_shift_raises_costs_after_the_shift_day():
    base = generate(SynthConfig(orders=40_000, days=20, assets=5, seed=3)).executions
    shifted = generate(
        SynthConfig(orders=40_000, days=20, assets=5, seed=3, shift_after_day=10)
    ).executions
    cutoff = pd.Timestamp("2026-01-05", tz="UTC") + pd.offsets.BDay(10)
    late = lambda f: f.loc[f["start_ts"] >= cutoff]  # noqa: E731
    early = lambda f: f.loc[f["start_ts"] < cutoff]  # noqa: E731
    assert late(shifted)["daily_vol"].mean() > 1.4 * late(base)["daily_vol"].mean()
    assert late(shifted)["shortfall_bps"].mean() > late(base)["shortfall_bps"].mean() + 5
    pd.testing.assert_frame_equal(early(base), early(shifted))


@pytest.mark.parametrize("kind", CORRUPTION_KINDS)
def test_each_corruption_changes_the_data(kind):
    cfg = SynthConfig(orders=1_000, days=3, assets=2, seed=5)
    clean = generate(cfg)
    dirty = generate(cfg.model_copy(update={"corruption": (kind,)}))
    changed = [
        name for name, frame in dirty.as_dict().items() if not frame.equals(clean.as_dict()[name])
    ]
    assert changed, f"{kind} left every table unchanged"


def test_config_rejects_bad_values():
    with pytest.raises(ValidationError, match="bar_minutes must divide 390"):
        SynthConfig(bar_minutes=7)
    with pytest.raises(ValidationError):
        SynthConfig(corruption=("not_a_defect",))
    with pytest.raises(ValidationError):
        SynthConfig(unknown_knob=1)
