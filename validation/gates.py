"""Gates: every check a candidate must pass before anyone may sign it off.

A gate check compares one measured value with one limit from the policy. The
report lists every check (value, limit, pass/fail), so a validator sees what was
checked, not only what failed. Risk metrics are judged per order-path: more order-paths
above the *action* level than the policy allows fail the gate, above the *alert* level
warn. A latency figure that a busy host may have inflated past its budget is a warning too,
to be re-measured (:mod:`validation.latency`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import pandas as pd

from validation.comparison import PASSING_VERDICTS, ComparisonReport
from validation.decisions import DecisionComparison
from validation.latency import disturbance, latency_status
from validation.policy import ModelPolicy
from validation.stress.catalogue import (
    RISK_METRIC_DEFINITIONS,
    SCENARIO_LIMIT_METRICS,
    RiskMetric,
)

__all__ = [
    "GateCheck",
    "GateReport",
    "calibration_checks",
    "decision_checks",
    "evaluate_gates",
    "stress_checks",
]

Status = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class GateCheck:
    """One measured value against one limit."""

    gate: str
    subject: str
    value: float | str
    limit: str
    status: Status

    @property
    def passed(self) -> bool:
        """Warnings pass; only ``fail`` blocks."""
        return self.status != "fail"


@dataclass(frozen=True)
class GateReport:
    """All gate checks of one candidate and the policy they were judged by."""

    checks: tuple[GateCheck, ...]
    policy_sha256: str

    @property
    def passed(self) -> bool:
        """True when no check failed."""
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[GateCheck]:
        """The failing checks."""
        return [c for c in self.checks if not c.passed]

    def summary(self) -> dict[str, object]:
        """JSON-serialisable report."""
        return {
            "passed": self.passed,
            "policy_sha256": self.policy_sha256,
            "counts": {
                s: sum(c.status == s for c in self.checks) for s in ("pass", "warn", "fail")
            },
            "checks": [asdict(c) for c in self.checks],
        }

    def to_markdown(self) -> str:
        """A Markdown table of every check."""
        head = f"# Gates: {'PASSED' if self.passed else 'FAILED'}\n\n"
        rows = ["| gate | subject | value | limit | result |", "|---|---|---|---|---|"]
        for c in self.checks:
            value = f"{c.value:.4g}" if isinstance(c.value, float) else c.value
            rows.append(f"| {c.gate} | {c.subject} | {value} | {c.limit} | {c.status.upper()} |")
        return head + "\n".join(rows) + f"\n\npolicy sha256: `{self.policy_sha256}`\n"

    def failure_message(self) -> str:
        """One line per failing check."""
        return "\n".join(
            f"  {c.gate} [{c.subject}]: {c.value} violates {c.limit}" for c in self.failures
        )


def decision_checks(
    policy: ModelPolicy, decisions: Mapping[str, DecisionComparison]
) -> list[GateCheck]:
    """One check per scenario of ``decision_scenarios``; only better and non-inferior pass.

    The decisions are the candidate's schedules executed on the same simulated markets as
    the reference's, every path completed at a cost, so a schedule that runs into a control
    pays for what the control held back; a missing scenario fails (no evidence, no pass).
    Scenarios outside ``decision_scenarios`` that were compared are reported: a verdict
    other than better or non-inferior there warns.
    """
    checks = []
    for scenario in policy.decision_scenarios:
        d = decisions.get(scenario)
        if d is None:
            checks.append(
                GateCheck(
                    gate="decisions",
                    subject=scenario,
                    value="not run",
                    limit="the candidate's decisions are judged in every decision scenario",
                    status="fail",
                )
            )
            continue
        checks.append(_decision_check(policy, d, judged=True))
    reported = [d for s, d in decisions.items() if s not in policy.decision_scenarios]
    return checks + [_decision_check(policy, d, judged=False) for d in reported]


def _decision_check(policy: ModelPolicy, d: DecisionComparison, judged: bool) -> GateCheck:
    passing = d.verdict in PASSING_VERDICTS
    return GateCheck(
        gate="decisions",
        subject=f"vs {d.reference} in {d.scenario}",
        value=d.verdict,
        limit=(
            f"upper end of the 95% paired interval of the book's cost plus risk, "
            f"{d.ci_high:+.2f} bps, must be < margin {d.margin:.2f} bps "
            f"({policy.decision_margin:.0%} of {d.reference}'s "
            f"{d.reference_objective:.1f} bps). {d.explanation}"
            + (
                ""
                if judged
                else " Reported, not judged: the scenario's market moves against every "
                "order, so the faster schedule wins whatever the model."
            )
        ),
        status="pass" if passing else "fail" if judged else "warn",
    )


def _comparison_checks(comparison: ComparisonReport) -> list[GateCheck]:
    """One check per reference; only ``better`` and ``non-inferior`` pass.

    An ``inconclusive`` verdict fails too: the candidate must show that it is no worse
    than the margin, an interval that cannot tell is no such evidence.
    """
    return [
        GateCheck(
            gate="challenger",
            subject=f"vs {name}",
            value=c.verdict,
            limit=(
                f"upper end of the 95% CI of the squared-error difference, {c.ci_high:+.1f} "
                f"bps², must be < margin {c.margin:.1f} bps² ({c.margin_fraction:.0%} of the "
                f"reference's skill); worse and inconclusive fail: the burden of proof is on "
                f"the candidate"
            ),
            status="pass" if c.verdict in PASSING_VERDICTS else "fail",
        )
        for name, c in comparison.comparisons.items()
    ]


def calibration_checks(comparison: ComparisonReport) -> list[GateCheck]:
    """The candidate's calibration on the holdout is judged; the champion's is flagged.

    A candidate whose bias or slope error lies beyond the policy's limits with 95 %
    confidence, or whose predictions do not vary, fails, however it compares with the
    champion; so does a candidate whose calibration was not measured (no evidence, no
    pass). The champion's own figures on the same holdout warn when beyond the limits: a
    champion wrong the same way is due for revalidation, and it does not make the
    candidate right.
    """
    if "candidate" not in comparison.calibration:
        return [
            GateCheck(
                gate="calibration",
                subject="candidate",
                value="not measured",
                limit="the candidate's bias and slope on the holdout are judged",
                status="fail",
            )
        ]
    checks = []
    for name, c in comparison.calibration.items():
        judged = name == "candidate"
        status: Status = "pass" if not c.miscalibrated else "fail" if judged else "warn"
        checks.append(
            GateCheck(
                gate="calibration",
                subject=name,
                value=f"bias {c.bias_share:+.1%}, slope error {c.slope_error:+.3f}",
                limit=(
                    f"bias and slope error inside their limits unless the whole 95% interval "
                    f"lies beyond them ({'judged' if judged else 'flagged, not judged'}): "
                    f"{c.explanation}"
                ),
                status=status,
            )
        )
    return checks


def _missing_scenario_checks(
    policy: ModelPolicy, stress: pd.DataFrame, required: tuple[str, ...]
) -> list[GateCheck]:
    """A scenario the policy needs but the stress run lacks fails: no evidence, no pass."""
    ran = set(stress.loc[stress["model"] == "candidate", "scenario"])
    judged = [s for m in RISK_METRIC_DEFINITIONS for s in policy.risk_scenarios(m.name)]
    needed = dict.fromkeys([*required, *policy.risk_metric_scenarios, *judged])
    return [
        GateCheck(
            gate="stress coverage",
            subject=scenario,
            value="not run",
            limit="every scenario of the library and of risk_metric_scenarios must be run",
            status="fail",
        )
        for scenario in needed
        if scenario not in ran
    ]


def _risk_check(policy: ModelPolicy, scenario: str, metric: RiskMetric, row: object) -> GateCheck:
    """A risk metric judged by its exceedance rates over order-paths, not by its mean."""
    levels = policy.risk_metrics[metric.name]
    allowed = policy.risk_exceedance
    action_rate = float(getattr(row, metric.name))
    alert_rate = float(getattr(row, f"{metric.name}_alert_rate"))
    value = float(getattr(row, f"{metric.name}_value"))
    # Leakage is a correlation over all of an order's paths: one score per order.
    unit = "orders" if metric.name == "information_leakage" else "order-paths"
    status: Status = (
        "fail"
        if not math.isfinite(action_rate) or action_rate > allowed.action_rate
        else "warn"
        if alert_rate > allowed.alert_rate
        else "pass"
    )
    return GateCheck(
        gate=metric.gate,
        subject=scenario,
        value=action_rate,
        limit=(
            f"share of {unit} above action {levels.action:g} <= {allowed.action_rate:g} "
            f"(above alert {levels.alert:g}: {alert_rate:.1%}, warns over "
            f"{allowed.alert_rate:g}; p95 {value:.4g})"
        ),
        status=status,
    )


def stress_checks(policy: ModelPolicy, stress: pd.DataFrame) -> list[GateCheck]:
    """The candidate's stress limits and risk metrics, scenario by scenario.

    A limit the reference's own schedule breaches on the same book and the same simulated
    markets is judging the book (its names, sizes and times of day), not the model: the
    candidate's breach of it warns, with the reference's figure beside it, instead of
    failing. Only what the candidate's schedule does and the reference's does not can
    reject it.

    Parameters
    ----------
    policy : ModelPolicy
        The registered model's policy (its scenario limits and risk levels).
    stress : DataFrame
        :func:`validation.stress.catalogue.gate_table` of the stress report; rows of
        ``model == "candidate"`` are judged, the other model's rows are the reference.

    Returns
    -------
    list of GateCheck
        One per limit the policy sets in a scenario that was run, and one per risk metric
        in the scenarios the policy judges it in.
    """
    candidate = stress["model"] == "candidate"
    references = {row.scenario: row for row in stress.loc[~candidate].itertuples(index=False)}
    checks = []
    for row in stress.loc[candidate].itertuples(index=False):
        reference = references.get(row.scenario)
        theirs = (
            {} if reference is None else {c.gate: c for c in _scenario_checks(policy, reference)}
        )
        for check in _scenario_checks(policy, row):
            if check.status == "fail" and check.gate in theirs:
                check = _excused_if_reference_fails(policy, check, theirs[check.gate], reference)
            checks.append(check)
    return checks


def _scenario_checks(policy: ModelPolicy, row: Any) -> list[GateCheck]:
    """Every limit and risk metric the policy sets in ``row``'s scenario, on ``row``."""
    scenario = row.scenario
    limits = policy.scenario_limits(scenario)
    checks = []
    for m in SCENARIO_LIMIT_METRICS:
        value, limit = getattr(row, m.name), getattr(limits, m.name)
        if limit is not None:
            checks.append(_reported(policy, m.name, _upper(m.gate, scenario, value, limit, m.unit)))
    for m in RISK_METRIC_DEFINITIONS:
        if scenario in policy.risk_scenarios(m.name):
            checks.append(_reported(policy, m.name, _risk_check(policy, scenario, m, row)))
    return checks


