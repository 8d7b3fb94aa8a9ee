"""Decide which checks of a contract can run on a frame, and compute derived check columns.

A check whose columns are missing, or (for value checks) have the wrong kind, is not
run: it is reported as skipped with the reason, while the critical presence or kind
check of that column fails and names it. This way a missing column gives one clear
failure instead of a crash or a cascade of errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from expectations.dtypes import dtype_matches
from expectations.spec import CheckSpec, TableContract

__all__ = ["PreparedTable", "column_problems", "prepare"]


@dataclass(frozen=True)
class PreparedTable:
    """A frame ready for validation against a contract.

    Attributes
    ----------
    contract : TableContract
        The contract the frame is checked against.
    frame : DataFrame
        The schema columns that are present, with a fresh ``RangeIndex`` (example rows
        are reported by position), plus the derived check columns the runnable checks read.
    runnable : tuple of CheckSpec
        Checks that can run, in contract order.
    skipped : Mapping of str to str
        Checks that cannot run, by name, with the reason.
    """

    contract: TableContract
    frame: pd.DataFrame
    runnable: tuple[CheckSpec, ...]
    skipped: Mapping[str, str]


def column_problems(contract: TableContract, frame: pd.DataFrame) -> dict[str, str]:
    """Return what is wrong with each schema column that is missing or of the wrong kind.

    Returns
    -------
    dict of str to str
        ``{"daily_vol": "missing"}`` or ``{"qty": "dtype str, expected numeric"}``.
    """
    problems = {}
    for column, kind in contract.schema.items():
        if column not in frame.columns:
            problems[column] = "missing"
        elif not dtype_matches(frame[column].dtype, kind):
            problems[column] = f"dtype {frame[column].dtype}, expected {kind}"
    return problems


def _skip_reason(spec: CheckSpec, problems: Mapping[str, str]) -> str | None:
    if spec.gate == "none":
        return None
    blocking = {
        column: problems[column]
        for column in spec.columns
        if column in problems and (spec.gate == "typed" or problems[column] == "missing")
    }
    if not blocking:
        return None
    return "not evaluated: " + "; ".join(f"column {c} {p}" for c, p in blocking.items())


def prepare(contract: TableContract, frame: pd.DataFrame) -> PreparedTable:
    """Select the runnable checks and add the derived columns they read.

    Parameters
    ----------
    contract : TableContract
        The table's contract.
    frame : DataFrame
        The table; columns outside the schema are ignored, the input is not modified.

    Returns
    -------
    PreparedTable
        The frame to validate, the runnable checks and the skipped ones.
    """
    problems = column_problems(contract, frame)
    runnable, skipped = [], {}
    for spec in contract.checks:
        reason = _skip_reason(spec, problems)
        if reason is None:
            runnable.append(spec)
        else:
            skipped[spec.name] = reason
    present = [column for column in contract.schema if column in frame.columns]
    data = frame[present].reset_index(drop=True)
    needed = dict.fromkeys(spec.derived for spec in runnable if spec.derived is not None)
    derived = {name: contract.derived_column(name).compute(data) for name in needed}
    return PreparedTable(contract, data.assign(**derived), tuple(runnable), skipped)
