"""Validate tables against their data contracts with Great Expectations: :func:`run_contracts`.

Besides each table's own checks, the run holds the pre-trade checks of every model
family trained on a validated table (:mod:`validation.data_contracts.pre_trade`), so a
family whose features read a post-trade column is refused like bad data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from expectations import CONTRACTS, CheckSpec, TableContract
from expectations.prepare import PreparedTable, prepare
from expectations.runner import Outcome, validate_prepared
from models import ModelFamily, family_names, get_family
from validation.data_contracts.pre_trade import family_feature_checks
from validation.data_contracts.report import ContractReport
from validation.data_contracts.results import CheckResult, TableRun
from validation.data_contracts.values import plain

__all__ = ["MAX_EXAMPLES", "run_contracts"]

logger = logging.getLogger(__name__)

#: Failing rows or values a check reports as examples.
MAX_EXAMPLES = 3


def _example_rows(
    prepared: PreparedTable, spec: CheckSpec, indices: Sequence[Any]
) -> tuple[dict[str, Any], ...]:
    frame = prepared.frame
    wanted = [*prepared.contract.key_columns, *spec.columns]
    if spec.derived is not None:
        wanted.append(spec.derived)
    columns = [c for c in dict.fromkeys(wanted) if c in frame.columns]
    positions = [int(i) for i in indices[:MAX_EXAMPLES] if isinstance(i, (int, np.integer))]
    rows = frame.iloc[positions][columns]
    return tuple(
        {"row": position, **{c: plain(v) for c, v in zip(columns, values, strict=True)}}
        for position, values in zip(positions, rows.itertuples(index=False), strict=True)
    )


def _examples(
    prepared: PreparedTable, spec: CheckSpec, result: Mapping[str, Any]
) -> tuple[dict[str, Any], ...]:
    indices = result.get("partial_unexpected_index_list") or []
    if indices:
        return _example_rows(prepared, spec, indices)
    values = result.get("partial_unexpected_list") or []
    return tuple({"value": plain(v)} for v in values[:MAX_EXAMPLES])


def _check_result(
    prepared: PreparedTable, spec: CheckSpec, outcome: Outcome | None, skip_reason: str | None
) -> CheckResult:
    rows = len(prepared.frame)
    common = {
        "table": prepared.contract.table,
        "check": spec.name,
        "columns": spec.columns,
        "severity": spec.severity,
        "expectation": spec.expectation_type,
        "description": spec.description,
        "element_count": rows,
    }
    if outcome is None:
        return CheckResult(status="skipped", success=False, detail=skip_reason, **common)
    if outcome.exception is not None:
        return CheckResult(status="error", success=False, detail=outcome.exception, **common)
    result = outcome.result
    unexpected = result.get("unexpected_count")
    elements = int(result.get("element_count", rows))
    return CheckResult(
        status="passed" if outcome.success else "failed",
        success=outcome.success,
        unexpected_count=None if unexpected is None else int(unexpected),
        unexpected_percent=(
            None if unexpected is None else 100.0 * int(unexpected) / max(elements, 1)
        ),
        observed_value=plain(result.get("observed_value")),
        examples=() if outcome.success else _examples(prepared, spec, result),
        **{**common, "element_count": elements},
    )


def _run_table(contract: TableContract, frame: pd.DataFrame) -> tuple[list[CheckResult], TableRun]:
    start = time.perf_counter()
    prepared = prepare(contract, frame)
    prepared_at = time.perf_counter()
    table_outcome = validate_prepared(prepared)
    done = time.perf_counter()
    outcomes = {o.check: o for o in table_outcome.outcomes}
    results = [
        _check_result(prepared, spec, outcomes.get(spec.name), prepared.skipped.get(spec.name))
        for spec in contract.checks
    ]
    run = TableRun(
        table=contract.table,
        rows=len(frame),
        columns=len(frame.columns),
        prepare_seconds=prepared_at - start,
        validate_seconds=done - prepared_at,
        fingerprint=table_outcome.fingerprint,
    )
    return results, run


def _tables_to_run(
    tables: Mapping[str, pd.DataFrame],
    tables_to_check: Iterable[str] | None,
    contracts: Mapping[str, TableContract],
) -> list[str]:
    if tables_to_check is None:
        names = [name for name in tables if name in contracts]
        if not names:
            raise ValueError(
                f"tables must include at least one of {', '.join(contracts)}, got {list(tables)}"
            )
        return names
    names = list(dict.fromkeys(tables_to_check))
    unknown = [name for name in names if name not in contracts]
    if unknown:
        raise ValueError(
            f"tables_to_check must be among {', '.join(contracts)}, got unknown {unknown}"
        )
    absent = [name for name in names if name not in tables]
    if absent:
        raise ValueError(f"tables_to_check names {absent}, but tables has only {list(tables)}")
    return names


def _log_warnings(results: Iterable[CheckResult]) -> None:
    for result in results:
        if result.severity == "warning" and result.failed:
            logger.warning("data contract warning: %s", result.message())


def run_contracts(
    tables: Mapping[str, pd.DataFrame],
    tables_to_check: Iterable[str] | None = None,
    *,
    contracts: Mapping[str, TableContract] | None = None,
    families: Iterable[ModelFamily] | None = None,
) -> ContractReport:
    """Validate tables against their data contracts.

    Parameters
    ----------
    tables : Mapping of str to DataFrame
        Tables by name (``executions``, ``market_bars``, ``rfq``); tables without a
        contract are ignored. The frames are not modified.
    tables_to_check : iterable of str, optional
        Validate only these tables; by default every table in ``tables`` that has a
        contract.
    contracts : Mapping of str to TableContract, optional
        Contracts to use instead of :data:`expectations.CONTRACTS`, e.g. with other
        tolerances (``{"market_bars": expectations.market_bars.contract(spike_sigmas=10)}``);
        tables not in it use the default contract.
    families : iterable of ModelFamily, optional
        Families whose features must be pre-trade (see
        :func:`validation.data_contracts.pre_trade.family_feature_checks`), checked with
        the table each trains on when that table is validated; by default every known
        family (:func:`models.family_names`).

    Returns
    -------
    ContractReport
        Every check's result, each table's own checks followed by the pre-trade checks of
        the families trained on it; ``passed`` is false if a critical check failed.

    Raises
    ------
    ValueError
        If ``tables_to_check`` names a table without a contract or absent from
        ``tables``, or no table of ``tables`` has a contract.
    """
    chosen = {**CONTRACTS, **(contracts or {})}
    names = _tables_to_run(tables, tables_to_check, chosen)
    checked = [get_family(name) for name in family_names()] if families is None else list(families)
    results: list[CheckResult] = []
    runs: list[TableRun] = []
    for name in names:
        table_results, run = _run_table(chosen[name], tables[name])
        table_results += family_feature_checks(checked, chosen[name], tables[name])
        _log_warnings(table_results)
        results.extend(table_results)
        runs.append(run)
    return ContractReport(checks=tuple(results), tables=tuple(runs))