def _reported(policy: ModelPolicy, metric: str, check: GateCheck) -> GateCheck:
    """``check`` reported, not judged, when the policy lists its metric in reported_limits."""
    if metric not in policy.reported_limits:
        return check
    return replace(
        check,
        limit=(
            f"{check.limit}; reported, not judged: no schedule within the family's policy "
            f"can breach it"
        ),
        status="warn" if check.status == "fail" else check.status,
    )


def _excused_if_reference_fails(
    policy: ModelPolicy, check: GateCheck, same: GateCheck, reference: Any
) -> GateCheck:
    """``check`` as a warning when the reference's schedule fails it (``same``) as badly.

    Excused only when the reference's figure is a number and the candidate's is at most
    ``reference_breach_tolerance`` above it: a candidate that breaches a limit much further
    than the reference does is judged on the difference.
    """
    ours, theirs = float(check.value), float(same.value)
    within = ours <= theirs * (1.0 + policy.reference_breach_tolerance)
    if same.passed or not math.isfinite(theirs) or not within:
        return check
    return replace(
        check,
        limit=(
            f"{check.limit}; {reference.model}'s own schedule fails it too on this book "
            f"({theirs:.4g}; excused up to {policy.reference_breach_tolerance:.0%} above it): "
            f"the limit judges the book, not the model (warning)"
        ),
        status="warn",
    )


