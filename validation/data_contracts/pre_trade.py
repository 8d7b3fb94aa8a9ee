"""Features are pre-trade by contract: a family's features read only columns known before the order.

A model that learns from a column known only after the order (the fill price, the realised
shortfall, the generator's true same-day volatility) looks excellent on history and is
useless, or worse, before the next order. Each family declares what its features read
(:attr:`models.ModelFamily.feature_inputs`) and which columns it holds to be known before
the order (:attr:`models.ModelFamily.pre_trade_columns`); the table's data contract is the
authority on what is pre-trade (:attr:`expectations.TableContract.pre_trade`). Two critical
checks per family, reported with the family's table, so that a failure rejects the data
like any other contract failure:

``<family>_features_pre_trade``
    The declaration: every feature's inputs are in the family's ``pre_trade_columns`` and
    in the contract's ``pre_trade``, and the family lists no column as pre-trade that the
    contract does not. Needs no data.
``<family>_features_read_declared_inputs``
    The behaviour: on the first :data:`SAMPLE_ROWS` rows, the features computed from the
    declared input columns alone are exactly those computed from the whole table, with
    one column per declared feature. Code that reads an undeclared column fails, naming it.
    Not evaluated when a declared input is missing or mistyped (the table's own schema
    check fails and names it).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd

from expectations import TableContract
from expectations.prepare import column_problems
from models import ModelFamily
from validation.data_contracts.results import CheckResult, Status

__all__ = ["SAMPLE_ROWS", "family_feature_checks"]

#: Rows the behavioural check computes the features on: enough to exercise every code
#: path of a vectorised feature function, few enough to cost nothing.
SAMPLE_ROWS = 256

_DECLARATION = "expect_feature_inputs_to_be_pre_trade"
_BEHAVIOUR = "expect_features_to_read_only_declared_inputs"


def _slug(family: ModelFamily) -> str:
    return family.registered_name.replace("-", "_")


def _declared_inputs(family: ModelFamily) -> list[str]:
    return list(dict.fromkeys(c for columns in family.feature_inputs.values() for c in columns))


def _not_pre_trade(contract: TableContract, column: str) -> str:
    if column in contract.post_trade:
        reason = contract.post_trade[column]
        return f"which the {contract.table} contract declares post-trade ({reason})"
    return f"which the {contract.table} contract does not declare pre-trade"


def _result(
    family: ModelFamily,
    contract: TableContract,
    frame: pd.DataFrame,
    kind: str,
    problems: list[tuple[str | None, str]],
    *,
    status: Status | None = None,
) -> CheckResult:
    behaviour = kind == _BEHAVIOUR
    suffix = "features_read_declared_inputs" if behaviour else "features_pre_trade"
    description = (
        f"features of {family.registered_name} computed from their declared inputs alone "
        "equal those computed from the whole table"
        if behaviour
        else f"features of {family.registered_name} read only columns the "
        f"{contract.table} contract declares pre-trade"
    )
    # A refusal names the offending columns; otherwise the check is about every input.
    named = tuple(dict.fromkeys(column for column, _ in problems if column is not None))
    columns = named or tuple(_declared_inputs(family))
    final: Status = status or ("failed" if problems else "passed")
    return CheckResult(
        table=contract.table,
        check=f"{_slug(family)}_{suffix}",
        columns=columns,
        severity="critical",
        status=final,
        success=final == "passed",
        expectation=kind,
        description=description,
        element_count=len(frame),
        detail="; ".join(text for _, text in problems) or None,
    )


def _declaration(family: ModelFamily, contract: TableContract, frame: pd.DataFrame) -> CheckResult:
    problems: list[tuple[str | None, str]] = []
    claimed = set(family.pre_trade_columns)
    for feature, columns in family.feature_inputs.items():
        if not columns:
            problems.append((None, f"feature {feature} declares no input columns"))
        for column in columns:
            if column not in contract.pre_trade:
                why = _not_pre_trade(contract, column)
                problems.append((column, f"feature {feature} reads {column}, {why}"))
            elif column not in claimed:
                problems.append(
                    (
                        column,
                        f"feature {feature} reads {column}, which the family does not list in "
                        "pre_trade_columns",
                    )
                )
    for column in family.pre_trade_columns:
        if column not in contract.pre_trade:
            why = _not_pre_trade(contract, column)
            problems.append((column, f"pre_trade_columns lists {column}, {why}"))
    return _result(family, contract, frame, _DECLARATION, problems)


def _undeclared_read(
    error: KeyError, frame: pd.DataFrame, declared: list[str], contract: TableContract
) -> list[tuple[str | None, str]]:
    text = str(error.args[0]) if error.args else str(error)
    read = [c for c in frame.columns if c not in declared and (c == text or repr(c) in text)]
    if not read:
        return [
            (None, f"computed from the declared inputs alone the features raise KeyError {text}")
        ]
    return [
        (
            column,
            f"the features read {column}, which feature_inputs does not declare"
            + ("" if column in contract.pre_trade else f" and {_not_pre_trade(contract, column)}"),
        )
        for column in read
    ]


def _quietly(family: ModelFamily, frame: pd.DataFrame) -> pd.DataFrame:
    # Bad values (a negative ADV under a log) are the table checks' business; here they
    # would only repeat as numerical warnings.
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return family.features(frame)


def _behaviour(family: ModelFamily, contract: TableContract, frame: pd.DataFrame) -> CheckResult:
    declared = _declared_inputs(family)
    blocking = {c: p for c, p in column_problems(contract, frame).items() if c in declared} | {
        c: "missing" for c in declared if c not in frame.columns
    }
    if blocking:
        reason = "; ".join(f"column {c} {p}" for c, p in blocking.items())
        return _result(
            family,
            contract,
            frame,
            _BEHAVIOUR,
            [(None, f"not evaluated: {reason}")],
            status="skipped",
        )
    sample = frame.iloc[:SAMPLE_ROWS].reset_index(drop=True)
    try:
        whole = _quietly(family, sample)
    except Exception as exc:  # noqa: BLE001 - any failure is reported, never raised
        problem = f"the features cannot be computed from this data: {type(exc).__name__}: {exc}"
        return _result(family, contract, frame, _BEHAVIOUR, [(None, problem)], status="error")
    try:
        alone = _quietly(family, sample[declared])
    except KeyError as exc:
        problems = _undeclared_read(exc, sample, declared, contract)
        return _result(family, contract, frame, _BEHAVIOUR, problems)
    except Exception as exc:  # noqa: BLE001 - any failure is reported, never raised
        problem = (
            f"computed from the declared inputs alone the features raise {type(exc).__name__}: "
            f"{exc}"
        )
        return _result(family, contract, frame, _BEHAVIOUR, [(None, problem)])
    problems: list[tuple[str | None, str]] = []
    if list(whole.columns) != list(family.feature_inputs):
        problems.append(
            (
                None,
                f"the features are {list(whole.columns)}, feature_inputs declares "
                f"{list(family.feature_inputs)}",
            )
        )
    elif not alone.reset_index(drop=True).equals(whole.reset_index(drop=True)):
        differ = [c for c in whole.columns if not alone[c].equals(whole[c])]
        problems.append(
            (
                None,
                f"features {differ} change when the undeclared columns are removed: they read "
                "a column feature_inputs does not declare",
            )
        )
    return _result(family, contract, frame, _BEHAVIOUR, problems)


def family_feature_checks(
    families: Iterable[ModelFamily], contract: TableContract, frame: pd.DataFrame
) -> list[CheckResult]:
    """Check that the features of each family trained on ``contract.table`` are pre-trade.

    Parameters
    ----------
    families : iterable of ModelFamily
        Families to check; those trained on another table are ignored.
    contract : TableContract
        The table's contract, whose ``pre_trade`` declaration is the authority.
    frame : DataFrame
        The table (its first :data:`SAMPLE_ROWS` rows are used); not modified.

    Returns
    -------
    list of CheckResult
        Two critical results per family (see the module docstring); a failure's
        ``columns`` name the offending columns and its message says why each is refused.
    """
    results = []
    for family in families:
        if family.table == contract.table:
            results += [_declaration(family, contract, frame), _behaviour(family, contract, frame)]
    return results
