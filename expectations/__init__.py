"""Data contracts of the pipeline's input tables, as Great Expectations 1.x suites in code.

One module per data asset (:mod:`expectations.executions`,
:mod:`expectations.market_bars`, :mod:`expectations.rfq`) states the table's schema,
derived check columns and checks as plain data (:class:`TableContract`);
:mod:`expectations.suite` turns them into GX expectation suites and
:mod:`expectations.runner` runs them in an ephemeral GX context.

Importing this package does not import Great Expectations (which takes seconds);
only building a suite or running one does.

Examples
--------
>>> from expectations import CONTRACTS, check_table
>>> sorted(CONTRACTS)
['executions', 'market_bars', 'rfq']
>>> [row["check"] for row in check_table()][:2]
['table_not_empty', 'order_id_present']
"""

from __future__ import annotations

from expectations import executions, market_bars, rfq
from expectations.dtypes import COLUMN_KINDS, KIND_DESCRIPTIONS, ColumnKind, dtype_matches
from expectations.spec import (
    DERIVED_PREFIX,
    SEVERITIES,
    CheckSpec,
    DerivedColumn,
    Severity,
    TableContract,
)

__all__ = [
    "CONTRACTS",
    "COLUMN_KINDS",
    "KIND_DESCRIPTIONS",
    "DERIVED_PREFIX",
    "SEVERITIES",
    "CheckSpec",
    "ColumnKind",
    "DerivedColumn",
    "Severity",
    "TableContract",
    "check_table",
    "dtype_matches",
]

CONTRACTS: dict[str, TableContract] = {
    module.TABLE: module.CONTRACT for module in (executions, market_bars, rfq)
}


def check_table(contracts: dict[str, TableContract] | None = None) -> list[dict[str, str]]:
    """Return every check of every contract as rows of a human-readable table.

    Parameters
    ----------
    contracts : dict of str to TableContract, optional
        Defaults to :data:`CONTRACTS`.

    Returns
    -------
    list of dict
        One row per check: ``table, check, columns, severity, expectation, description``.
    """
    chosen = CONTRACTS if contracts is None else contracts
    return [row for contract in chosen.values() for row in contract.records()]
