"""run_contracts on real Great Expectations: clean data passes, every critical check
has a corrupted copy that fails it and is named in the failure message, warnings do
not fail the report."""

import dataclasses
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from expectations import CONTRACTS, executions, market_bars  # noqa: E402
from models import family_names, get_family  # noqa: E402
from models.impact import ImpactFamily  # noqa: E402
from models.impact.features import FEATURE_INPUTS  # noqa: E402
from synthetic import SynthConfig, generate  # noqa: E402
from tests.validation.contract_corruptions import (  # noqa: E402
    CASES,
    B,
    R,
    Tables,
    X,
    edit,
    fill_far_from_arrival,
    set_rows,
    synthetic,
)
from validation.data_contracts import ContractReport, run_contracts  # noqa: E402

CONFIG = SynthConfig(orders=20_000, days=10, assets=5, seed=11)


@pytest.fixture(scope="module")
def tables() -> Tables:
    """Clean tables, generated once; tests copy before corrupting."""
    return generate(CONFIG).as_dict()


@pytest.fixture(scope="module")
def clean_report(tables) -> ContractReport:
    return run_contracts(tables)


def test_every_critical_check_has_a_failing_corruption():
    covered = {(c.table, name) for c in CASES for name in c.fails}
    critical = {
        (table, spec.name)
        for table, contract in CONTRACTS.items()
        for spec in contract.checks
        if spec.severity == "critical"
    }
    assert critical - covered == set()


@pytest.mark.parametrize("corruption", CASES, ids=lambda c: c.id)
def test_corruption_fails_its_critical_checks(tables, corruption):
    report = run_contracts(corruption.corrupt(tables), [corruption.table])
    failed = {c.check for c in report.critical_failures}
    assert not report.passed
    assert corruption.fails <= failed, report.failure_message()
    assert failed <= corruption.fails | corruption.may_also_fail, report.failure_message()
    message = report.failure_message()
    contract = CONTRACTS[corruption.table]
    for name in corruption.fails:
        columns = ",".join(contract.check(name).columns) or "*"
        assert f"{corruption.table}.{columns} [{name}]: " in message
        assert contract.check(name).expectation_type in message


# --- clean data, warnings --------------------------------------------------------------


def test_clean_data_passes_with_no_failures(clean_report, tables):
    assert clean_report.passed
    assert clean_report.critical_failures == []
    assert clean_report.warnings == []
    assert clean_report.skipped == []
    assert {run.table: run.rows for run in clean_report.tables} == {
        name: len(frame) for name, frame in tables.items()
    }
    families = [get_family(name) for name in family_names()]
    # every contract's checks, and two pre-trade checks per family trained on a table
    expected = sum(len(c.checks) for c in CONTRACTS.values()) + 2 * sum(
        family.table in tables for family in families
    )
    assert len(clean_report.checks) == expected
    assert clean_report.result(X, "execution_impact_features_pre_trade").status == "passed"
    assert all(c.success and c.status == "passed" for c in clean_report.checks)
    assert clean_report.failure_message().startswith("Data contracts passed")


RELAXED_FILL = {X: executions.contract(max_fill_deviation=0.9)}


