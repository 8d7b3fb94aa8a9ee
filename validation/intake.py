"""Admission of a data snapshot: whether its tables can train and judge a candidate at all.

The data contracts (:mod:`validation.data_contracts`) check each table's content. Admission
adds what a family needs of the snapshot as a whole, so that no defect of the input ever
surfaces later as a crash: the tables the family trains on are present; each table holds
only the columns its contract declares (required or documented ground truth: a column the
contract does not know, or two names equal but for case, is data nobody reviewed) and no
time later than the admission; no numeric column holds an infinity; and the out-of-time
holdout covers enough days to judge a challenger.
Every refusal names the table, the column or check, what was expected and what was found.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from expectations import CONTRACTS, dtype_matches
from models import ModelFamily, Split, out_of_time_split
from validation.data_contracts import ContractReport, run_contracts

__all__ = ["Intake", "admit_split", "check_intake", "column_problems", "non_finite_problems"]


@dataclass(frozen=True)
class Intake:
    """The verdict on a snapshot: contract results, the split, or why it was refused.

    Attributes
    ----------
    report
        The data contracts' results (``None`` when a required table was missing or a
        numeric column held an infinity: the snapshot was refused before the contracts
        ran).
    split
        The out-of-time split, when the snapshot was admitted.
    refusal
        Why the snapshot cannot be used, one problem per line; ``None`` when admitted.
    """

    report: ContractReport | None
    split: Split | None
    refusal: str | None

    @property
    def passed(self) -> bool:
        """True when the snapshot may train and judge a candidate."""
        return self.refusal is None


def check_intake(
    tables: Mapping[str, pd.DataFrame],
    family: ModelFamily,
    holdout_fraction: float,
    min_holdout_days: int,
    as_of: pd.Timestamp,
) -> Intake:
    """Run the contracts and the family's admission checks on a snapshot.

    Parameters
    ----------
    tables
        The snapshot's tables by name.
    family
        The model family to train (it names the tables it needs).
    holdout_fraction, min_holdout_days
        How much of the latest data is held out, and how many days the policy requires.
    as_of
        The admission's time (UTC): no row may be later.

    Returns
    -------
    Intake
        Admitted with its split, or refused with the problems of the first stage that
        found any: missing tables, then unknown columns and future times, then infinities
        (every column listed), then the contracts (every failed check), then the family's
        frame and the split.
    """
    missing = [name for name in family.required_tables if name not in tables]
    if missing:
        return Intake(
            None,
            None,
            f"{family.registered_name} needs the table(s) {', '.join(missing)}, "
            f"found only {', '.join(sorted(tables)) or 'none'}",
        )
    # Columns, times and infinities first: scans of the frames, refused before the
    # data-contract engine has even started.
    problems = column_problems(tables, as_of) or non_finite_problems(tables)
    if problems:
        return Intake(None, None, "\n".join(problems))
    report = run_contracts(tables)
    if not report.passed:
        return Intake(report, None, report.failure_message())
    try:
        frame = family.training_frame(tables)
    except ValueError as exc:
        return Intake(report, None, str(exc))
    split, problem = admit_split(
        frame, family.table, family.time_column, holdout_fraction, min_holdout_days
    )
    return Intake(report, split, problem)


def column_problems(tables: Mapping[str, pd.DataFrame], as_of: pd.Timestamp) -> list[str]:
    """What a snapshot's columns and times say before any check of their values.

    One line per column a contract does not know, per name repeated but for case, and per
    timestamp column with times after ``as_of``, naming table, column and what was found.
    A table no contract covers is not judged here (the family says which tables it needs).
    """
    problems = []
    for name, frame in tables.items():
        contract = CONTRACTS.get(name)
        if contract is None:
            continue
        columns = [str(column) for column in frame.columns]
        problems += _case_twins(name, columns)
        known = set(contract.schema) | set(contract.post_trade)
        unknown = [column for column in columns if column not in known]
        if unknown:
            problems.append(
                f"{name}: expected only the contract's columns (check columns_known: "
                f"{', '.join(sorted(known))}), found {', '.join(unknown)}; drop them, or "
                f"declare them in the table's contract (expectations/{name}.py)"
            )
        problems += _future_times(name, frame, contract.schema, as_of)
    return problems


def _case_twins(table: str, columns: list[str]) -> list[str]:
    by_name: dict[str, list[str]] = {}
    for column in columns:
        by_name.setdefault(column.casefold(), []).append(column)
    return [
        f"{table}: expected one column per name (check column_names_distinct), found "
        f"{' and '.join(same)}, which differ only in case"
        for same in by_name.values()
        if len(same) > 1
    ]


def _future_times(
    table: str, frame: pd.DataFrame, schema: Mapping[str, str], as_of: pd.Timestamp
) -> list[str]:
    problems = []
    for column, kind in schema.items():
        if (
            kind != "timestamp_utc"
            or column not in frame
            or not dtype_matches(frame[column].dtype, kind)
        ):
            continue  # a column of the wrong type is the contract's finding
        later = frame[column] > as_of
        if later.any():
            problems.append(
                f"{table}.{column}: expected times no later than the admission "
                f"({as_of:%Y-%m-%d %H:%M} UTC, check not_in_future), found {int(later.sum())} "
                f"later, the latest {frame[column].max()}"
            )
    return problems


def non_finite_problems(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """One line per numeric column holding +/-infinity, naming table, column and rows.

    Missing values are the contracts' business (they know which columns may be null);
    an infinity is never a valid measurement and would reach the estimators as one.
    """
    problems = []
    for name, frame in tables.items():
        for column in frame.select_dtypes(include="number").columns:
            values = frame[column].to_numpy(dtype=float, na_value=np.nan)
            infinite = np.flatnonzero(np.isinf(values))
            if infinite.size:
                problems.append(
                    f"{name}.{column}: expected finite numbers (check finite_values), found "
                    f"{infinite.size} infinite value(s), first at row {int(infinite[0])}"
                )
    return problems


#: Fewest days a training window may cover: training holds its own last days out (the
#: impact candidate's early stopping), and an out-of-time split needs two days.
MIN_TRAINING_DAYS = 2


def admit_split(
    frame: pd.DataFrame, table: str, time_column: str, holdout_fraction: float, min_days: int
) -> tuple[Split | None, str | None]:
    """Split out of time, refusing a snapshot whose holdout is too short to judge.

    A challenger is compared day by day, and a handful of days gives an interval far
    too narrow, so a weak challenger would look non-inferior.

    Returns
    -------
    tuple
        ``(split, None)`` when admitted, ``(None, reason)`` when refused.
    """
    days = int(frame[time_column].dt.floor("D").nunique())
    if days < 2:
        return None, (
            f"{table}.{time_column}: expected at least 2 trading days for an out-of-time "
            f"split (check holdout_days), found {days}"
        )
    split = out_of_time_split(frame, time_column, holdout_fraction)
    boundary = split.boundary.date()
    windows = (
        (
            split.train,
            "the training window",
            f"before {boundary}",
            MIN_TRAINING_DAYS,
            "training holds its last days out to choose the model's size; check holdout_fraction",
        ),
        (
            split.holdout,
            "the out-of-time holdout",
            f"from {boundary}",
            min_days,
            "the policy requires them to compare a challenger; check holdout_days",
        ),
    )
    for part, window, where, needed, why in windows:
        covered = int(part[time_column].dt.floor("D").nunique())
        if covered < needed:
            return None, (
                f"{table}.{time_column}: {window} covers {covered} day(s) {where}, at least "
                f"{needed} are needed ({why}); supply more history"
            )
    return split, None
