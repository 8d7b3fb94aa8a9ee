"""run_contracts on real Great Expectations: clean data passes, every critical check
has a corrupted copy that fails it and is named in the failure message, warnings do
not fail the report."""

import dataclasses
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from expectations import CONTRACTS, executions, market_bars  # noqa: E402
from synthetic import SynthConfig, generate  # noqa: E402
from synthetic.corruption import inject  # noqa: E402
from validation.data_contracts import ContractReport, run_contracts  # noqa: E402

Tables = dict[str, pd.DataFrame]
CONFIG = SynthConfig(orders=20_000, days=10, assets=5, seed=11)


@pytest.fixture(scope="module")
def tables() -> Tables:
    """Clean tables, generated once; tests copy before corrupting."""
    return generate(CONFIG).as_dict()


@pytest.fixture(scope="module")
def clean_report(tables) -> ContractReport:
    return run_contracts(tables)


# --- corruptions ------------------------------------------------------------------------


def synthetic(kind: str) -> Callable[[Tables], Tables]:
    """A corruption kind of the generator, applied to a copy of the clean tables."""

    def corrupt(tables: Tables) -> Tables:
        return inject(tables, (kind,), np.random.default_rng(5), 5)

    return corrupt


def edit(table: str, change: Callable[[pd.DataFrame], None]) -> Callable[[Tables], Tables]:
    """Apply ``change`` in place to a copy of one table."""

    def corrupt(tables: Tables) -> Tables:
        frame = tables[table].copy()
        change(frame)
        return {**tables, table: frame}

    return corrupt


def set_rows(table: str, column: str, value, rows=(3, 11, 17)) -> Callable[[Tables], Tables]:
    def change(frame: pd.DataFrame) -> None:
        frame.loc[list(rows), column] = value(frame.loc[list(rows)]) if callable(value) else value

    return edit(table, change)


def empty(table: str) -> Callable[[Tables], Tables]:
    return lambda tables: {**tables, table: tables[table].iloc[:0]}


def drop_schema(table: str) -> Callable[[Tables], Tables]:
    def corrupt(tables: Tables) -> Tables:
        frame = tables[table].drop(columns=list(CONTRACTS[table].schema))
        return {**tables, table: frame.assign(unrelated=0)}

    return corrupt


def _wrong_kind(series: pd.Series, kind: str) -> pd.Series:
    if kind == "numeric":
        return series.astype(str)
    if kind == "string":
        return pd.Series(np.arange(len(series)), index=series.index)
    if kind == "timestamp_tz":
        return series.dt.tz_localize(None)
    return series.astype(int)  # boolean


def mistype_schema(table: str) -> Callable[[Tables], Tables]:
    def change(frame: pd.DataFrame) -> None:
        for column, kind in CONTRACTS[table].schema.items():
            frame[column] = _wrong_kind(frame[column], kind)

    return edit(table, change)


def null_in_every_column(table: str) -> Callable[[Tables], Tables]:
    def change(frame: pd.DataFrame) -> None:
        for row, column in enumerate(CONTRACTS[table].schema):
            if frame[column].dtype == bool:
                frame[column] = frame[column].astype("boolean")
            frame.loc[10 * row + 1, column] = None

    return edit(table, change)


def duplicate_bar_key(frame: pd.DataFrame) -> None:
    frame.loc[[101, 205], "ts"] = frame.loc[[100, 204], "ts"].to_numpy()


def reuse_dealer(frame: pd.DataFrame) -> None:
    frame.loc[[1, 6], "dealer"] = frame.loc[[0, 5], "dealer"].to_numpy()


def fill_far_from_arrival(frame: pd.DataFrame) -> None:
    """Fills 80 % above arrival, with the shortfall the prices imply: only the bound fails."""
    rows = [3, 11, 17]
    sign = np.where(frame.loc[rows, "side"] == "buy", 1.0, -1.0)
    frame.loc[rows, "avg_fill_px"] = frame.loc[rows, "arrival_mid"] * 1.8
    frame.loc[rows, "shortfall_bps"] = sign * 0.8 * 1e4


def low_above_open_and_close(frame: pd.DataFrame) -> None:
    rows = [3, 11, 17]
    frame.loc[rows, "low"] = frame.loc[rows, ["open", "close"]].max(axis=1) * 1.01


@dataclass(frozen=True)
class Case:
    """A corrupted copy, the critical checks it must fail, and any it may also fail."""

    id: str
    table: str
    corrupt: Callable[[Tables], Tables]
    fails: frozenset[str]
    may_also_fail: frozenset[str] = field(default_factory=frozenset)


def case(id_, table, corrupt, fails, may_also_fail=()) -> Case:
    return Case(id_, table, corrupt, frozenset(fails), frozenset(may_also_fail))


def _schema_names(table: str, suffix: str) -> set[str]:
    return {f"{column}_{suffix}" for column in CONTRACTS[table].schema}


def _value_checks(table: str) -> set[str]:
    schema = set().union(*(_schema_names(table, s) for s in ("present", "dtype", "not_null")))
    return {c.name for c in CONTRACTS[table].checks if c.severity == "critical"} - schema


