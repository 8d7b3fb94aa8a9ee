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
    """A risk metric: above ``default_alert`` it warns, above ``default_action`` it fails."""

    default_alert: float
    default_action: float


def _risk(
    name: str, metric: str, statistic: str, label: str, alert: float, action: float
) -> RiskMetric:
    return RiskMetric(
        name=name,
        metric=metric,
        statistic=statistic,
        gate=f"risk metric {name}",
        label=label,
        unit="",
        default_alert=alert,
        default_action=action,
    )


#: Metrics with a limit per scenario, in the order the gates check them.
SCENARIO_LIMIT_METRICS: tuple[GateMetric, ...] = (
    GateMetric(
        name="cvar95_shortfall_bps",
        metric="shortfall_bps",
        statistic="cvar95",
        gate="stress CVaR95",
        label="CVaR95 shortfall (bps)",
        unit="bps",
    ),
    GateMetric(
        name="kill_switch_rate",
        metric="control_rate",
        statistic="kill_switch",
        gate="kill-switch rate",
        label="kill-switch rate",
        unit="",
    ),
)

#: The five risk metrics with their default levels: realised slippage 0.10 % / 0.25 %,
#: market impact 0.05 % / 0.15 %, participation 15 % / 25 % of 5-minute volume, fill-price
#: variance 2x / 3x its historical level, leakage score 0.75 / 0.90.
RISK_METRIC_DEFINITIONS: tuple[RiskMetric, ...] = (
    _risk("realised_slippage", "realised_slippage", "mean", "realised slippage", 0.0010, 0.0025),
    _risk("market_impact", "market_impact_cost", "mean", "market impact", 0.0005, 0.0015),
    _risk(
        "participation_5min",
        "max_participation_5min",
        "p95",
        "max 5-min participation (p95)",
        0.15,
        0.25,
    ),
    _risk(
        "fill_price_variance_ratio",
        "fill_price_variance_ratio",
        "mean",
        "fill-price variance ratio",
        2.0,
        3.0,
    ),
    _risk("information_leakage", "information_leakage", "score", "information leakage", 0.75, 0.90),
)

#: Every gate metric, scenario limits first.
GATE_METRICS: tuple[GateMetric, ...] = SCENARIO_LIMIT_METRICS + RISK_METRIC_DEFINITIONS
#: Names of the risk metrics, the keys of a policy's ``risk_metrics``.
RISK_METRICS = tuple(m.name for m in RISK_METRIC_DEFINITIONS)
#: Which statistic of each gate metric the gates read: column of ``StressReport.wide()``.
GATE_STATISTICS = {m.name: m.column for m in GATE_METRICS}
#: Report header of each gate metric.
GATE_LABELS = {m.name: m.label for m in GATE_METRICS}


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
