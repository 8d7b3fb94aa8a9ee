"""Champion vs challenger: the candidate and each reference judged on the same holdout.

The candidate (challenger) and each reference (the champion, the baselines) predict the
*same* out-of-time holdout orders.

Loss
    Squared error. The model predicts an *expected* cost that the policy adds up and
    minimises, and the expectation is what minimises squared error (MAE would reward the
    median). MAE, RMSE, bias and pinball losses are reported, never judged
    (:mod:`~validation.comparison.losses`).

Interval
    The per-order loss difference (candidate minus reference; positive means the
    candidate is worse) is averaged, and its 95 % interval is a t interval with trading
    days as clusters and ``n_days - 1`` degrees of freedom: orders of one day share the
    market, so days, not orders, are the independent units, and a holdout has about a
    dozen of them (:mod:`~validation.comparison.inference`).

Margin
    The reference's *skill* is its loss reduction over a naive predictor, the constant
    holdout mean of the target (a level no candidate can move; a training mean would move
    with a candidate's damaged costs and widen its own margin):
    ``skill = MSE(naive) - MSE(reference)``. Most of a cost
    model's squared error is market noise no model removes; skill is the part a model
    can earn. The policy's ``non_inferiority_margin`` is the share of that skill the
    candidate may give up: ``margin = non_inferiority_margin * max(skill, 0)``.

Verdicts, from the interval ``[low, high]`` of the difference
    * ``better``: ``high < 0``;
    * ``non-inferior``: otherwise ``high < margin``;
    * ``worse``: otherwise ``low > 0`` (significantly worse, and not shown to be within
      the margin);
    * ``inconclusive``: otherwise (the interval holds both no difference and a loss
      beyond the margin).

    Each comes with a one-sentence explanation in the report
    (:mod:`~validation.comparison.verdicts`); the gates pass only ``better`` and
    ``non-inferior``: the burden of proof is on the candidate.

``bench/comparison.py`` measures the interval's coverage and the power to flag damaged
candidates by simulation (figures in :mod:`~validation.comparison.inference`), judged on the
impact family's target, the market-adjusted shortfall: over 400 simulated 12-day holdouts,
candidates that give up 21-59 % of the reference's skill (costs scaled by 0.5 or 1.5,
10 bps of noise, volatility or participation ignored) are judged ``worse`` in all of them;
an honest refit of a well-specified model passes in all of them, and the family's own
candidate retrained on fresh days passes against itself in 98 % (generator's regimes) and
100 % (independent days). ``bench/verdicts.py`` measures the whole verdict (comparison,
calibration, decisions, stress) against the generator's ground truth.
"""

from validation.comparison.calibration import Calibration, calibration
from validation.comparison.inference import DayClusteredInterval, day_clustered_interval
from validation.comparison.losses import PRIMARY_LOSS, loss_metrics, pinball_loss, squared_error
from validation.comparison.paired import METHOD, PairedComparison, compare_paired
from validation.comparison.report import ComparisonReport, compare_candidate, segment_metrics
from validation.comparison.verdicts import PASSING_VERDICTS, VERDICTS, Verdict, decide, explain

__all__ = [
    "Calibration",
    "METHOD",
    "PASSING_VERDICTS",
    "PRIMARY_LOSS",
    "VERDICTS",
    "ComparisonReport",
    "DayClusteredInterval",
    "PairedComparison",
    "Verdict",
    "calibration",
    "compare_candidate",
    "compare_paired",
    "day_clustered_interval",
    "decide",
    "explain",
    "loss_metrics",
    "pinball_loss",
    "segment_metrics",
    "squared_error",
]