X, B, R = "executions", "market_bars", "rfq"
CASES = [
    # executions: the generator's corruption kinds
    case("null_qty", X, synthetic("null_qty"), {"qty_not_null"}),
    case("duplicate_order_id", X, synthetic("duplicate_order_id"), {"order_id_unique"}),
    case("end_before_start", X, synthetic("end_before_start"), {"end_after_start"}),
    case("negative_spread", X, synthetic("negative_spread"), {"spread_bps_non_negative"}),
    case(
        "participation_out_of_range",
        X,
        synthetic("participation_out_of_range"),
        {"participation_in_unit_interval"},
    ),
    case("fill_wrong_side", X, synthetic("fill_price_wrong_side"), {"shortfall_matches_prices"}),
    case(
        "shortfall_as_fraction",
        X,
        synthetic("shortfall_as_fraction"),
        {"shortfall_unit_is_bps", "shortfall_matches_prices"},
    ),
    case("bad_side", X, synthetic("bad_side"), {"side_valid"}),
    case("missing_daily_vol", X, synthetic("missing_column"), {"daily_vol_present"}),
    # executions: edits of a copy
    case("qty_zero", X, set_rows(X, "qty", 0.0), {"qty_positive"}),
    case(
        "arrival_zero",
        X,
        set_rows(X, "arrival_mid", 0.0),
        {"arrival_mid_positive"},
        {"fill_price_near_arrival", "shortfall_matches_prices"},
    ),
    case(
        "fill_zero",
        X,
        set_rows(X, "avg_fill_px", 0.0),
        {"avg_fill_px_positive"},
        {"fill_price_near_arrival", "shortfall_matches_prices"},
    ),
    case("adv_negative", X, set_rows(X, "adv", -1.0), {"adv_positive"}),
    case(
        "daily_vol_in_percent",
        X,
        set_rows(X, "daily_vol", lambda f: f["daily_vol"] * 100),
        {"daily_vol_is_fraction"},
    ),
    case("fill_far_from_arrival", X, edit(X, fill_far_from_arrival), {"fill_price_near_arrival"}),
    # market_bars: the generator's corruption kinds
    case("crossed_book", B, synthetic("crossed_book"), {"ask_ge_bid"}),
    case("ohlc_inconsistent", B, synthetic("ohlc_inconsistent"), {"high_ge_open", "high_ge_close"}),
    case("bars_out_of_order", B, synthetic("bars_out_of_order"), {"bars_time_ordered"}),
    case("price_spike", B, synthetic("price_spike"), {"no_price_spike"}),
    case("negative_volume", B, synthetic("negative_volume"), {"volume_non_negative"}),
    # market_bars: edits of a copy
    case(
        "duplicate_bar_key",
        B,
        edit(B, duplicate_bar_key),
        {"bar_key_unique", "bars_time_ordered"},
        {"no_price_spike"},
    ),
    case("low_above_body", B, edit(B, low_above_open_and_close), {"open_ge_low", "close_ge_low"}),
    case("open_zero", B, set_rows(B, "open", 0.0), {"open_positive"}, {"open_ge_low"}),
    case(
        "high_zero",
        B,
        set_rows(B, "high", 0.0),
        {"high_positive"},
        {"high_ge_open", "high_ge_close"},
    ),
    case("low_zero", B, set_rows(B, "low", 0.0), {"low_positive"}),
    case("close_zero", B, set_rows(B, "close", 0.0), {"close_positive"}, {"close_ge_low"}),
    case("bid_zero", B, set_rows(B, "bid", 0.0), {"bid_positive"}),
    case("ask_zero", B, set_rows(B, "ask", 0.0), {"ask_positive"}, {"ask_ge_bid"}),
    case("negative_depth", B, set_rows(B, "depth", -1.0), {"depth_non_negative"}),
    # rfq: edits of a copy
    case("reused_dealer", R, edit(R, reuse_dealer), {"rfq_dealer_unique"}),
    case("rfq_bad_side", R, set_rows(R, "side", "hold"), {"side_valid"}),
    case("rfq_size_zero", R, set_rows(R, "size", 0.0), {"size_positive"}),
    case(
        "negative_quote",
        R,
        set_rows(R, "quoted_spread_bps", -1.0),
        {"quoted_spread_bps_non_negative"},
    ),
    case("negative_response", R, set_rows(R, "response_ms", -5.0), {"response_ms_non_negative"}),
]
# per table: no rows; and the schema checks of every column: all columns missing, all
# mistyped, a null in every column
for _table in CONTRACTS:
    CASES += [
        case(
            f"{_table}-empty", _table, empty(_table), {"table_not_empty"}, {"shortfall_unit_is_bps"}
        ),
        case(
            f"{_table}-no_schema_column",
            _table,
            drop_schema(_table),
            _schema_names(_table, "present"),
        ),
        case(
            f"{_table}-all_mistyped", _table, mistype_schema(_table), _schema_names(_table, "dtype")
        ),
        case(
            f"{_table}-null_everywhere",
            _table,
            null_in_every_column(_table),
            _schema_names(_table, "not_null"),
            _value_checks(_table),
        ),
    ]


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
    expected = sum(len(c.checks) for c in CONTRACTS.values())
    assert len(clean_report.checks) == expected
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
    assert len(document["checks"]) == len(CONTRACTS[X].checks)
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
