import numpy as np
import pandas as pd
import pytest
from own_move import own_move_bps, own_window
from pydantic import ValidationError

from synthetic import CORRUPTION_KINDS, SynthConfig, generate, write
from synthetic.ground_truth import (
    VOLUME_VOL_ELASTICITY,
    order_expected_cost_bps,
    permanent_impact,
    window_volume_share,
)
from synthetic.market import DAY_DRIFT_SHARE, MARKET_SHARE, PRIOR_SESSION_SHARE, VOL_EWMA_DECAY

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
    "shares_outstanding",
    "daily_vol",
    "spread_bps",
    "participation",
    "urgency",
    "shortfall_bps",
    "regime",
    "true_daily_vol",
    "true_day_volume",
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


def _asset_day(frame: pd.DataFrame, time_column: str) -> pd.DataFrame:
    return frame.assign(day=frame[time_column].dt.normalize())


def _half_permanent_bps(ex: pd.DataFrame) -> np.ndarray:
    size, theta = ex["qty"] / ex["adv"], ex["shares_outstanding"] / ex["adv"]
    return 1e4 * permanent_impact(ex["true_daily_vol"], size, theta).to_numpy() / 2.0


def test_shortfall_is_expected_cost_plus_the_bar_path_plus_small_noise(data):
    """Shortfall = the law's temporary impact and half spread + the asset's own mid move + noise.

    The bars carry each order's footprint, so the asset's own move includes the half of the
    order's permanent impact a linear schedule meets; what is left is the within-bar
    residual, the window volume's noise on the temporary impact and the rare jump: zero
    mean, and small next to the move itself.
    """
    ex = data.executions
    own_move = own_move_bps(ex, data.market_bars)
    impact_and_spread = order_expected_cost_bps(ex) - _half_permanent_bps(ex)
    left = ex["shortfall_bps"].to_numpy() - own_move - impact_and_spread
    stderr = left.std() / np.sqrt(len(left))
    assert abs(left.mean()) < 4 * stderr
    assert np.median(np.abs(left)) < 3.0
    assert np.median(np.abs(own_move)) > 10 * np.median(np.abs(left))


def test_the_bars_carry_each_orders_own_footprint():
    """Blocks move their asset's mid: a linear schedule meets half their permanent impact.

    Averaged over orders of both sides, the market's news cancels and the own move is the
    footprint; for blocks of 5 % of ADV or more it is a third or more of their expected cost.
    """
    data = generate(SynthConfig(orders=60_000, days=20, assets=5, seed=8))
    ex = data.executions
    own_move = own_move_bps(ex, data.market_bars)
    half_permanent = _half_permanent_bps(ex)
    blocks = (ex["qty"] / ex["adv"] >= 0.05).to_numpy()
    stderr = own_move[blocks].std() / np.sqrt(blocks.sum())
    assert abs(own_move[blocks].mean() - half_permanent[blocks].mean()) < 4 * stderr
    assert half_permanent[blocks].mean() > 5 * stderr
    assert half_permanent[blocks].mean() > order_expected_cost_bps(ex)[blocks].mean() / 3


def test_cost_depends_on_the_volume_the_window_traded(data):
    """An order pays more temporary impact when its window traded less than expected."""
    ex = data.executions
    volume = own_window(ex, data.market_bars, "volume", "sum")
    minutes = (ex["end_ts"] - ex["start_ts"]).dt.total_seconds() / 60.0
    since_open = ex["start_ts"] - ex["start_ts"].dt.normalize() - pd.Timedelta("14h30min")
    share = window_volume_share(since_open.dt.total_seconds() / 23_400.0, minutes / 390.0)
    surprise = np.log(volume / (ex["true_day_volume"] * share))
    own_move = own_move_bps(ex, data.market_bars)
    left = ex["shortfall_bps"] - own_move - order_expected_cost_bps(ex) + _half_permanent_bps(ex)
    quiet, busy = left[surprise < -0.1], left[surprise > 0.1]
    assert quiet.median() > busy.median() + 0.5
    assert abs(surprise.mean()) < 0.02  # the window's expected volume is the bars' mean


