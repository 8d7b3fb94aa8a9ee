"""The report of a data-contract run: every check's result, verdict, summaries and renderings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from validation.data_contracts.html_page import render_html
from validation.data_contracts.results import CheckResult, TableRun

__all__ = ["ContractReport"]


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
        return render_html(self.tables, self.checks, self.critical_failures)

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
