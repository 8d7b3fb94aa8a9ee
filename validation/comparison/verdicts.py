"""The four verdicts of a challenge and the sentence that explains each.

With ``[low, high]`` the 95 % interval of the candidate's mean loss minus the reference's
(positive: the candidate is worse) and ``margin`` the loss the policy lets a candidate
give up (a fraction of the reference's skill):

* ``better``: ``high < 0``, the candidate's loss is lower with 95 % confidence;
* ``non-inferior``: otherwise ``high < margin``, it gives up less than the margin;
* ``worse``: otherwise ``low > 0``, it is significantly worse and not shown to be within
  the margin;
* ``inconclusive``: otherwise, the interval holds both no difference and a loss beyond
  the margin: the holdout cannot tell.

The four are exclusive and exhaustive. A gate passes only the first two: the burden of
proof is on the candidate.
"""

from __future__ import annotations

import math
from typing import Literal

__all__ = ["PASSING_VERDICTS", "VERDICTS", "Verdict", "decide", "explain"]

Verdict = Literal["better", "non-inferior", "worse", "inconclusive"]
VERDICTS: tuple[Verdict, ...] = ("better", "non-inferior", "worse", "inconclusive")
#: Verdicts that let a candidate through: it must show it is no worse than the margin.
PASSING_VERDICTS: tuple[Verdict, ...] = ("better", "non-inferior")


def decide(ci_low: float, ci_high: float, margin: float) -> Verdict:
    """The verdict of an interval of the loss difference against a margin (module docstring).

    Raises
    ------
    ValueError
        If the bounds are not finite and ordered, or the margin is negative.
    """
    if not (math.isfinite(ci_low) and math.isfinite(ci_high) and ci_low <= ci_high):
        raise ValueError(f"expected finite bounds with low <= high, got [{ci_low}, {ci_high}]")
    if not (math.isfinite(margin) and margin >= 0):
        raise ValueError(f"margin must be finite and >= 0, got {margin}")
    if ci_high < 0:
        return "better"
    if ci_high < margin:
        return "non-inferior"
    if ci_low > 0:
        return "worse"
    return "inconclusive"


def explain(
    verdict: Verdict,
    reference: str,
    ci_low: float,
    ci_high: float,
    margin: float,
    margin_fraction: float,
    skill: float,
    n_days: int,
) -> str:
    """One sentence saying why the comparison with ``reference`` got ``verdict``.

    Losses are squared errors in bps²; ``skill`` is the reference's loss reduction over
    the holdout-mean predictor and ``margin = margin_fraction * max(skill, 0)``.
    """
    interval = f"[{ci_low:+.1f}, {ci_high:+.1f}] bps²"
    allowed = (
        f"the margin of {margin:.1f} bps² ({margin_fraction:.0%} of {reference}'s skill of "
        f"{skill:.1f} bps² over the holdout-mean predictor)"
        if skill > 0
        else f"a margin of 0 ({reference} has no skill over the holdout-mean predictor)"
    )
    if verdict == "better":
        return (
            f"The candidate's mean squared error is below {reference}'s with 95 % confidence: "
            f"the whole interval {interval} of the difference lies below 0."
        )
    if verdict == "non-inferior":
        return (
            f"The candidate gives up at most {ci_high:+.1f} bps² of mean squared error to "
            f"{reference} (upper 95 % bound), less than {allowed}."
        )
    if verdict == "worse":
        return (
            f"The candidate's mean squared error is above {reference}'s with 95 % confidence "
            f"(interval {interval}), and it is not shown to stay within {allowed}."
        )
    return (
        f"The interval {interval} holds both no difference and a loss beyond {allowed}: "
        f"{n_days} holdout days cannot show that the candidate is as good as {reference}."
    )
