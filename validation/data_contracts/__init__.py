"""Run the data contracts on a set of tables and report what failed, by severity.

:func:`run_contracts` validates each table against its contract (see
:mod:`expectations`) with Great Expectations and returns a :class:`ContractReport`:
``passed`` is false as soon as one critical check failed (the pipeline must stop and
register nothing); failed warnings are logged and reported, and the run goes on. The
report also holds the pre-trade checks of each model family's features
(:mod:`validation.data_contracts.pre_trade`): a family whose features read a post-trade
column fails them, and the data is refused.

Examples
--------
>>> report = run_contracts({"executions": executions})  # doctest: +SKIP
>>> if not report.passed:  # doctest: +SKIP
...     raise DataRejected(report.failure_message())
"""

from validation.data_contracts.pre_trade import family_feature_checks
from validation.data_contracts.report import ContractReport
from validation.data_contracts.results import CheckResult, TableRun
from validation.data_contracts.runner import run_contracts

__all__ = ["CheckResult", "TableRun", "ContractReport", "family_feature_checks", "run_contracts"]
