"""Run the data contracts on a set of tables and report what failed, by severity.

:func:`run_contracts` validates each table against its contract (see
:mod:`expectations`) with Great Expectations and returns a :class:`ContractReport`:
``passed`` is false as soon as one critical check failed (the pipeline must stop and
register nothing); failed warnings are logged and reported, and the run goes on.

Examples
--------
>>> report = run_contracts({"executions": executions})  # doctest: +SKIP
>>> if not report.passed:  # doctest: +SKIP
...     raise DataRejected(report.failure_message())
"""

from __future__ import annotations

import html
import json
import logging
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from expectations import CONTRACTS, CheckSpec, TableContract
from expectations.prepare import PreparedTable, prepare
from expectations.runner import Outcome, validate_prepared

__all__ = ["CheckResult", "TableRun", "ContractReport", "run_contracts"]

logger = logging.getLogger(__name__)

Status = Literal["passed", "failed", "error", "skipped"]
MAX_EXAMPLES = 3


def _plain(value: Any) -> Any:
    """Return ``value`` as a JSON-serialisable Python scalar (NaN becomes ``None``)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "null" if value is None else str(value)


def _row_text(example: Mapping[str, Any]) -> str:
    """Return ``row 17: order_id=O17, qty=null`` (or ``value=3`` without a row)."""
    fields = ", ".join(f"{k}={_show(v)}" for k, v in example.items() if k != "row")
    return f"row {example['row']}: {fields}" if "row" in example else fields


@dataclass(frozen=True)
class CheckResult:
    """The result of one check on one table.

    Attributes
    ----------
    table, check : str
        Where and what: ``executions``, ``spread_bps_non_negative``.
    columns : tuple of str
        The data columns the check is about.
    severity : {"critical", "warning"}
        A failed critical check fails the report.
    status : {"passed", "failed", "error", "skipped"}
        ``error``: GX raised while evaluating; ``skipped``: a column it needs is missing
        or of the wrong kind (that column's own presence or kind check fails).
    success : bool
        ``status == "passed"``.
    expectation : str
        GX expectation type, e.g. ``expect_column_values_to_be_between``.
    description : str
        What the check demands, in one line.
    element_count : int
        Rows in the table.
    unexpected_count : int or None
        Rows that failed (``None`` for table-level checks such as a median).
    unexpected_percent : float or None
        ``100 * unexpected_count / element_count``.
    observed_value : object
        What a table-level check measured (a dtype, a median), JSON-serialisable.
    examples : tuple of dict
        A few failing rows (``row`` is the position in the table) or values.
    detail : str or None
        Why a check was skipped, or the error GX raised.
    """

    table: str
    check: str
    columns: tuple[str, ...]
    severity: str
    status: Status
    success: bool
    expectation: str
    description: str
    element_count: int
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed_value: Any = None
    examples: tuple[dict[str, Any], ...] = ()
    detail: str | None = None

    @property
    def failed(self) -> bool:
        """Whether the check counts as a failure (failed or raised; skipped does not)."""
        return self.status in ("failed", "error")

    def location(self) -> str:
        """Return ``table.column[,column]``, e.g. ``executions.spread_bps``."""
        return f"{self.table}.{','.join(self.columns) or '*'}"

    def message(self) -> str:
        """Return one line naming the check, its columns and what happened.

        Returns
        -------
        str
            e.g. ``executions.spread_bps [spread_bps_non_negative]:
            expect_column_values_to_be_between (spread_bps >= 0) failed on 5 of 20000
            rows (e.g. -3.2)``.
        """
        head = f"{self.location()} [{self.check}]: {self.expectation} ({self.description})"
        return f"{head} {self._outcome_text()}"

    def _outcome_text(self) -> str:
        if self.status == "passed":
            return "passed"
        if self.status != "failed":
            return f"{self.status}: {self.detail}"
        if self.unexpected_count is not None:
            text = f"failed on {self.unexpected_count} of {self.element_count} rows"
            examples = self._examples_text()
            return f"{text} (e.g. {examples})" if examples else text
        if self.expectation == "expect_column_to_exist":
            return "failed: column is missing"
        return f"failed: observed {_show(self.observed_value)}"

    def _examples_text(self) -> str:
        if not self.examples:
            return ""
        values = [e.get(self.columns[0]) for e in self.examples] if len(self.columns) == 1 else []
        if any(v is not None for v in values):
            return ", ".join(_show(v) for v in values)
        return _row_text(self.examples[0])

    def to_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-serialisable dictionary."""
        return {
            "table": self.table,
            "check": self.check,
            "columns": list(self.columns),
            "severity": self.severity,
            "status": self.status,
            "success": self.success,
            "expectation": self.expectation,
            "description": self.description,
            "element_count": self.element_count,
            "unexpected_count": self.unexpected_count,
            "unexpected_percent": self.unexpected_percent,
            "observed_value": _plain(self.observed_value),
            "examples": [_plain(e) for e in self.examples],
            "detail": self.detail,
        }


@dataclass(frozen=True)
class TableRun:
    """How one table's validation went: size, timing and GX's batch fingerprint."""

    table: str
    rows: int
    columns: int
    prepare_seconds: float
    validate_seconds: float
    fingerprint: str | None

    @property
    def seconds(self) -> float:
        """Wall time of preparing (derived columns) plus validating with GX."""
        return self.prepare_seconds + self.validate_seconds

    @property
    def rows_per_second(self) -> float:
        """Rows validated per second of wall time."""
        return self.rows / self.seconds if self.seconds > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        """Return the run as a JSON-serialisable dictionary."""
        return {
            "rows": self.rows,
            "columns": self.columns,
            "seconds": round(self.seconds, 4),
            "prepare_seconds": round(self.prepare_seconds, 4),
            "validate_seconds": round(self.validate_seconds, 4),
            "rows_per_second": round(self.rows_per_second, 1),
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True)
class ContractReport:
    """Results of the data contracts on a set of tables.

    Attributes
    ----------
    checks : tuple of CheckResult
        Every check of every table, in contract order.
    tables : tuple of TableRun
        One entry per validated table.
    """

    checks: tuple[CheckResult, ...]
    tables: tuple[TableRun, ...]

    @property
    def passed(self) -> bool:
        """True if no critical check failed."""
        return not self.critical_failures

    @property
    def critical_failures(self) -> list[CheckResult]:
        """Critical checks that failed or raised."""
        return [c for c in self.checks if c.severity == "critical" and c.failed]

    @property
    def warnings(self) -> list[CheckResult]:
        """Warning checks that failed or raised."""
        return [c for c in self.checks if c.severity == "warning" and c.failed]

    @property
    def skipped(self) -> list[CheckResult]:
        """Checks not evaluated because a column they need is missing or mistyped."""
        return [c for c in self.checks if c.status == "skipped"]

    def table_checks(self, table: str) -> list[CheckResult]:
        """Return the results of one table."""
        return [c for c in self.checks if c.table == table]

    def result(self, table: str, check: str) -> CheckResult:
        """Return the result of one check.

        Raises
        ------
        KeyError
            If the report has no such check.
        """
        for result in self.checks:
            if result.table == table and result.check == check:
                return result
        raise KeyError(f"report has no check {table}.{check}")

    def summary(self) -> dict[str, Any]:
        """Return counts by severity and status, per-table rows and timing, failing checks.

        Returns
        -------
        dict
            JSON-serialisable.
        """
        counts: dict[str, dict[str, int]] = {}
        for result in self.checks:
            by_status = counts.setdefault(result.severity, {})
            by_status[result.status] = by_status.get(result.status, 0) + 1
        return {
            "passed": self.passed,
            "checks": len(self.checks),
            "by_severity": counts,
            "critical_failures": len(self.critical_failures),
            "warnings": len(self.warnings),
            "tables": {run.table: run.to_dict() for run in self.tables},
            "failing_checks": [
                {**_failure_entry(c), "message": c.message()} for c in self.checks if c.failed
            ],
        }

    def to_json(self) -> str:
        """Return the summary and every check result as a JSON document."""
        document = {"summary": self.summary(), "checks": [c.to_dict() for c in self.checks]}
        return json.dumps(document, indent=2, allow_nan=False)

    def to_markdown(self) -> str:
        """Return one table row per check: location, check, severity, status."""
        lines = [
            f"# Data contracts: {'PASSED' if self.passed else 'REJECTED'}",
            "",
            "| table | check | severity | result |",
            "|---|---|---|---|",
        ]
        for check in self.checks:
            lines.append(
                f"| {check.location()} | {check.check} | {check.severity} | {check.status} |"
            )
        return "\n".join(lines)

    def to_html(self) -> str:
        """Return a self-contained HTML page: an overview, then one table per data asset."""
        return _render_html(self)

    def failure_message(self) -> str:
        """Return one line per failing critical check, naming it, its columns and counts.

        Returns
        -------
        str
            A heading line, then e.g. ``executions.spread_bps [spread_bps_non_negative]:
            expect_column_values_to_be_between (spread_bps >= 0) failed on 5 of 20000 rows
            (e.g. -3.2)``; if nothing critical failed, a single line saying so.
        """
        failures = self.critical_failures
        if not failures:
            return f"Data contracts passed: no critical failures ({len(self.warnings)} warnings)."
        lines = [f"Data contracts failed: {len(failures)} critical check(s) failed."]
        return "\n".join(lines + [f"  {c.message()}" for c in failures])


def _failure_entry(result: CheckResult) -> dict[str, Any]:
    return {
        "table": result.table,
        "check": result.check,
        "columns": list(result.columns),
        "severity": result.severity,
        "status": result.status,
        "unexpected_count": result.unexpected_count,
        "element_count": result.element_count,
    }


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
        {"row": position, **{c: _plain(v) for c, v in zip(columns, values, strict=True)}}
        for position, values in zip(positions, rows.itertuples(index=False), strict=True)
    )