def _upper(gate: str, subject: str, value: float, limit: float, unit: str = "") -> GateCheck:
    value = float(value)
    return GateCheck(
        gate=gate,
        subject=subject,
        value=value,
        limit=f"<= {limit:g}{(' ' + unit) if unit else ''}",
        # NaN compares False: a missing measurement fails instead of passing.
        status="pass" if value <= limit else "fail",
    )


def _latency_checks(policy: ModelPolicy, latency: dict[str, float]) -> list[GateCheck]:
    """CPU time of one decision against the budget; ``inconclusive`` warns (re-measure)."""
    conclusive = bool(latency["conclusive"])
    checks = []
    for stat, limit in (("p50", policy.latency.p50_ms), ("p99", policy.latency.p99_ms)):
        value = float(latency[f"{stat}_ms"])
        status = latency_status(value, limit, conclusive)
        text = f"<= {limit:g} ms CPU time"
        if status == "inconclusive":
            text += f"; inconclusive, re-measure: {disturbance(latency)}"
        checks.append(
            GateCheck(
                gate=f"latency {stat}",
                subject="single-order decision",
                value=value,
                limit=text,
                status="warn" if status == "inconclusive" else status,
            )
        )
    return checks


def evaluate_gates(
    policy: ModelPolicy,
    policy_sha256: str,
    comparison: ComparisonReport,
    stress: pd.DataFrame,
    latency: dict[str, float],
    decisions: Mapping[str, DecisionComparison],
    required_scenarios: tuple[str, ...] = (),
) -> GateReport:
    """Judge a candidate against its policy.

    Parameters
    ----------
    policy : ModelPolicy
        The registered model's policy.
    policy_sha256 : str
        Hash of the policy file, recorded with the report.
    comparison : ComparisonReport
        Candidate vs champion and baselines; a ``worse`` or ``inconclusive`` verdict
        against any of them fails (the candidate must show it is within the margin), and
        so does the candidate's calibration beyond the policy's limits (the champion's
        warns).
    stress : DataFrame
        :func:`validation.stress.catalogue.gate_table` of the stress report: one row per
        (scenario, model) with a column per metric of
        :data:`~validation.stress.catalogue.GATE_METRICS`; rows of ``model == "candidate"``
        are judged.
    latency : dict
        :func:`validation.latency.measure_latency` of one decision on the production path:
        ``p50_ms`` and ``p99_ms`` (CPU time) and ``conclusive``. A figure over budget
        fails; from an unsteady measurement, it warns unless it is over by more than
        :data:`~validation.latency.DISTURBANCE_FACTOR` (the host's load rejects nothing).
    decisions : mapping
        :func:`validation.decisions.compare_decisions` by scenario: the candidate's schedules
        against the reference's on the same simulated markets; a ``worse`` or
        ``inconclusive`` verdict in a scenario of the policy's ``decision_scenarios``
        fails, as does a missing one.
    required_scenarios : tuple of str
        Scenarios that must have been run (the library); each missing one fails, as does
        a missing scenario of the policy's ``risk_metric_scenarios``. Non-finite values
        (no fills, no measurement) fail too.
    """
    checks = [
        *_comparison_checks(comparison),
        *calibration_checks(comparison),
        *decision_checks(policy, decisions),
        *_missing_scenario_checks(policy, stress, required_scenarios),
        *stress_checks(policy, stress),
        *_latency_checks(policy, latency),
    ]
    return GateReport(tuple(checks), policy_sha256)