def test_volatile_days_trade_more(data):
    bars = _asset_day(data.market_bars, "ts")
    regime = _asset_day(data.executions, "start_ts").groupby("day")["regime"].first()
    daily = bars.groupby(["asset", "day"])["volume"].sum().reset_index()
    daily["regime"] = regime.reindex(daily["day"]).to_numpy()
    by_regime = daily.groupby("regime")["volume"].mean()
    expected = 2.0**VOLUME_VOL_ELASTICITY
    assert by_regime["volatile"] / by_regime["calm"] == pytest.approx(expected, rel=0.1)


def _realised(bars: pd.DataFrame) -> pd.DataFrame:
    """Bars with their day and squared log return (a bar's share of realised variance)."""
    return _asset_day(bars, "ts").assign(r2=np.log(bars["close"] / bars["open"]) ** 2)


def _trailing_at_the_open(ex: pd.DataFrame, bars: pd.DataFrame) -> pd.Series:
    """``daily_vol`` of the orders that start at the open, one value per asset-day."""
    opening = bars.groupby(bars["ts"].dt.normalize())["ts"].min()
    at_open = ex[ex["start_ts"].to_numpy() == opening.loc[ex["day"]].to_numpy()]
    estimate = at_open.groupby(["asset", "day"])["daily_vol"].agg(["min", "max"])
    assert (estimate["min"] == estimate["max"]).all()  # one value per asset-day at the open
    return estimate["min"]


def test_daily_vol_at_the_open_is_the_trailing_estimate(data):
    """At the open ``daily_vol`` of day d+1 is the EWMA update with day d's realised variance.

    So it holds no information from its own day: the recursion is checked on the exported
    bars (realised variance = sum of squared bar log returns), exactly.
    """
    ex, bars = _asset_day(data.executions, "start_ts"), _realised(data.market_bars)
    variance = _trailing_at_the_open(ex, data.market_bars) ** 2
    realised = bars.groupby(["asset", "day"])["r2"].sum()
    checked = 0
    for asset in variance.index.get_level_values("asset").unique():
        v, rv = variance.loc[asset], realised.loc[asset]
        days = v.index.intersection(rv.index)
        for before, after in zip(days[:-1], days[1:], strict=True):
            if rv.index.get_loc(after) - rv.index.get_loc(before) == 1:
                expected = VOL_EWMA_DECAY * v[before] + (1 - VOL_EWMA_DECAY) * rv[before]
                assert v[after] == pytest.approx(expected, rel=1e-9)
                checked += 1
    assert checked >= 20
    by_regime = ex.groupby(["asset", "regime"])["true_daily_vol"].agg(["min", "max"])
    assert (by_regime["min"] == by_regime["max"]).all()  # the truth is the regime's level
    ratio = by_regime["min"].xs("volatile", level="regime") / by_regime["min"].xs(
        "calm", level="regime"
    )
    np.testing.assert_allclose(ratio.dropna(), 2.0)


def test_daily_vol_later_in_the_day_reads_the_whole_tape_before_the_order(data):
    """Every order's estimate is the trailing one scaled by the market's ratio so far.

    Recomputed from the exported bars that end before the order starts and the trailing
    estimates of every asset that day; and it follows the day's regime, which the trailing
    estimate cannot: its error to the truth shrinks once an hour of tape is seen.
    """
    ex, bars = _asset_day(data.executions, "start_ts"), _realised(data.market_bars)
    trailing = _trailing_at_the_open(ex, data.market_bars)
    n_assets, n_bars = bars["asset"].nunique(), bars.groupby(["asset", "day"]).size().iloc[0]
    complete = trailing.groupby("day").size() == n_assets  # days with every asset's value
    bars = bars[bars["day"].isin(complete[complete].index)]
    keys = pd.MultiIndex.from_arrays([bars["asset"], bars["day"]])
    scaled = bars["r2"] * n_bars / trailing.reindex(keys).to_numpy() ** 2
    ratio_seen = scaled.groupby([bars["day"], bars["ts"]]).sum().groupby(level="day").cumsum()
    sample = ex[ex["day"].isin(ratio_seen.index.get_level_values("day"))].sample(
        500, random_state=0
    )
    prior = PRIOR_SESSION_SHARE * n_bars
    for order in sample.itertuples():
        before = ratio_seen.loc[order.day]
        before = before[before.index < order.start_ts]
        seen_bars = len(before)
        ratio = (prior + (before.iloc[-1] if seen_bars else 0.0)) / (prior + n_assets * seen_bars)
        expected = trailing[(order.asset, order.day)] * np.sqrt(ratio)
        assert order.daily_vol == pytest.approx(expected, rel=1e-9)
    minutes = (ex["start_ts"] - ex.groupby("day")["start_ts"].transform("min")).dt.total_seconds()
    error = np.log(ex["daily_vol"] / ex["true_daily_vol"]) ** 2
    assert np.sqrt(error[minutes >= 3600].mean()) < 0.5 * np.sqrt(error[minutes == 0].mean())