def _examples(
    prepared: PreparedTable, spec: CheckSpec, result: Mapping[str, Any]
) -> tuple[dict[str, Any], ...]:
    indices = result.get("partial_unexpected_index_list") or []
    if indices:
        return _example_rows(prepared, spec, indices)
    values = result.get("partial_unexpected_list") or []
    return tuple({"value": _plain(v)} for v in values[:MAX_EXAMPLES])


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
        observed_value=_plain(result.get("observed_value")),
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

    Returns
    -------
    ContractReport
        Every check's result; ``passed`` is false if a critical check failed.

    Raises
    ------
    ValueError
        If ``tables_to_check`` names a table without a contract or absent from
        ``tables``, or no table of ``tables`` has a contract.
    """
    chosen = {**CONTRACTS, **(contracts or {})}
    results: list[CheckResult] = []
    runs: list[TableRun] = []
    for name in _tables_to_run(tables, tables_to_check, chosen):
        table_results, run = _run_table(chosen[name], tables[name])
        _log_warnings(table_results)
        results.extend(table_results)
        runs.append(run)
    return ContractReport(checks=tuple(results), tables=tuple(runs))


_CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif;
       margin: 2em; color: #1d2330; }
h1 .pass { color: #17702d; } h1 .fail { color: #b3261e; }
table { border-collapse: collapse; margin: 0.5em 0 2em 0; font-size: 0.9em; }
th, td { border: 1px solid #c9ced6; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eef1f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.failed-critical td, tr.error-critical td { background: #fbd5d2; }
tr.failed-warning td, tr.error-warning td { background: #fdeec4; }
tr.skipped td { background: #eeeeee; color: #555; }
code { font-size: 0.95em; }
"""


