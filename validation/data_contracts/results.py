"""The result of one check on one table, and how one table's validation went."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from validation.data_contracts.values import plain, row_text, show

__all__ = ["CheckResult", "Status", "TableRun"]

#: What became of a check: evaluated (passed or failed), raised, or not evaluated.
Status = Literal["passed", "failed", "error", "skipped"]


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
        Why a check was skipped, the error GX raised, or, for a check evaluated outside
        GX (such as the pre-trade check of a family's features), why it failed.
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
        if self.detail is not None:
            return f"failed: {self.detail}"
        if self.unexpected_count is not None:
            text = f"failed on {self.unexpected_count} of {self.element_count} rows"
            examples = self._examples_text()
            return f"{text} (e.g. {examples})" if examples else text
        if self.expectation == "expect_column_to_exist":
            return "failed: column is missing"
        return f"failed: observed {show(self.observed_value)}"

    def _examples_text(self) -> str:
        if not self.examples:
            return ""
        values = [e.get(self.columns[0]) for e in self.examples] if len(self.columns) == 1 else []
        if any(v is not None for v in values):
            return ", ".join(show(v) for v in values)
        return row_text(self.examples[0])

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
            "observed_value": plain(self.observed_value),
            "examples": [plain(e) for e in self.examples],
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