@pytest.fixture(scope="module")
def wide_market():
    """Many asset-days and few orders: enough bars to measure the path's components."""
    return generate(SynthConfig(orders=1_000, days=100, assets=40, seed=17)).market_bars


def test_bar_path_has_market_wide_day_and_asset_components(wide_market):
    bars = _asset_day(wide_market, "ts")
    returns = np.log(bars["close"] / bars["open"])
    by_time = returns.groupby([bars["ts"], bars["asset"]]).sum().unstack("asset")
    corr = by_time.corr().to_numpy()
    mean_pairwise = corr[np.triu_indices_from(corr, k=1)].mean()
    # the market factor explains MARKET_SHARE of the intraday variance of every asset
    assert mean_pairwise == pytest.approx(MARKET_SHARE, abs=0.03)
    # the day's drift makes the two halves of a session move together: correlation
    # (w / 4) / ((1 - w) / 2 + w / 4) for a drift share w of the day's variance
    minute = bars["ts"].dt.hour * 60 + bars["ts"].dt.minute
    half = np.where(minute < minute.median(), "am", "pm")
    halves = returns.groupby([bars["asset"], bars["day"], half]).sum().unstack()
    expected = (DAY_DRIFT_SHARE / 4) / ((1 - DAY_DRIFT_SHARE) / 2 + DAY_DRIFT_SHARE / 4)
    observed = np.corrcoef(halves["am"], halves["pm"])[0, 1]
    assert observed == pytest.approx(expected, abs=0.05)
    assert observed > 0.03


def _horizon_minutes(frame: pd.DataFrame) -> pd.Series:
    return (frame["end_ts"] - frame["start_ts"]).dt.total_seconds() / 60.0


def test_horizons_follow_urgency_and_exploration_keeps_every_horizon_observed():
    cfg = SynthConfig(orders=40_000, days=20, assets=5, seed=9)
    explored = generate(cfg).executions
    greedy = generate(cfg.model_copy(update={"exploration_share": 0.0})).executions
    horizon = _horizon_minutes(explored)
    assert np.corrcoef(np.log(horizon), explored["urgency"])[0, 1] < -0.6
    # confounding: urgency (so a short horizon) comes with days more volatile than the
    # trailing estimate says
    by_regime = explored.groupby("regime")["urgency"].mean()
    assert by_regime["volatile"] > by_regime["calm"] + 0.1
    # overlap: without exploration urgent orders never trade over half a day; with it,
    # about exploration_share x P(log-uniform horizon > 195 min) of them do
    urgent = lambda f: f.loc[f["urgency"] > 0.8]  # noqa: E731
    assert (_horizon_minutes(urgent(greedy)) > 195).mean() < 0.002
    share = (_horizon_minutes(urgent(explored)) > 195).mean()
    assert share == pytest.approx(cfg.exploration_share * np.log(2) / np.log(78), rel=0.5)
    assert set(explored["urgency"].between(0, 1)) == {True}


def test_shares_outstanding_is_the_laws_theta(data):
    ex = data.executions
    per_asset = ex.groupby("asset")["shares_outstanding"].nunique()
    assert (per_asset == 1).all()
    turnover_inverse = ex["shares_outstanding"] / ex["adv"]
    assert turnover_inverse.between(50 - 1e-6, 500 + 1e-6).all()


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
    first = lambda f: f.loc[f["start_ts"].dt.normalize() == cutoff]  # noqa: E731
    assert late(shifted)["true_daily_vol"].mean() > 1.4 * late(base)["true_daily_vol"].mean()
    assert late(shifted)["shortfall_bps"].mean() > late(base)["shortfall_bps"].mean() + 5
    # the trailing estimate learns of the shift only from the next day on
    on_first = lambda f: first(f).groupby("asset")["daily_vol"].first()  # noqa: E731
    pd.testing.assert_series_equal(on_first(base), on_first(shifted))
    assert late(shifted)["daily_vol"].mean() > 1.1 * late(base)["daily_vol"].mean()
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
