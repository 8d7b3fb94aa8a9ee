"""The data contract report as a self-contained HTML page."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from validation.data_contracts.results import CheckResult, TableRun
from validation.data_contracts.values import row_text, show

__all__ = ["render_html"]

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
    if result.status in ("skipped", "error") or result.detail is not None:
        return result.detail or ""
    if result.examples:
        return "; ".join(row_text(e) for e in result.examples)
    if result.observed_value is not None:
        return f"observed {show(result.observed_value)}"
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


def _table_section(run: TableRun, checks: Sequence[CheckResult]) -> str:
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
    rows = "\n".join(_check_row(r) for r in checks)
    return (
        f"<h2>{html.escape(run.table)}</h2>\n"
        f"<p>{run.rows} rows, {run.columns} columns, validated in {run.seconds:.3f} s "
        f"({run.rows_per_second:,.0f} rows/s); GX batch fingerprint "
        f"<code>{html.escape(str(run.fingerprint))}</code></p>\n"
        f"<table><thead><tr>{header}</tr></thead><tbody>\n{rows}\n</tbody></table>"
    )


def _overview(by_table: list[tuple[TableRun, list[CheckResult]]]) -> str:
    rows = []
    for run, checks in by_table:
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


def render_html(
    tables: Sequence[TableRun],
    checks: Sequence[CheckResult],
    critical_failures: Sequence[CheckResult],
) -> str:
    """Return a self-contained HTML page: an overview, then one table per data asset.

    Parameters
    ----------
    tables : sequence of TableRun
        The validated tables, in report order.
    checks : sequence of CheckResult
        Every check of every table.
    critical_failures : sequence of CheckResult
        The critical checks that failed or raised; the report passed if there are none.

    Returns
    -------
    str
        The page, with its CSS inline.
    """
    verdict = (
        '<span class="fail">FAILED</span>'
        if critical_failures
        else '<span class="pass">PASSED</span>'
    )
    failures = "".join(
        f"<li><code>{html.escape(c.message())}</code></li>" for c in critical_failures
    )
    failure_list = f"<h2>Critical failures</h2><ul>{failures}</ul>" if failures else ""
    by_table = [(run, [c for c in checks if c.table == run.table]) for run in tables]
    sections = "\n".join(_table_section(run, table_checks) for run, table_checks in by_table)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Data contract report</title>"
        f"<style>{_CSS}</style></head><body>\n"
        f"<h1>Data contracts {verdict}</h1>\n{_overview(by_table)}\n{failure_list}\n"
        f"{sections}\n</body></html>\n"
    )
