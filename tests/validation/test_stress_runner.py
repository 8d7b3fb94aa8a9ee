"""Tests of stress runs: orders validation, metrics, the report, plots, the library once per run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

import validation.stress.runner as runner
from tests.validation.stress_books import example_orders
from validation.stress import (
    GATE_STATISTICS,
    Scenario,
    StressConfig,
    StressInputError,
    StressReport,
    gate_table,
    load_scenarios,
    run_scenario,
    run_stress,
    trace_order,
    validate_orders,
)
from validation.stress.metrics import DISTRIBUTION_UNITS, Distribution, ScenarioMetrics
from validation.stress.plots import plot_path_trace, plot_shortfall_distributions
from validation.stress.provenance import ENGINE_DIRECTORY, engine_sha256, source_sha256


# --- orders ------------------------------------------------------------------------------------
def test_orders_validation_lists_problems_with_ids() -> None:
    orders = example_orders("champion")
    with pytest.raises(StressInputError, match=r"missing required column\(s\) \['adv'\]"):
        validate_orders(orders.drop(columns="adv"))
    bad = orders.assign(spread_bps=[-3.2, 1.0, -3.2], side=["sell", "hold", "buy"])
    with pytest.raises(StressInputError) as info:
        validate_orders(bad)
    msg = str(info.value)
    assert "spread_bps must be >= 0, got -3.2 in 2 rows (order_id: blk-eq-1, blk-eq-3)" in msg
    assert "side must be 'buy' or 'sell' (or +1/-1), got 'hold' in 1 row" in msg
    late = orders.assign(start_minute=[300.0, 0.0, 0.0])
    with pytest.raises(StressInputError, match=r"start_minute \+ horizon_minutes must be <= 390"):
        validate_orders(late)
    with pytest.raises(StressInputError, match="participation is required for style 'pov'"):
        validate_orders(orders.assign(participation=np.nan))
    ok = validate_orders(orders)
    assert list(ok["style"]) == ["vwap", "vwap", "pov"] and list(ok["side"]) == [-1.0, 1.0, -1.0]


# --- metrics -----------------------------------------------------------------------------------
def test_metrics_are_sane_and_json_ready() -> None:
    cfg = StressConfig(n_paths=600, seed=3)
    result = run_scenario(example_orders("champion"), "baseline", cfg, model="champion")
    m = result.metrics
    for dist in (m.shortfall_bps, m.shortfall_ccy):
        assert dist.p50 <= dist.p95 <= dist.cvar95
    assert m.shortfall_bps.mean == pytest.approx(
        m.execution_cost_bps.mean + m.completion_cost_bps.mean
    )
    orders = example_orders("champion")
    notional = float((orders["quantity"] * orders["arrival_price"]).sum())
    assert np.allclose(result.book_cost_bps, result.book_cost / notional * 1e4)
    assert 0 <= m.information_leakage <= 1
    assert all(0 <= v <= 1 for v in m.control_rates.values())
    assert m.realised_participation_5min.p95 <= cfg.controls.max_participation + 1e-12
    assert set(m.risk_metrics) == set(cfg.risk_levels)
    for risk in m.risk_metrics.values():
        assert 0 <= risk.action_rate <= risk.alert_rate <= 1
    for oid, row in m.cost_error_by_order.items():
        assert row["error_bps"] == pytest.approx(row["realised_mean_bps"] - row["predicted_bps"])
        assert oid.startswith("blk-eq-")
    payload = json.dumps(result.to_dict())
    assert "shortfall_bps" in payload and "NaN" not in payload
    frame = result.orders_frame()
    assert len(frame) == 3 and {
        "cost_error_bps",
        "completion_mean_share",
        "killed_fraction",
    } <= set(frame.columns)


def test_summary_is_tidy() -> None:
    cfg = StressConfig(n_paths=64)
    models = {"champion": example_orders("champion"), "challenger": example_orders("challenger")}
    report = run_stress(models, ["baseline", "spread_blowout"], cfg)
    tidy = report.summary()
    assert list(tidy.columns) == ["scenario", "model", "metric", "statistic", "unit", "value"]
    assert set(tidy["scenario"]) == {"baseline", "spread_blowout"}
    assert not tidy.duplicated(["scenario", "model", "metric", "statistic"]).any()
    assert report.wide().shape[0] == 4
    json.dumps(report.to_dict())


def test_summary_units_cover_every_distribution_of_the_metrics() -> None:
    distributions = [
        name
        for name, kind in ScenarioMetrics.__annotations__.items()
        if kind == Distribution.__name__
    ]
    assert list(DISTRIBUTION_UNITS) == distributions


# --- plots -------------------------------------------------------------------------------------
def test_plots_return_figures_and_write_png(tmp_path) -> None:
    cfg = StressConfig(n_paths=64)
    models = {"champion": example_orders("champion"), "challenger": example_orders("challenger")}
    report = run_stress(models, ["baseline", "vol_spike"], cfg)
    fig = plot_shortfall_distributions(report, path=tmp_path / "dist.png")
    assert isinstance(fig, Figure) and (tmp_path / "dist.png").stat().st_size > 10_000
    trace = trace_order(models["champion"], "vol_spike", cfg, path=1)
    assert trace.events["slippage_guard"].size > 0  # controls fire in the vol spike
    fig = plot_path_trace(trace, path=tmp_path / "trace.png")
    assert isinstance(fig, Figure) and (tmp_path / "trace.png").stat().st_size > 10_000


def test_run_stress_refuses_mismatched_books() -> None:
    champ = example_orders("champion")
    other = champ.assign(order_id=["x", "y", "z"])
    with pytest.raises(StressInputError, match="same stress orders"):
        run_stress({"a": champ, "b": other}, ["baseline"], StressConfig(n_paths=8))
    with pytest.raises(StressInputError, match="max_participation must be <= 1, got 2"):
        StressConfig(controls={"max_participation": 2})


def test_importing_validation_stress_does_not_import_matplotlib() -> None:
    root = Path(__file__).resolve().parents[2]
    code = "import validation.stress, sys; assert 'matplotlib' not in sys.modules"
    env = {**os.environ, "PYTHONPATH": str(root)}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, env=env)


def _books() -> dict:
    return {"champion": example_orders("champion"), "challenger": example_orders("challenger")}


def test_run_stress_loads_the_library_once_and_records_its_hash(monkeypatch) -> None:
    loads = []

    def counting_load(*args, **kwargs):
        loads.append(args)
        return load_scenarios(*args, **kwargs)

    monkeypatch.setattr(runner, "load_scenarios", counting_load)
    cfg = StressConfig(n_paths=16)
    report = run_stress(_books(), ["baseline", "vol_spike"], cfg)
    assert len(loads) == 1  # names resolved in one loaded library, not once per scenario
    shipped = load_scenarios()
    assert report.to_dict()["scenario_library_sha256"] == shipped.sha256
    again = run_stress(_books(), ["baseline"], cfg, library=shipped)
    assert len(loads) == 1 and again.scenario_library_sha256 == shipped.sha256
    assert run_stress(_books(), shipped.select(["baseline"]), cfg).scenario_library_sha256
    with pytest.raises(StressInputError, match="pass one library"):
        run_stress(_books(), shipped.select(["baseline"]), cfg, library=shipped)


def test_names_are_looked_up_in_the_library_given(tmp_path) -> None:
    path = tmp_path / "lib.yaml"
    path.write_text("version: 1\nscenarios:\n  calm:\n    description: calm market\n")
    library = load_scenarios(path)
    cfg = StressConfig(n_paths=16)
    report = run_stress(_books(), ["calm"], cfg, library=library)
    assert report.scenarios == ["calm"]
    assert report.to_dict()["scenario_library_sha256"] == library.sha256
    assert run_scenario(example_orders(), "calm", cfg, library=library).scenario == "calm"
    assert trace_order(example_orders(), "calm", cfg, library=library).cost == pytest.approx(
        trace_order(example_orders(), library["calm"], cfg).cost
    )
    # A scenario of no library: the report does not claim one.
    ad_hoc = Scenario(name="ad_hoc", description="not from a file")
    assert run_stress(_books(), [ad_hoc], cfg, library=library).scenario_library_sha256 is None
    assert run_stress(_books(), [ad_hoc], cfg).to_dict()["scenario_library_sha256"] is None


def test_gate_table_reads_every_gate_metric_from_the_report() -> None:
    report = run_stress(_books(), ["baseline"], StressConfig(n_paths=32))
    table = gate_table(report)
    assert list(table.columns) == ["scenario", "model", *GATE_STATISTICS]
    assert len(table) == 2 and table.notna().all().all()
    assert set(GATE_STATISTICS.values()) <= set(report.wide().columns)
    wide = report.wide().reset_index()
    for name, column in GATE_STATISTICS.items():
        np.testing.assert_array_equal(table[name].to_numpy(), wide[column].to_numpy())


def test_per_scenario_reports_merge_into_one() -> None:
    library, cfg = load_scenarios(), StressConfig(n_paths=16)
    parts = [
        run_stress(_books(), [name], cfg, library=library) for name in ("baseline", "vol_spike")
    ]
    merged = StressReport.merge(parts)
    assert merged.scenarios == ["baseline", "vol_spike"]
    assert merged.scenario_library_sha256 == library.sha256
    whole = run_stress(_books(), ["baseline", "vol_spike"], cfg, library=library)
    np.testing.assert_array_equal(
        merged["vol_spike", "champion"].book_cost_bps, whole["vol_spike", "champion"].book_cost_bps
    )
    other = run_stress(_books(), ["baseline"], StressConfig(n_paths=32), library=library)
    with pytest.raises(StressInputError, match="share configuration"):
        StressReport.merge([parts[0], other])
    with pytest.raises(StressInputError, match="at least one"):
        StressReport.merge([])


def test_the_engine_hash_names_its_source(tmp_path) -> None:
    copy = tmp_path / "engine"
    shutil.copytree(ENGINE_DIRECTORY, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert source_sha256(copy) == engine_sha256()
    kernels = copy / "kernels.py"
    kernels.write_text(kernels.read_text() + "\n# a later release\n")
    assert source_sha256(copy) != engine_sha256()
    report = run_stress(_books(), ["baseline"], StressConfig(n_paths=16))
    assert report.to_dict()["engine_sha256"] == engine_sha256()
