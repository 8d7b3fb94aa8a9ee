"""The data types of a data contract: checks, derived check columns and table contracts.

A contract is plain data that a human can read (see :meth:`TableContract.records`):
each :class:`CheckSpec` names one Great Expectations expectation, its keyword
arguments, the data columns it is about, its severity and a one-line description.
Nothing here imports Great Expectations; :mod:`expectations.suite` turns specs
into expectations.

Cross-row checks (time order, feed gaps, price spikes, recomputed shortfall) run
standard expectations on *derived check columns*, computed with pandas by a
:class:`DerivedColumn` and named with the prefix ``chk_`` so they can never be
mistaken for data.

A contract also says *when* each column is known (:attr:`TableContract.pre_trade`,
:attr:`TableContract.post_trade`): only pre-trade columns may feed a model's features,
which :mod:`validation.data_contracts` checks against each model family's declaration.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import pandas as pd

from expectations.dtypes import COLUMN_KINDS, ColumnKind

__all__ = [
    "Severity",
    "SEVERITIES",
    "Gate",
    "DERIVED_PREFIX",
    "CheckSpec",
    "DerivedColumn",
    "TableContract",
]

Severity = Literal["critical", "warning"]
SEVERITIES: tuple[str, ...] = get_args(Severity)

Gate = Literal["none", "present", "typed"]
"""What a check needs before it can run: nothing, its columns present, or present and typed."""

DERIVED_PREFIX = "chk_"

_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")


@dataclass(frozen=True)
class CheckSpec:
    """One check of a data contract, as data.

    Attributes
    ----------
    name : str
        Identifier of the check, unique within its table (``spread_bps_non_negative``).
    expectation : str
        Great Expectations class name (``ExpectColumnValuesToBeBetween``) or the name of
        a custom expectation of :mod:`expectations.custom`.
    kwargs : Mapping
        Keyword arguments of the expectation; ``column`` may name a derived column.
    columns : tuple of str
        The data columns the check is about; reported with every result.
    severity : {"critical", "warning"}
        A failed critical check stops the run; a failed warning is reported only.
    description : str
        One line a human can read, such as ``spread_bps >= 0``.
    gate : {"none", "present", "typed"}
        The check runs only if its ``columns`` are present (``"present"``) or present
        with the kind the schema states (``"typed"``); ``"none"`` always runs.
    derived : str or None
        Name of the derived check column the expectation reads, if any.
    """

    name: str
    expectation: str
    kwargs: Mapping[str, Any]
    columns: tuple[str, ...]
    severity: Severity
    description: str
    gate: Gate = "typed"
    derived: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(
                f"check {self.name}: severity must be one of {SEVERITIES}, got {self.severity!r}"
            )
        if self.gate not in get_args(Gate):
            raise ValueError(
                f"check {self.name}: gate must be one of {get_args(Gate)}, got {self.gate!r}"
            )

    @property
    def expectation_type(self) -> str:
        """The snake-case expectation type, e.g. ``expect_column_values_to_be_between``."""
        return _CAMEL_BOUNDARY.sub("_", self.expectation).lower()


@dataclass(frozen=True)
class DerivedColumn:
    """A check column computed from data columns with pandas before validation.

    Attributes
    ----------
    name : str
        Column name; must start with ``chk_``.
    inputs : tuple of str
        Data columns it is computed from; it is computed only if all are present and typed.
    compute : callable
        ``compute(frame) -> Series`` aligned on ``frame.index``.
    description : str
        What the values mean, in one line.
    """

    name: str
    inputs: tuple[str, ...]
    compute: Callable[[pd.DataFrame], pd.Series]
    description: str

    def __post_init__(self) -> None:
        if not self.name.startswith(DERIVED_PREFIX):
            raise ValueError(
                f"derived column names must start with {DERIVED_PREFIX!r}, got {self.name!r}"
            )


@dataclass(frozen=True)
class TableContract:
    """The data contract of one table: its schema, derived check columns and checks.

    Attributes
    ----------
    table : str
        Table name (``executions``).
    schema : Mapping of str to ColumnKind
        Required columns and their kinds.
    checks : tuple of CheckSpec
        All checks, schema checks included.
    derived : tuple of DerivedColumn
        Derived check columns the checks read.
    key_columns : tuple of str
        Columns shown with every example of a failing row (``order_id``).
    pre_trade : tuple of str
        Schema columns known before the order (or event) a row describes starts: the
        only columns a model's features may be computed from. Empty when the table
        declares none, so no family may compute features from it.
    post_trade : Mapping of str to str
        Columns known only afterwards, or ground truth that production never has, each
        with what it is (named in refusals). They need not be in the schema (a
        generator's ground-truth columns are not required data). A column in neither
        set is not pre-trade either: the declaration is a whitelist.
    """

    table: str
    schema: Mapping[str, ColumnKind]
    checks: tuple[CheckSpec, ...]
    derived: tuple[DerivedColumn, ...] = ()
    key_columns: tuple[str, ...] = field(default=())
    pre_trade: tuple[str, ...] = field(default=())
    post_trade: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._require_unique([c.name for c in self.checks], "check")
        self._require_unique([d.name for d in self.derived], "derived column")
        bad_kinds = {c: k for c, k in self.schema.items() if k not in COLUMN_KINDS}
        if bad_kinds:
            raise ValueError(
                f"{self.table}: column kinds must be in {COLUMN_KINDS}, got {bad_kinds}"
            )
        derived_names = {d.name for d in self.derived}
        for check in self.checks:
            self._require_known_columns(check.name, check.columns)
            if check.derived is not None and check.derived not in derived_names:
                raise ValueError(
                    f"{self.table}.{check.name}: derived column must be one of "
                    f"{sorted(derived_names)}, got {check.derived!r}"
                )
        for derived in self.derived:
            self._require_known_columns(derived.name, derived.inputs)
        self._require_known_columns("pre_trade", self.pre_trade)
        both = sorted(set(self.pre_trade) & set(self.post_trade))
        if both:
            raise ValueError(
                f"{self.table}: a column is pre-trade or post-trade, not both; got {both} in both"
            )

    def _require_unique(self, names: list[str], what: str) -> None:
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(
                f"{self.table}: {what} names must be unique, got duplicates {duplicates}"
            )

    def _require_known_columns(self, owner: str, columns: tuple[str, ...]) -> None:
        unknown = [c for c in columns if c not in self.schema]
        if unknown:
            raise ValueError(
                f"{self.table}.{owner}: columns must be in the schema {list(self.schema)}, "
                f"got {unknown}"
            )

    def check(self, name: str) -> CheckSpec:
        """Return the check called ``name``.

        Raises
        ------
        KeyError
            If the table has no such check.
        """
        for spec in self.checks:
            if spec.name == name:
                return spec
        raise KeyError(
            f"{self.table} has no check {name!r}; checks: {[c.name for c in self.checks]}"
        )

    def derived_column(self, name: str) -> DerivedColumn:
        """Return the derived column called ``name``.

        Raises
        ------
        KeyError
            If the table has no such derived column.
        """
        for derived in self.derived:
            if derived.name == name:
                return derived
        raise KeyError(f"{self.table} has no derived column {name!r}")

    def records(self) -> list[dict[str, str]]:
        """Return the checks as rows of a human-readable table.

        Returns
        -------
        list of dict
            One row per check: ``table, check, columns, severity, expectation, description``.
        """
        return [
            {
                "table": self.table,
                "check": spec.name,
                "columns": ", ".join(spec.columns),
                "severity": spec.severity,
                "expectation": spec.expectation_type,
                "description": spec.description,
            }
            for spec in self.checks
        ]