@pytest.mark.parametrize(
    ("table", "corrupt", "warning", "contracts"),
    [
        (B, synthetic("stale_feed"), "no_stale_feed", None),
        (R, set_rows(R, "response_ms", 1e6), "response_ms_plausible", None),
        (R, set_rows(R, "quoted_spread_bps", 900.0), "quoted_spread_bps_plausible", None),
        (X, set_rows(X, "daily_vol", 0.5), "daily_vol_plausible", None),
        (X, set_rows(X, "spread_bps", 800.0), "spread_bps_plausible", None),
        # 8000 bps, consistent with the prices; the fill bound is relaxed to isolate the warning
        (X, edit(X, fill_far_from_arrival), "shortfall_bps_plausible", RELAXED_FILL),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_warning_checks_do_not_fail_the_report(tables, table, corrupt, warning, contracts, caplog):
    with caplog.at_level(logging.WARNING, logger="validation.data_contracts"):
        report = run_contracts(corrupt(tables), [table], contracts=contracts)
    assert report.passed, report.failure_message()
    assert [w.check for w in report.warnings] == [warning]
    assert report.warnings[0].severity == "warning"
    assert f"[{warning}]" in caplog.text


def test_stale_feed_warning_names_the_gap(tables):
    report = run_contracts(synthetic("stale_feed")(tables), [B])
    stale = report.result(B, "no_stale_feed")
    assert stale.status == "failed" and stale.unexpected_count == 1
    assert stale.examples[0]["chk_intraday_gap_min"] == 125.0
    assert stale.examples[0]["asset"] == "A000"


# --- messages and reports --------------------------------------------------------------


def test_failure_message_names_check_column_and_counts(tables):
    report = run_contracts(synthetic("negative_spread")(tables), [X])
    assert report.failure_message().splitlines()[1].strip() == (
        "executions.spread_bps [spread_bps_non_negative]: expect_column_values_to_be_between "
        "(spread_bps >= 0) failed on 5 of 20000 rows (e.g. -3.2, -3.2, -3.2)"
    )
    failure = report.critical_failures[0]
    assert failure.unexpected_count == 5 and failure.element_count == 20_000
    assert failure.unexpected_percent == pytest.approx(100 * 5 / 20_000)
    assert len(failure.examples) == 3 and "order_id" in failure.examples[0]


def test_missing_column_is_one_clear_failure_not_a_crash(tables):
    report = run_contracts(synthetic("missing_column")(tables), [X])
    assert [c.check for c in report.critical_failures] == ["daily_vol_present"]
    assert "executions.daily_vol [daily_vol_present]" in report.failure_message()
    assert "column is missing" in report.failure_message()
    skipped = {c.check: c.detail for c in report.skipped}
    assert set(skipped) == {
        "daily_vol_dtype",
        "daily_vol_not_null",
        "daily_vol_is_fraction",
        "daily_vol_plausible",
        "execution_impact_features_read_declared_inputs",
    }
    assert all("daily_vol missing" in detail for detail in skipped.values())


def test_wrong_dtype_reports_observed_and_expected(tables):
    def text_qty(frame: pd.DataFrame) -> None:
        frame["qty"] = frame["qty"].astype(object)
        frame.loc[0, "qty"] = "12"

    report = run_contracts(edit(X, text_qty)(tables), [X])
    failure = report.result(X, "qty_dtype")
    assert failure.status == "failed" and failure.observed_value == "object"
    assert "qty is a number" in failure.message()
    assert report.result(X, "qty_positive").status == "skipped"


def test_fill_price_wrong_side_example_shows_the_prices(tables):
    report = run_contracts(synthetic("fill_price_wrong_side")(tables), [X])
    failure = report.result(X, "shortfall_matches_prices")
    example = failure.examples[0]
    assert example["side"] == "buy"
    assert example["avg_fill_px"] == pytest.approx(0.9 * example["arrival_mid"])
    assert example["chk_shortfall_gap_bps"] > 900


def test_summary_is_json_serialisable_with_counts_and_timing(tables):
    report = run_contracts(synthetic("crossed_book")(tables))
    summary = json.loads(json.dumps(report.summary()))
    assert summary["passed"] is False
    assert summary["critical_failures"] == 1
    assert summary["by_severity"]["critical"]["failed"] == 1
    assert summary["tables"]["market_bars"]["rows"] == len(tables["market_bars"])
    assert summary["tables"]["executions"]["seconds"] > 0
    assert summary["tables"]["executions"]["rows_per_second"] > 0
    [failing] = summary["failing_checks"]
    assert failing["check"] == "ask_ge_bid" and failing["columns"] == ["ask", "bid"]
    assert failing["unexpected_count"] == 5


def test_to_json_holds_every_check(tables):
    report = run_contracts(synthetic("shortfall_as_fraction")(tables), [X])
    document = json.loads(report.to_json())
    assert len(document["checks"]) == len(CONTRACTS[X].checks) + 2  # and the family's two
    unit = next(c for c in document["checks"] if c["check"] == "shortfall_unit_is_bps")
    assert unit["success"] is False and unit["observed_value"] < 0.01


def test_to_html_is_self_contained_with_failures_highlighted(tables):
    report = run_contracts(synthetic("crossed_book")(synthetic("stale_feed")(tables)))
    page = report.to_html()
    assert page.startswith("<!DOCTYPE html>")
    for table in CONTRACTS:
        assert f"<h2>{table}</h2>" in page
    assert page.count('class="failed-critical"') == 1
    assert page.count('class="failed-warning"') == 1
    assert "ask_ge_bid" in page and "FAILED" in page
    for external in ("http://", "https://", "<script", "<link", "<img"):
        assert external not in page


# --- arguments and invariants -----------------------------------------------------------


def test_tables_to_check_limits_the_run(tables):
    report = run_contracts(tables, ["rfq"])
    assert [run.table for run in report.tables] == ["rfq"]
    assert {c.table for c in report.checks} == {"rfq"}


def test_tables_without_a_contract_are_ignored(tables):
    report = run_contracts({"rfq": tables["rfq"], "notes": pd.DataFrame({"a": [1]})})
    assert [run.table for run in report.tables] == ["rfq"]


@pytest.mark.parametrize(
    ("tables_to_check", "given", "match"),
    [
        (["orders"], ["rfq"], "tables_to_check must be among"),
        (["executions"], ["rfq"], "but tables has only"),
        (None, [], "at least one of"),
    ],
)
def test_bad_arguments_name_what_was_expected(tables, tables_to_check, given, match):
    with pytest.raises(ValueError, match=match):
        run_contracts({name: tables[name] for name in given}, tables_to_check)


def test_importing_the_module_does_not_import_great_expectations():
    root = Path(__file__).resolve().parents[2]
    code = "import sys, validation.data_contracts; assert 'great_expectations' not in sys.modules"
    env = {**os.environ, "PYTHONPATH": str(root)}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, env=env)


def test_inputs_are_not_modified(tables):
    before = {name: frame.copy() for name, frame in tables.items()}
    run_contracts(tables)
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(frame, before[name])


def test_custom_contract_overrides_the_default(tables):
    strict = {B: market_bars.contract(stale_gap_minutes=3)}
    report = run_contracts(tables, [B], contracts=strict)
    assert report.passed
    stale = report.result(B, "no_stale_feed")
    assert stale.status == "failed"
    assert stale.unexpected_count == len(tables[B]) - 5 * 10  # every bar but each day's first


def test_report_is_frozen(clean_report):
    with pytest.raises(dataclasses.FrozenInstanceError):
        clean_report.checks = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        clean_report.checks[0].success = False  # type: ignore[misc]


def test_markdown_lists_every_check_and_the_verdict(clean_report):
    text = clean_report.to_markdown()
    assert text.startswith("# Data contracts: PASSED")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + len(clean_report.checks)
    assert "| executions.spread_bps | spread_bps_non_negative | critical | passed |" in text


# --- features are pre-trade by contract ----------------------------------------------------


class _ReadsFillPrice(ImpactFamily):
    """Declares, honestly, a feature computed from the average fill price."""

    feature_inputs = {**FEATURE_INPUTS, "fill_return": ("avg_fill_px", "arrival_mid")}

    def features(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = super().features(frame)
        out["fill_return"] = (frame["avg_fill_px"] / frame["arrival_mid"]).to_numpy() - 1.0
        return out


class _DeclaresTrueVol(ImpactFamily):
    """Declares its volatility feature as the generator's same-day truth."""

    feature_inputs = {**FEATURE_INPUTS, "daily_vol": ("true_daily_vol",)}

    def features(self, frame: pd.DataFrame) -> pd.DataFrame:
        return super().features(frame).assign(daily_vol=frame["true_daily_vol"].to_numpy())


class _ReadsTrueVolSilently(ImpactFamily):
    """Declares the shipped inputs but its code reads the true same-day volatility."""

    def features(self, frame: pd.DataFrame) -> pd.DataFrame:
        return super().features(frame).assign(daily_vol=frame["true_daily_vol"].to_numpy())


class _ClaimsShortfallIsPreTrade(ImpactFamily):
    pre_trade_columns = (*ImpactFamily.pre_trade_columns, "shortfall_bps")


DECLARATION, BEHAVIOUR = (
    "execution_impact_features_pre_trade",
    "execution_impact_features_read_declared_inputs",
)


@pytest.mark.parametrize(
    ("family", "column", "check", "words"),
    [
        (_ReadsFillPrice(), "avg_fill_px", DECLARATION, "feature fill_return reads avg_fill_px"),
        (
            _DeclaresTrueVol(),
            "true_daily_vol",
            DECLARATION,
            "feature daily_vol reads true_daily_vol",
        ),
        (
            _ReadsTrueVolSilently(),
            "true_daily_vol",
            BEHAVIOUR,
            "the features read true_daily_vol, which feature_inputs does not declare",
        ),
        (
            _ClaimsShortfallIsPreTrade(),
            "shortfall_bps",
            DECLARATION,
            "pre_trade_columns lists shortfall_bps",
        ),
    ],
    ids=["declared-fill-price", "declared-true-vol", "undeclared-true-vol", "claimed-shortfall"],
)
def test_a_family_whose_features_read_a_post_trade_column_is_refused(
    tables, family, column, check, words
):
    report = run_contracts(tables, [X], families=[family])
    assert not report.passed
    failure = report.result(X, check)
    assert failure.status == "failed" and failure.severity == "critical"
    assert failure.columns == (column,)
    message = report.failure_message()
    assert f"executions.{column} [{check}]: " in message, message
    assert words in message and "executions contract declares post-trade" in message
    # the data itself is clean: the family's features are the only refusal
    assert {c.check for c in report.critical_failures} <= {DECLARATION, BEHAVIOUR}


def test_the_shipped_family_passes_and_each_run_checks_it_by_default(tables):
    report = run_contracts(tables, [X])
    for check in (DECLARATION, BEHAVIOUR):
        result = report.result(X, check)
        assert result.status == "passed", result.message()
        assert set(result.columns) == {c for cols in FEATURE_INPUTS.values() for c in cols}
    # a table no family trains on carries no family check
    assert not [c for c in run_contracts(tables, [B]).checks if "features" in c.check]


def test_a_family_whose_features_crash_on_the_data_is_an_error_not_a_crash(tables):
    class Crashes(ImpactFamily):
        def features(self, frame: pd.DataFrame) -> pd.DataFrame:
            raise ValueError("cannot price a negative horizon")

    report = run_contracts(tables, [X], families=[Crashes()])
    failure = report.result(X, BEHAVIOUR)
    assert failure.status == "error" and not report.passed
    assert "ValueError: cannot price a negative horizon" in report.failure_message()
