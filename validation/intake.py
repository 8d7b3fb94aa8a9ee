"""Admission of a data snapshot: whether its tables can train and judge a candidate at all.

The data contracts (:mod:`validation.data_contracts`) check each table's content. Admission
adds what a family needs of the snapshot as a whole, so that no defect of the input ever
surfaces later as a crash: the tables the family trains on are present, no numeric column
holds an infinity, and the out-of-time holdout covers enough days to judge a challenger.
Every refusal names the table, the column or check, what was expected and what was found.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models import ModelFamily, Split, out_of_time_split
from validation.data_contracts import ContractReport, run_contracts

__all__ = ["Intake", "admit_split", "check_intake", "non_finite_problems"]


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

    Returns
    -------
    Intake
        Admitted with its split, or refused with the problems of the first stage that
        found any: missing tables, then infinities (every column listed), then the
        contracts (every failed check), then the family's frame and the split.
    """
    missing = [name for name in family.required_tables if name not in tables]
    if missing:
        return Intake(
            None,
            None,
            f"{family.registered_name} needs the table(s) {', '.join(missing)}, "
            f"found only {', '.join(sorted(tables)) or 'none'}",
        )
    # Infinities first: the check is a scan of the numeric columns, and a refusal for them
    # comes before the data-contract engine has even started.
    problems = non_finite_problems(tables)
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
