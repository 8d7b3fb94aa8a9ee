"""Suites built in code run in a real ephemeral Great Expectations context."""

import pandas as pd
import pytest

from expectations import CONTRACTS
from expectations.prepare import prepare
from expectations.runner import validate_prepared
from expectations.suite import build_suite, suite_name


@pytest.mark.parametrize("table", sorted(CONTRACTS))
def test_suite_carries_severity_and_check_identity(table):
    contract = CONTRACTS[table]
    suite = build_suite(table, contract.checks)
    assert suite.name == suite_name(table, contract.checks)
    assert len(suite.expectations) == len(contract.checks)
    for expectation, spec in zip(suite.expectations, contract.checks, strict=True):
        assert expectation.meta["check"] == spec.name
        assert expectation.meta["severity"] == spec.severity
        assert expectation.meta["columns"] == list(spec.columns)
        assert str(expectation.severity.value) == spec.severity
        assert expectation.expectation_type == spec.expectation_type


def test_suite_name_changes_with_the_bounds():
    from expectations import market_bars

    default = market_bars.contract()
    stricter = market_bars.contract(spike_sigmas=5)
    assert suite_name("market_bars", default.checks) != suite_name("market_bars", stricter.checks)


@pytest.mark.parametrize("table", sorted(CONTRACTS))
def test_clean_tables_pass_every_check(clean_tables, table):
    prepared = prepare(CONTRACTS[table], clean_tables[table])
    outcome = validate_prepared(prepared)
    assert [o.check for o in outcome.outcomes] == [c.name for c in prepared.runnable]
    failed = [(o.check, o.exception, dict(o.result)) for o in outcome.outcomes if not o.success]
    assert failed == []
    assert outcome.fingerprint


def test_custom_dtype_expectation_reports_the_observed_dtype(clean_tables):
    frame = clean_tables["rfq"].assign(filled=lambda f: f["filled"].astype(int))
    outcome = validate_prepared(prepare(CONTRACTS["rfq"], frame))
    by_check = {o.check: o for o in outcome.outcomes}
    assert not by_check["filled_dtype"].success
    assert by_check["filled_dtype"].result["observed_value"] == "int64"
    assert by_check["size_dtype"].success


def test_corrupted_values_fail_with_partial_examples(clean_tables):
    frame = clean_tables["executions"].copy()
    frame.loc[[3, 7], "spread_bps"] = -1.5
    outcome = validate_prepared(prepare(CONTRACTS["executions"], frame))
    failed = {o.check: o for o in outcome.outcomes if not o.success}
    assert set(failed) == {"spread_bps_non_negative"}
    result = failed["spread_bps_non_negative"].result
    assert result["unexpected_count"] == 2
    assert result["partial_unexpected_list"] == [-1.5, -1.5]
    assert result["partial_unexpected_index_list"] == [3, 7]


def test_empty_table_is_validated_without_crashing(clean_tables):
    frame = clean_tables["rfq"].iloc[:0]
    outcome = validate_prepared(prepare(CONTRACTS["rfq"], frame))
    assert all(o.exception is None for o in outcome.outcomes)
    assert isinstance(frame, pd.DataFrame)
