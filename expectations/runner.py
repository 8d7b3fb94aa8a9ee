"""Run a prepared table's checks in an ephemeral Great Expectations context.

One ephemeral context per process, created on first use, holds a pandas data source
with one dataframe asset (and whole-dataframe batch definition) per table; suites are
built once per distinct set of checks. Later runs reuse them all (the "warm" path).
Results come back as plain :class:`Outcome` records, so callers never handle GX
result objects.

Validation runs in two passes to keep the cost per expectation low. Every check runs
in GX's ``BASIC`` result format (counts and a few failing values); only the checks
that failed row by row run again, in ``SUMMARY`` format, for the positions of a few
failing rows (never the full index list). ``SUMMARY`` for every check costs about 40 %
more on clean data, where nothing needs examples.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from expectations.prepare import PreparedTable
from expectations.spec import CheckSpec
from expectations.suite import build_suite, suite_name

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.data_context import AbstractDataContext

__all__ = [
    "Outcome",
    "TableOutcome",
    "COUNTS_FORMAT",
    "EXAMPLES_FORMAT",
    "DATASOURCE",
    "validate_prepared",
]

DATASOURCE = "data_contracts"
EXAMPLES = 5
COUNTS_FORMAT: dict[str, Any] = {"result_format": "BASIC", "partial_unexpected_count": EXAMPLES}
EXAMPLES_FORMAT: dict[str, Any] = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": EXAMPLES,
    "return_unexpected_index_query": False,
    "include_unexpected_rows": False,
}


@dataclass(frozen=True)
class Outcome:
    """What Great Expectations reported for one check.

    Attributes
    ----------
    check : str
        The check's name.
    success : bool
        Whether the expectation held.
    result : Mapping
        GX's ``result`` dictionary (``BASIC`` format; ``SUMMARY`` for row-level failures).
    exception : str or None
        The message of an exception raised while evaluating the check, if any.
    """

    check: str
    success: bool
    result: Mapping[str, Any]
    exception: str | None


@dataclass(frozen=True)
class TableOutcome:
    """The outcomes of one table's run and GX's fingerprint of the batch, if it made one."""

    outcomes: tuple[Outcome, ...]
    fingerprint: str | None


class _Engine:
    """The process's ephemeral GX context, one batch definition per table, suites by name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._context: AbstractDataContext | None = None
        self._batches: dict[str, BatchDefinition] = {}
        self._suites: dict[str, ExpectationSuite] = {}

    def _make_context(self) -> AbstractDataContext:
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        config = DataContextConfig(
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
            store_backend_defaults=InMemoryStoreBackendDefaults(),
        )
        context = gx.get_context(mode="ephemeral", project_config=config)
        context.data_sources.add_pandas(DATASOURCE)
        return context

    def batch_definition(self, table: str) -> BatchDefinition:
        """Return the whole-dataframe batch definition of ``table``, made on first use."""
        with self._lock:
            if self._context is None:
                self._context = self._make_context()
            if table not in self._batches:
                source = self._context.data_sources.get(DATASOURCE)
                asset = source.add_dataframe_asset(name=table)
                self._batches[table] = asset.add_batch_definition_whole_dataframe("whole_frame")
            return self._batches[table]

    def suite(self, table: str, specs: tuple[CheckSpec, ...]) -> ExpectationSuite:
        """Return the suite of ``specs`` on ``table``, built on first use."""
        name = suite_name(table, specs)
        with self._lock:
            if name not in self._suites:
                self._suites[name] = build_suite(table, specs)
            return self._suites[name]


_ENGINE = _Engine()


def _outcome(result: Any) -> Outcome:
    info = result.exception_info or {}
    raised = bool(info.get("raised_exception"))
    return Outcome(
        check=result.expectation_config.meta["check"],
        success=bool(result.success) and not raised,
        result=dict(result.result or {}),
        exception=str(info.get("exception_message")) if raised else None,
    )


def _run(
    table: str, specs: tuple[CheckSpec, ...], frame: pd.DataFrame, result_format: dict[str, Any]
) -> tuple[dict[str, Outcome], str | None]:
    # The validator ValidationDefinition.run and Batch.validate use, without the former's
    # copy of every result into the context's result store (which only grows in a
    # long-lived process and costs ~15 % of a run) or the latter's second batch load.
    from great_expectations.validator.v1_validator import Validator

    validator = Validator(
        batch_definition=_ENGINE.batch_definition(table),
        batch_parameters={"dataframe": frame},
        result_format=result_format,
    )
    results = validator.validate_expectation_suite(_ENGINE.suite(table, specs))
    markers = results.meta.get("batch_markers") or {}
    outcomes = {o.check: o for o in map(_outcome, results.results)}
    return outcomes, markers.get("pandas_data_fingerprint")


def validate_prepared(prepared: PreparedTable) -> TableOutcome:
    """Validate a prepared table's runnable checks with Great Expectations.

    Parameters
    ----------
    prepared : PreparedTable
        Output of :func:`expectations.prepare.prepare`.

    Returns
    -------
    TableOutcome
        One :class:`Outcome` per runnable check, in contract order; row-level checks
        that failed carry ``partial_unexpected_index_list`` (positions of a few rows).
    """
    table, frame = prepared.contract.table, prepared.frame
    outcomes, fingerprint = _run(table, prepared.runnable, frame, COUNTS_FORMAT)
    failed_rows = tuple(
        spec
        for spec in prepared.runnable
        if not outcomes[spec.name].success and outcomes[spec.name].result.get("unexpected_count")
    )
    if failed_rows:
        outcomes.update(_run(table, failed_rows, frame, EXAMPLES_FORMAT)[0])
    return TableOutcome(
        outcomes=tuple(outcomes[spec.name] for spec in prepared.runnable),
        fingerprint=fingerprint,
    )
