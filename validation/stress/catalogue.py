"""The one catalogue of the stress metrics that gates judge, policies limit and reports show.

A :class:`GateMetric` names a column of the gate table (:func:`gate_table`), which is also its
key in the policy file; says where its value is read in
:meth:`~validation.stress.report.StressReport.wide` (``metric/statistic``); and gives the name
of its gate check, the header reports show and the unit written after its limit. There are
two kinds:

* :data:`SCENARIO_LIMIT_METRICS` have one limit per scenario (the fields of
  :class:`validation.policy.ScenarioLimits`: ``stress_default`` and ``stress_scenarios``);
* :data:`RISK_METRIC_DEFINITIONS` have an alert and an action level each (the policy's
  ``risk_metrics``, judged in its ``risk_metric_scenarios``), with the default levels a
  policy falls back on.

:mod:`validation.gates`, :mod:`validation.policy` and the reports read the names from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from validation.stress.metrics import ESSAY_RISK_LEVELS
from validation.stress.report import StressReport

__all__ = [
    "GATE_LABELS",
    "GATE_METRICS",
    "GATE_STATISTICS",
    "RISK_METRICS",
    "RISK_METRIC_DEFINITIONS",
    "SCENARIO_LIMIT_METRICS",
    "GateMetric",
    "RiskMetric",
    "gate_table",
]


@dataclass(frozen=True)
class GateMetric:
    """A stress metric the gates judge.

    Attributes
    ----------
    name
        Column of :func:`gate_table` and key in the policy file.
    metric, statistic
        Where the value is read: column ``metric/statistic`` of ``StressReport.wide()``.
    gate
        Name of the gate check in gate reports and the audit log.
    label
        Column header in human-readable reports.
    unit
        Written after the value's limit in gate reports (empty for fractions and scores).
    """

    name: str
    metric: str
    statistic: str
    gate: str
    label: str
    unit: str

    @property
    def column(self) -> str:
        """Column of ``StressReport.wide()`` holding the value."""
        return f"{self.metric}/{self.statistic}"


@dataclass(frozen=True)
class RiskMetric(GateMetric):
    """A risk metric, judged by how often its alert and action levels are exceeded.

    Its gate-table columns are ``name`` (the share of order-paths above the action level),
    ``name_alert_rate`` and ``name_value`` (the p95 over order-paths; the worst order for
    leakage).
    """

    default_alert: float
    default_action: float

    @property
    def alert_column(self) -> str:
        """Column of ``StressReport.wide()`` holding the alert-exceedance rate."""
        return f"{self.metric}/alert_rate"

    @property
    def value_column(self) -> str:
        """Column of ``StressReport.wide()`` holding the metric's p95 (or worst) value."""
        return f"{self.metric}/value"


def _risk(name: str, label: str) -> RiskMetric:
    alert, action = ESSAY_RISK_LEVELS[name]
    return RiskMetric(
        name=name,
        metric=f"risk/{name}",
        statistic="action_rate",
        gate=f"risk metric {name}",
        label=label,
        unit="",
        default_alert=alert,
        default_action=action,
    )


#: Metrics with a limit per scenario, in the order the gates check them.
SCENARIO_LIMIT_METRICS: tuple[GateMetric, ...] = (
    GateMetric(
        name="cvar95_over_loss_budget",
        metric="shortfall_bps",
        statistic="cvar95_over_budget",
        gate="stress CVaR95",
        label="CVaR95 shortfall / loss budget",
        unit="x the book's pre-trade loss budget",
    ),
    GateMetric(
        name="kill_switch_rate",
        metric="control_rate",
        statistic="kill_switch",
        gate="kill-switch rate",
        label="kill-switch rate",
        unit="",
    ),
    GateMetric(
        name="completion_share",
        metric="completion_share",
        statistic="mean",
        gate="completion share",
        label="share left for completion",
        unit="",
    ),
    GateMetric(
        name="participation_cap_rate",
        metric="control_step_share",
        statistic="participation_cap",
        gate="participation-cap rate",
        label="share of live steps the cap clipped",
        unit="",
    ),
)

#: The five risk metrics of the background essay, with its alert / action levels as defaults
#: (:data:`~validation.stress.metrics.ESSAY_RISK_LEVELS`).
RISK_METRIC_DEFINITIONS: tuple[RiskMetric, ...] = (
    _risk("realised_slippage", "realised slippage vs interval VWAP"),
    _risk("market_impact", "market impact vs mid before trade"),
    _risk("participation_5min", "requested 5-min participation"),
    _risk("fill_price_dispersion", "fill-price std vs historical"),
    _risk("information_leakage", "information leakage"),
)

#: Every gate metric, scenario limits first.
GATE_METRICS: tuple[GateMetric, ...] = SCENARIO_LIMIT_METRICS + RISK_METRIC_DEFINITIONS

#: Names of the risk metrics, the keys of a policy's ``risk_metrics``.
RISK_METRICS = tuple(m.name for m in RISK_METRIC_DEFINITIONS)

#: Which statistic of each gate metric the gates read: column of ``StressReport.wide()``; and
#: the CVaR95 in bps and the loss budget, which reports show beside the ratio the gate judges.
GATE_STATISTICS = (
    {m.name: m.column for m in GATE_METRICS}
    | {f"{m.name}_alert_rate": m.alert_column for m in RISK_METRIC_DEFINITIONS}
    | {f"{m.name}_value": m.value_column for m in RISK_METRIC_DEFINITIONS}
    | {
        "cvar95_shortfall_bps": "shortfall_bps/cvar95",
        "loss_budget_bps": "shortfall_bps/loss_budget",
    }
)

#: Report header of each column of the gate table.
GATE_LABELS = (
    {m.name: m.label for m in SCENARIO_LIMIT_METRICS}
    | {m.name: f"{m.label}: share over action" for m in RISK_METRIC_DEFINITIONS}
    | {f"{m.name}_alert_rate": f"{m.label}: share over alert" for m in RISK_METRIC_DEFINITIONS}
    | {f"{m.name}_value": f"{m.label} (p95)" for m in RISK_METRIC_DEFINITIONS}
    | {"cvar95_shortfall_bps": "CVaR95 shortfall (bps)", "loss_budget_bps": "loss budget (bps)"}
)


def gate_table(report: StressReport) -> pd.DataFrame:
    """One row per scenario and model with the statistics the gates judge.

    Parameters
    ----------
    report : StressReport
        Output of :func:`validation.stress.run_stress`.

    Returns
    -------
    DataFrame
        ``scenario, model`` and the keys of :data:`GATE_STATISTICS`.
    """
    wide = report.wide()
    table = pd.DataFrame({name: wide[column] for name, column in GATE_STATISTICS.items()})
    return table.reset_index()
