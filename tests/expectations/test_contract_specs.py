"""The contracts as data: names, severities, schemas, dtype kinds; no GX needed."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import expectations
from expectations import CONTRACTS, SEVERITIES, CheckSpec, TableContract, check_table
from expectations.checks import between, schema_checks
from expectations.dtypes import COLUMN_KINDS, dtype_matches


def test_one_contract_per_data_asset():
    assert set(CONTRACTS) == {"executions", "market_bars", "rfq"}
    for name, contract in CONTRACTS.items():
        assert contract.table == name


@pytest.mark.parametrize("table", sorted(CONTRACTS))
def test_every_check_is_readable_data(table):
    contract = CONTRACTS[table]
    for spec in contract.checks:
        assert spec.severity in SEVERITIES
        assert spec.description.strip()
        assert spec.columns or spec.name == "table_not_empty", spec.name
        assert spec.expectation_type.startswith("expect_")
    records = contract.records()
    assert [r["check"] for r in records] == [c.name for c in contract.checks]
    assert set(records[0]) == {
        "table",
        "check",
        "columns",
        "severity",
        "expectation",
        "description",
    }


@pytest.mark.parametrize("table", sorted(CONTRACTS))
def test_schema_has_presence_kind_and_null_checks_per_column(table):
    contract = CONTRACTS[table]
    names = {c.name for c in contract.checks}
    for column in contract.schema:
        assert {f"{column}_present", f"{column}_dtype", f"{column}_not_null"} <= names
    assert contract.check(f"{next(iter(contract.schema))}_present").gate == "none"


@pytest.mark.parametrize("table", sorted(CONTRACTS))
def test_generator_output_matches_schema(clean_tables, table):
    frame = clean_tables[table]
    for column, kind in CONTRACTS[table].schema.items():
        assert column in frame.columns
        assert dtype_matches(frame[column].dtype, kind), (column, frame[column].dtype, kind)


def test_check_table_lists_every_check_with_severity():
    rows = check_table()
    assert len(rows) == sum(len(c.checks) for c in CONTRACTS.values())
    by_key = {(r["table"], r["check"]): r for r in rows}
    assert by_key[("market_bars", "no_stale_feed")]["severity"] == "warning"
    assert by_key[("market_bars", "ask_ge_bid")]["severity"] == "critical"
    assert by_key[("executions", "spread_bps_non_negative")]["description"] == "spread_bps >= 0"
    assert by_key[("executions", "participation_in_unit_interval")]["description"] == (
        "0 < participation <= 1"
    )


def test_contract_parameters_change_the_bounds():
    strict = expectations.market_bars.contract(stale_gap_minutes=10, spike_sigmas=5)
    assert strict.check("no_stale_feed").kwargs["max_value"] == 10
    assert strict.check("no_price_spike").kwargs["max_value"] == 5
    loose = expectations.executions.contract(shortfall_tolerance_bps=5.0)
    assert loose.check("shortfall_matches_prices").kwargs["min_value"] == -5.0


def test_contract_rejects_bad_specs():
    schema = {"x": "numeric"}
    spec = between("x_positive", "x", min_value=0)
    with pytest.raises(ValueError, match="unique"):
        TableContract("t", schema, (spec, spec))
    with pytest.raises(ValueError, match="columns must be in the schema"):
        TableContract("t", schema, (between("y_positive", "y", min_value=0),))
    with pytest.raises(ValueError, match="severity"):
        CheckSpec("c", "ExpectColumnToExist", {"column": "x"}, ("x",), "fatal", "d")  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="no check"):
        TableContract("t", schema, schema_checks(schema)).check("nope")


@pytest.mark.parametrize(
    ("values", "kind", "expected"),
    [
        (pd.Series([1.0, 2.0]), "numeric", True),
        (pd.Series([1, 2]), "numeric", True),
        (pd.Series([True, False]), "numeric", False),
        (pd.Series(["a", "b"]), "numeric", False),
        (pd.Series(["a", "b"]), "string", True),
        (pd.Series(["a", "b"], dtype=object), "string", True),
        (pd.Series(["a", "b"], dtype="category"), "string", False),
        (pd.Series([1.0]), "string", False),
        (pd.Series(pd.to_datetime(["2026-01-05"], utc=True)), "timestamp_utc", True),
        (pd.Series(pd.to_datetime(["2026-01-05"])), "timestamp_utc", False),
        (
            pd.Series(pd.to_datetime(["2026-01-05"], utc=True)).dt.tz_convert("America/New_York"),
            "timestamp_utc",
            False,
        ),
        (pd.Series([True, False]), "boolean", True),
        (pd.Series(np.array([1, 0])), "boolean", False),
    ],
)
def test_dtype_matches(values, kind, expected):
    assert dtype_matches(values.dtype, kind) is expected


def test_dtype_matches_rejects_unknown_kind():
    assert "numeric" in COLUMN_KINDS
    with pytest.raises(ValueError, match="column kind must be one of"):
        dtype_matches(np.dtype("float64"), "decimal")


def test_importing_expectations_does_not_import_great_expectations():
    root = Path(expectations.__file__).resolve().parents[1]
    code = "import sys, expectations; assert 'great_expectations' not in sys.modules"
    env = {**os.environ, "PYTHONPATH": str(root)}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, env=env)


def test_executions_declares_when_every_column_is_known():
    contract = CONTRACTS["executions"]
    assert set(contract.pre_trade) | set(contract.post_trade) >= set(contract.schema)
    ground_truth = {"true_daily_vol", "true_day_volume", "regime"}
    assert {"avg_fill_px", "shortfall_bps", *ground_truth} <= set(contract.post_trade)
    assert {"daily_vol", "urgency", "shares_outstanding", "participation"} <= set(
        contract.pre_trade
    )
    assert all(reason.strip() for reason in contract.post_trade.values())


def test_contract_rejects_bad_timing_declarations():
    schema = {"x": "numeric", "y": "numeric"}
    checks = schema_checks(schema)
    with pytest.raises(ValueError, match="columns must be in the schema"):
        TableContract("t", schema, checks, pre_trade=("z",))
    with pytest.raises(ValueError, match=r"not both; got \['x'\]"):
        TableContract("t", schema, checks, pre_trade=("x",), post_trade={"x": "a fill"})
