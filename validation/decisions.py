"""The candidate's decisions judged: its schedules against the reference's, on the same markets.

The challenger comparison (:mod:`validation.comparison`) judges predictions. What a desk pays
for is the decisions the policy makes from them: the stress engine executes the stress book
twice in every scenario, once on the candidate's schedules and once on the reference's
(the champion's, or a baseline's when there is none), on common random numbers, so path
``i`` of one is path ``i`` of the other in the same simulated market.

The judged quantity is the policy's own objective on the book, ``mean + risk_aversion *
standard deviation`` of the book's implementation shortfall over the paths (bps of the
book's notional, completion cost included): the expected cost the policy minimises plus
its timing-risk penalty. A candidate that trades too fast pays more impact; one that trades
too slowly carries more risk; either raises the objective. The difference ``candidate -
reference`` gets a 95 % percentile interval from a paired bootstrap over paths (both
models' path ``i`` resampled together, so the common market noise cancels) and the same
four verdicts as the prediction comparison, against a margin that is the policy's
``decision_margin`` share of the reference's objective.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from validation.comparison.verdicts import Verdict, decide
from validation.stress.report import StressReport

__all__ = ["DecisionComparison", "compare_decisions"]

#: Bootstrap resamples of the paths; the interval's end points move by well under 0.1 bps
#: between seeds at this count with 10,000 paths.
BOOTSTRAP_RESAMPLES = 400
CANDIDATE = "candidate"


@dataclass(frozen=True)
class DecisionComparison:
    """The candidate's schedules against the reference's in one scenario (bps of notional)."""

    scenario: str
    reference: str
    candidate_objective: float
    reference_objective: float
    difference: float
    ci_low: float
    ci_high: float
    margin: float
    verdict: Verdict
    n_paths: int

    @property
    def explanation(self) -> str:
        """One sentence saying why the decisions got their verdict."""
        interval = f"[{self.ci_low:+.2f}, {self.ci_high:+.2f}] bps"
        where = f"in {self.scenario}, on the same {self.n_paths:,} simulated markets"
        if self.verdict == "better":
            return (
                f"The candidate's schedules cost less than {self.reference}'s {where}: "
                f"the whole interval {interval} of the difference of cost plus risk lies below 0."
            )
        if self.verdict == "non-inferior":
            return (
                f"The candidate's schedules cost at most {self.ci_high:+.2f} bps more than "
                f"{self.reference}'s {where} (upper 95 % bound), within the margin of "
                f"{self.margin:.2f} bps."
            )
        if self.verdict == "worse":
            return (
                f"The candidate's schedules cost more than {self.reference}'s {where} "
                f"(interval {interval}), beyond the margin of {self.margin:.2f} bps."
            )
        return (
            f"The interval {interval} {where} holds both no difference and a cost beyond the "
            f"margin of {self.margin:.2f} bps."
        )

    def as_dict(self) -> dict[str, object]:
        """JSON-serialisable fields, with the explanation."""
        return {**asdict(self), "explanation": self.explanation}


def _objective(cost: np.ndarray, risk_aversion: float) -> np.ndarray:
    """``mean + risk_aversion * std`` of each row of ``cost`` (paths along the last axis)."""
    return cost.mean(axis=-1) + risk_aversion * cost.std(axis=-1, ddof=1)


def compare_decisions(
    report: StressReport,
    scenarios: tuple[str, ...],
    risk_aversion: float,
    margin: float,
    seed: int = 0,
) -> dict[str, DecisionComparison]:
    """Judge the candidate's schedules against the other model's in each of ``scenarios``.

    Parameters
    ----------
    report : StressReport
        A run with exactly two models, ``candidate`` and its reference.
    scenarios : tuple of str
        The scenarios to judge; those the report did not run are left out (the gates fail
        a missing one).
    risk_aversion : float
        Weight of the cost's standard deviation in the policy's objective (the family's).
    margin : float
        Share of the reference's objective the candidate's decisions may cost more.
    seed : int
        Seed of the bootstrap.

    Raises
    ------
    ValueError
        If the report does not hold the candidate and exactly one reference.
    """
    references = [m for m in report.models if m != CANDIDATE]
    if CANDIDATE not in report.models or len(references) != 1:
        raise ValueError(
            f"decisions are judged on a stress run of '{CANDIDATE}' and one reference, got "
            f"models {list(report.models)}"
        )
    (reference,) = references
    rng = np.random.default_rng(seed)
    judged = {}
    for scenario in scenarios:
        if scenario not in report.results:
            continue
        ours = report.results[scenario][CANDIDATE].book_cost_bps
        theirs = report.results[scenario][reference].book_cost_bps
        n = ours.size
        # One resample at a time: memory stays at a few copies of the paths.
        spread = np.empty(BOOTSTRAP_RESAMPLES)
        for b in range(BOOTSTRAP_RESAMPLES):
            pick = rng.integers(0, n, size=n)
            spread[b] = _objective(ours[pick], risk_aversion) - _objective(
                theirs[pick], risk_aversion
            )
        low, high = np.percentile(spread, [2.5, 97.5])
        candidate_objective = float(_objective(ours, risk_aversion))
        reference_objective = float(_objective(theirs, risk_aversion))
        allowed = margin * max(reference_objective, 0.0)
        judged[scenario] = DecisionComparison(
            scenario=scenario,
            reference=reference,
            candidate_objective=candidate_objective,
            reference_objective=reference_objective,
            difference=candidate_objective - reference_objective,
            ci_low=float(low),
            ci_high=float(high),
            margin=allowed,
            verdict=decide(float(low), float(high), allowed),
            n_paths=int(n),
        )
    return judged
