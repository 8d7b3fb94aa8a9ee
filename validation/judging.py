"""The judging stages of a retrain, as pure functions the flow and the benchmark share.

A retrain judges its candidate in four steps, each a function here: :func:`challenge` (its
predictions against the champion's and the baselines' on the holdout), :func:`stress_books`
(the stress orders, scheduled by each model's policy), :func:`stress_config` (how the
stress engine runs them under the policy's risk levels) and :func:`judge` (the paired
decisions and every gate). The retrain flow wraps each in a Prefect task;
``bench/verdicts.py`` runs the same functions over many seeds to measure how often the
verdict is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from models import ModelFamily, Predictor
from validation.comparison import ComparisonReport, compare_candidate
from validation.decisions import compare_decisions
from validation.gates import GateReport, evaluate_gates
from validation.policy import ModelPolicy
from validation.stress import StressConfig, StressReport
from validation.stress.catalogue import gate_table

__all__ = ["challenge", "judge", "stress_books", "stress_config"]


def challenge(
    family: ModelFamily,
    holdout: pd.DataFrame,
    candidate: Predictor,
    references: Mapping[str, Predictor],
    policy: ModelPolicy,
) -> ComparisonReport:
    """Compare the candidate with every reference on the same out-of-time holdout.

    The naive predictor the references' skill is measured from is the holdout's own mean
    cost: a candidate trained on damaged costs cannot move it (the training mean would
    widen its own margin). The candidate's and the champion's calibration are measured
    against the policy's limits.

    Parameters
    ----------
    family : ModelFamily
        The family the models belong to (features, target, time column).
    holdout : DataFrame
        The snapshot's out-of-time holdout (its training frame's rows).
    candidate : Predictor
        The model under validation.
    references : mapping
        ``champion`` (when there is one) and the family's baselines, by name.
    policy : ModelPolicy
        Supplies the non-inferiority margin and the calibration limits.
    """
    return compare_candidate(
        family.features(holdout),
        holdout,
        family.target(holdout),
        candidate,
        dict(references),
        family.time_column,
        policy.non_inferiority_margin,
        calibration_limits=(
            policy.calibration.max_bias_share,
            policy.calibration.max_slope_error,
        ),
    )


def stress_books(
    family: ModelFamily,
    holdout: pd.DataFrame,
    candidate: Predictor,
    reference_name: str,
    reference: Predictor,
) -> dict[str, pd.DataFrame]:
    """The holdout's stress orders scheduled by the candidate's policy and the reference's."""
    book = family.stress_book(holdout)
    return {
        "candidate": family.schedule_book(candidate, book),
        reference_name: family.schedule_book(reference, book),
    }


def stress_config(policy: ModelPolicy, n_paths: int, seed: int) -> StressConfig:
    """The stress run's configuration: ``n_paths`` per order, the policy's risk levels."""
    return StressConfig(
        n_paths=n_paths,
        seed=seed,
        risk_levels={
            name: (levels.alert, levels.action) for name, levels in policy.risk_metrics.items()
        },
    )


def judge(
    family: ModelFamily,
    policy: ModelPolicy,
    policy_sha256: str,
    comparison: ComparisonReport,
    stress: StressReport,
    latency: dict[str, float],
    seed: int,
    required_scenarios: tuple[str, ...] = (),
) -> GateReport:
    """Every gate on the evidence: predictions, decisions, stress, risk and latency.

    Parameters
    ----------
    family, policy, policy_sha256
        The candidate's family and the policy in force (and its hash, for the record).
    comparison, stress
        :func:`challenge`'s report and the stress run of :func:`stress_books`.
    latency
        :func:`validation.latency.measure_latency` of one decision on the serving path.
    seed
        Seed of the paired decisions' bootstrap.
    required_scenarios
        Scenarios that must have been run (the library).
    """
    # Every scenario run is compared; the gates judge the policy's decision scenarios and
    # report the others.
    decisions = compare_decisions(
        stress, tuple(stress.results), family.risk_aversion, policy.decision_margin, seed
    )
    return evaluate_gates(
        policy,
        policy_sha256,
        comparison,
        gate_table(stress),
        latency,
        decisions,
        required_scenarios=required_scenarios,
    )
