"""Builders of :class:`~expectations.spec.CheckSpec`: one function per kind of check.

The table modules describe their contracts with these, so that each check reads as
one line: ``between("spread_bps_non_negative", "spread_bps", min_value=0)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from expectations.dtypes import KIND_DESCRIPTIONS, ColumnKind
from expectations.spec import CheckSpec, DerivedColumn, Severity

__all__ = [
    "not_empty",
    "schema_checks",
    "between",
    "derived_between",
    "derived_median_between",
    "in_set",
    "unique",
    "compound_unique",
    "greater",
]


def not_empty(name: str = "table_not_empty", *, min_rows: int = 1) -> CheckSpec:
    """Check that the table has at least ``min_rows`` rows (a table-level check).

    Returns
    -------
    CheckSpec
        A critical ``ExpectTableRowCountToBeBetween`` check with no columns.
    """
    return CheckSpec(
        name=name,
        expectation="ExpectTableRowCountToBeBetween",
        kwargs={"min_value": min_rows, "max_value": None},
        columns=(),
        severity="critical",
        description=f"the table has at least {min_rows} row{'s' if min_rows != 1 else ''}",
        gate="none",
    )


def schema_checks(schema: Mapping[str, ColumnKind]) -> tuple[CheckSpec, ...]:
    """Return the critical presence, kind and not-null check of every schema column.

    Parameters
    ----------
    schema : Mapping of str to ColumnKind
        Required columns and their kinds.

    Returns
    -------
    tuple of CheckSpec
        ``<column>_present``, ``<column>_dtype`` and ``<column>_not_null`` per column.
    """
    present = [
        CheckSpec(
            name=f"{column}_present",
            expectation="ExpectColumnToExist",
            kwargs={"column": column},
            columns=(column,),
            severity="critical",
            description=f"column {column} is present",
            gate="none",
        )
        for column in schema
    ]
    kinds = [
        CheckSpec(
            name=f"{column}_dtype",
            expectation="ExpectColumnDtypeToBeKind",
            kwargs={"column": column, "kind": kind},
            columns=(column,),
            severity="critical",
            description=f"{column} is {KIND_DESCRIPTIONS[kind]}",
            gate="present",
        )
        for column, kind in schema.items()
    ]
    not_null = [
        CheckSpec(
            name=f"{column}_not_null",
            expectation="ExpectColumnValuesToNotBeNull",
            kwargs={"column": column},
            columns=(column,),
            severity="critical",
            description=f"{column} has no missing values",
            gate="present",
        )
        for column in schema
    ]
    return (*present, *kinds, *not_null)


def _bounds_text(
    column: str,
    min_value: float | None,
    max_value: float | None,
    strict_min: bool,
    strict_max: bool,
) -> str:
    below = "<" if strict_max else "<="
    if min_value is None:
        return f"{column} {below} {max_value:g}"
    if max_value is None:
        return f"{column} {'>' if strict_min else '>='} {min_value:g}"
    return f"{min_value:g} {'<' if strict_min else '<='} {column} {below} {max_value:g}"


def between(
    name: str,
    column: str,
    *,
    min_value: float | None = None,
    max_value: float | None = None,
    strict_min: bool = False,
    strict_max: bool = False,
    severity: Severity = "critical",
    description: str | None = None,
) -> CheckSpec:
    """Check that every non-null value of a data column lies within bounds.

    Parameters
    ----------
    name : str
        Check name.
    column : str
        Data column.
    min_value, max_value : float or None
        Bounds; ``None`` leaves that side open.
    strict_min, strict_max : bool
        Exclude the bound itself.
    severity : {"critical", "warning"}
        Severity of a failure.
    description : str or None
        Defaults to the bounds written out, e.g. ``0 < participation <= 1``.

    Returns
    -------
    CheckSpec
        An ``ExpectColumnValuesToBeBetween`` check.
    """
    bounds = _bounds_text(column, min_value, max_value, strict_min, strict_max)
    return CheckSpec(
        name=name,
        expectation="ExpectColumnValuesToBeBetween",
        kwargs={
            "column": column,
            "min_value": min_value,
            "max_value": max_value,
            "strict_min": strict_min,
            "strict_max": strict_max,
        },
        columns=(column,),
        severity=severity,
        description=description or bounds,
    )


def derived_between(
    name: str,
    derived: DerivedColumn,
    *,
    min_value: float | None = None,
    max_value: float | None = None,
    strict_min: bool = False,
    strict_max: bool = False,
    severity: Severity = "critical",
    description: str,
) -> CheckSpec:
    """Check that every non-null value of a derived check column lies within bounds.

    The check is reported against the derived column's input columns.

    Returns
    -------
    CheckSpec
        An ``ExpectColumnValuesToBeBetween`` check on ``derived.name``.
    """
    spec = between(
        name,
        derived.name,
        min_value=min_value,
        max_value=max_value,
        strict_min=strict_min,
        strict_max=strict_max,
        severity=severity,
        description=description,
    )
    return CheckSpec(
        name=spec.name,
        expectation=spec.expectation,
        kwargs=spec.kwargs,
        columns=derived.inputs,
        severity=severity,
        description=description,
        derived=derived.name,
    )


def derived_median_between(
    name: str,
    derived: DerivedColumn,
    *,
    min_value: float,
    max_value: float,
    severity: Severity = "critical",
    description: str,
) -> CheckSpec:
    """Check that the median of a derived check column lies within bounds.

    Returns
    -------
    CheckSpec
        An ``ExpectColumnMedianToBeBetween`` check on ``derived.name``.
    """
    return CheckSpec(
        name=name,
        expectation="ExpectColumnMedianToBeBetween",
        kwargs={"column": derived.name, "min_value": min_value, "max_value": max_value},
        columns=derived.inputs,
        severity=severity,
        description=description,
        derived=derived.name,
    )


def in_set(
    name: str,
    column: str,
    values: Iterable[str],
    *,
    severity: Severity = "critical",
) -> CheckSpec:
    """Check that every non-null value of a column is one of ``values``.

    Returns
    -------
    CheckSpec
        An ``ExpectColumnValuesToBeInSet`` check.
    """
    allowed = sorted(values)
    return CheckSpec(
        name=name,
        expectation="ExpectColumnValuesToBeInSet",
        kwargs={"column": column, "value_set": allowed},
        columns=(column,),
        severity=severity,
        description=f"{column} in {{{', '.join(allowed)}}}",
    )


def unique(name: str, column: str, *, severity: Severity = "critical") -> CheckSpec:
    """Check that no value of a column occurs twice.

    Returns
    -------
    CheckSpec
        An ``ExpectColumnValuesToBeUnique`` check.
    """
    return CheckSpec(
        name=name,
        expectation="ExpectColumnValuesToBeUnique",
        kwargs={"column": column},
        columns=(column,),
        severity=severity,
        description=f"{column} is unique",
    )


def compound_unique(
    name: str, columns: tuple[str, ...], *, severity: Severity = "critical"
) -> CheckSpec:
    """Check that no combination of values of ``columns`` occurs twice.

    Returns
    -------
    CheckSpec
        An ``ExpectCompoundColumnsToBeUnique`` check.
    """
    return CheckSpec(
        name=name,
        expectation="ExpectCompoundColumnsToBeUnique",
        kwargs={"column_list": list(columns)},
        columns=columns,
        severity=severity,
        description=f"({', '.join(columns)}) is unique",
    )


def greater(
    name: str,
    column_a: str,
    column_b: str,
    *,
    or_equal: bool,
    severity: Severity = "critical",
) -> CheckSpec:
    """Check row by row that ``column_a > column_b`` (or ``>=`` if ``or_equal``).

    Returns
    -------
    CheckSpec
        An ``ExpectColumnPairValuesAToBeGreaterThanB`` check.
    """
    return CheckSpec(
        name=name,
        expectation="ExpectColumnPairValuesAToBeGreaterThanB",
        # A missing value is the not-null check's finding, not a failed comparison.
        kwargs={
            "column_A": column_a,
            "column_B": column_b,
            "or_equal": or_equal,
            "ignore_row_if": "either_value_is_missing",
        },
        columns=(column_a, column_b),
        severity=severity,
        description=f"{column_a} {'>=' if or_equal else '>'} {column_b}",
    )