def _cell(value: Any, numeric: bool = False) -> str:
    text = "" if value is None else html.escape(str(value))
    return f'<td class="num">{text}</td>' if numeric else f"<td>{text}</td>"


def _detail_text(result: CheckResult) -> str:
    if result.status in ("skipped", "error"):
        return result.detail or ""
    if result.examples:
        return "; ".join(_row_text(e) for e in result.examples)
    if result.observed_value is not None:
        return f"observed {_show(result.observed_value)}"
    return ""


def _check_row(result: CheckResult) -> str:
    percent = None if result.unexpected_percent is None else f"{result.unexpected_percent:.4g}"
    cells = [
        _cell(result.status.upper()),
        _cell(result.severity),
        f"<td><code>{html.escape(result.check)}</code></td>",
        _cell(", ".join(result.columns)),
        _cell(result.description),
        _cell(result.unexpected_count, numeric=True),
        _cell(percent, numeric=True),
        _cell(_detail_text(result)),
        _cell(result.expectation),
    ]
    row_class = "skipped" if result.status == "skipped" else f"{result.status}-{result.severity}"
    return f'<tr class="{row_class}">{"".join(cells)}</tr>'


def _table_section(report: ContractReport, run: TableRun) -> str:
    header = "".join(
        f"<th>{h}</th>"
        for h in (
            "status",
            "severity",
            "check",
            "columns",
            "description",
            "unexpected rows",
            "% rows",
            "examples / observed",
            "expectation",
        )
    )
    rows = "\n".join(_check_row(r) for r in report.table_checks(run.table))
    return (
        f"<h2>{html.escape(run.table)}</h2>\n"
        f"<p>{run.rows} rows, {run.columns} columns, validated in {run.seconds:.3f} s "
        f"({run.rows_per_second:,.0f} rows/s); GX batch fingerprint "
        f"<code>{html.escape(str(run.fingerprint))}</code></p>\n"
        f"<table><thead><tr>{header}</tr></thead><tbody>\n{rows}\n</tbody></table>"
    )


def _overview(report: ContractReport) -> str:
    rows = []
    for run in report.tables:
        checks = report.table_checks(run.table)
        critical = sum(c.failed and c.severity == "critical" for c in checks)
        warning = sum(c.failed and c.severity == "warning" for c in checks)
        rows.append(
            f"<tr>{_cell(run.table)}{_cell(run.rows, True)}{_cell(len(checks), True)}"
            f"{_cell(critical, True)}{_cell(warning, True)}"
            f"{_cell(f'{run.seconds:.3f}', True)}</tr>"
        )
    header = (
        "<tr><th>table</th><th>rows</th><th>checks</th><th>critical failures</th>"
        "<th>warnings</th><th>seconds</th></tr>"
    )
    return f"<table><thead>{header}</thead><tbody>{''.join(rows)}</tbody></table>"


def _render_html(report: ContractReport) -> str:
    verdict = (
        '<span class="pass">PASSED</span>' if report.passed else '<span class="fail">FAILED</span>'
    )
    failures = "".join(
        f"<li><code>{html.escape(c.message())}</code></li>" for c in report.critical_failures
    )
    failure_list = f"<h2>Critical failures</h2><ul>{failures}</ul>" if failures else ""
    sections = "\n".join(_table_section(report, run) for run in report.tables)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Data contract report</title>"
        f"<style>{_CSS}</style></head><body>\n"
        f"<h1>Data contracts {verdict}</h1>\n{_overview(report)}\n{failure_list}\n"
        f"{sections}\n</body></html>\n"
    )
