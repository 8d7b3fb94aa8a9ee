"""Whether the market moved away from the champion's training data, and what it costs.

Two questions a desk asks before the outcomes of today's orders are known:

**Drift, per feature.** The population stability index (PSI) of today's values against the
training data, over the training data's deciles::

    PSI = sum_b (c_b - r_b) * ln(c_b / r_b)

with ``r_b`` and ``c_b`` the shares of reference and current values in bin ``b`` (a share
of 0 counts as 0.5 / n, so that an empty bin is finite). Bands, the credit-risk
convention: below 0.10 ``stable``, 0.10 to 0.25 ``alert`` (a shift worth a look), 0.25 and
above ``action`` (the population the model learnt is not the one it now decides on). A
two-sample Kolmogorov-Smirnov test (:func:`scipy.stats.ks_2samp`) is reported beside it;
a band above ``stable`` needs it too (p below 0.01), so that a PSI of a few hundred orders'
noise raises nothing. Also reported: the share of today's values outside the training
data's 0.5 % and 99.5 % quantiles (1 % expected), which a mix of calm and volatile days the
model was trained on barely moves. Measured on the generator (three seeds, 60 training
days, the next 30 days), the PSI of ``daily_vol`` reaches the ``action`` band without any
shift: twelve-day regimes make a month's mix of calm and volatile days unlike the training
months'. The bands describe; they are not alerts.

**Expected error before outcomes.** The champion's squared errors on its holdout, re-weighted
by the density ratio of today's orders to the holdout's (a logistic regression telling
them apart, on standardised features): what its error would be on today's orders if only
the orders, not the cost law, had changed. The interval is that of a weighted mean,
clustered by the holdout's trading days. A change of the law itself (impact up for the
same orders) is invisible to any label-free estimate: outcomes analysis catches it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "ALERT_PSI",
    "ACTION_PSI",
    "ErrorEstimate",
    "FeatureDrift",
    "expected_error",
    "feature_drift",
    "population_stability",
]

#: PSI from which a feature's shift is worth a look, and from which it is acted on.
ALERT_PSI, ACTION_PSI = 0.10, 0.25
#: A band above ``stable`` also needs the two-sample test to reject at this level.
SIGNIFICANCE = 0.01


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's shift from the training data to today's orders."""

    feature: str
    psi: float
    ks_statistic: float
    p_value: float
    outside_share: float

    @property
    def band(self) -> str:
        """``stable``, ``alert`` or ``action`` (see the module docstring)."""
        if self.p_value >= SIGNIFICANCE or self.psi < ALERT_PSI:
            return "stable"
        return "action" if self.psi >= ACTION_PSI else "alert"


@dataclass(frozen=True)
class ErrorEstimate:
    """The champion's expected squared error on today's orders, from its holdout's errors."""

    estimate: float
    ci_low: float
    ci_high: float
    holdout_error: float
    effective_n: float

    def covers(self, realised: float) -> bool:
        """Whether ``realised`` (once outcomes arrive) lies in the interval."""
        return self.ci_low <= realised <= self.ci_high


def population_stability(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """The PSI of ``current`` against ``reference`` over the reference's quantile bins.

    Raises
    ------
    ValueError
        If either sample is empty or holds a non-finite value.
    """
    reference, current = _finite(reference, "reference"), _finite(current, "current")
    edges = np.unique(np.quantile(reference, np.linspace(0.0, 1.0, bins + 1))[1:-1])
    ref_share = _shares(reference, edges)
    cur_share = _shares(current, edges)
    return float(np.sum((cur_share - ref_share) * np.log(cur_share / ref_share)))


def _shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=edges.size + 1)
    return np.maximum(counts, 0.5) / values.size


def _finite(values: np.ndarray, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    if values.size == 0 or not np.isfinite(values).all():
        bad = int(np.count_nonzero(~np.isfinite(values)))
        raise ValueError(
            f"{name} must hold finite values, got {values.size} values, {bad} non-finite"
        )
    return values


def feature_drift(reference: pd.DataFrame, current: pd.DataFrame) -> list[FeatureDrift]:
    """PSI, a two-sample test and the share outside the training range, per shared column.

    Raises
    ------
    ValueError
        If they share no column, or a column holds a non-finite value.
    """
    shared = [c for c in reference.columns if c in current.columns]
    if not shared:
        raise ValueError(
            f"expected the same feature columns, got {list(reference.columns)} and "
            f"{list(current.columns)}"
        )
    found = []
    for column in shared:
        ref = _finite(reference[column].to_numpy(), f"reference {column}")
        cur = _finite(current[column].to_numpy(), f"current {column}")
        test = stats.ks_2samp(ref, cur)
        low, high = np.quantile(ref, [0.005, 0.995])
        found.append(
            FeatureDrift(
                column,
                population_stability(ref, cur),
                float(test.statistic),
                float(test.pvalue),
                float(np.mean((cur < low) | (cur > high))),
            )
        )
    return found


def expected_error(
    holdout: pd.DataFrame,
    squared_errors: np.ndarray,
    days: np.ndarray,
    current: pd.DataFrame,
    current_days: int,
) -> ErrorEstimate:
    """The holdout's squared errors re-weighted to today's orders, with a 95 % interval.

    Parameters
    ----------
    holdout, current
        Features of the champion's holdout orders and of today's orders (same columns).
    squared_errors, days
        The champion's squared error on each holdout order, and the order's trading day:
        errors of one day share its market, so the interval is clustered by day (Student's
        t with one degree of freedom fewer than days), as the verdicts' intervals are.
    current_days
        Trading days today's orders span. The interval is one for the error that will be
        *realised* on them: the estimate's own uncertainty plus the day-to-day spread of a
        mean over that many days.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    errors = _finite(squared_errors, "squared_errors")
    if errors.size != len(holdout) or np.shape(days) != errors.shape:
        raise ValueError(
            f"expected one error and one day per holdout order, got {errors.size} errors and "
            f"{np.size(days)} days for {len(holdout)} orders"
        )
    both = pd.concat([holdout, current[holdout.columns]], ignore_index=True).to_numpy(float)
    label = np.r_[np.zeros(len(holdout)), np.ones(len(current))]
    scaled = StandardScaler().fit_transform(both)
    classifier = LogisticRegression(max_iter=1000).fit(scaled, label)
    weights = np.exp(classifier.decision_function(scaled[: len(holdout)]))
    total = float(np.sum(weights))
    mean = float(np.sum(weights * errors) / total)
    codes, _ = pd.factorize(np.asarray(days), sort=True)
    n_days = int(codes.max()) + 1
    day_weight = np.bincount(codes, weights=weights, minlength=n_days)
    day_sums = np.bincount(codes, weights=weights * (errors - mean), minlength=n_days)
    estimate_variance = n_days / (n_days - 1) * np.sum(day_sums**2) / total**2
    day_means = day_sums / np.where(day_weight > 0, day_weight, 1.0)
    day_variance = float(np.sum(day_weight * day_means**2) / total) * n_days / (n_days - 1)
    spread = np.sqrt(estimate_variance + day_variance / max(current_days, 1))
    half = float(stats.t.ppf(0.975, n_days - 1) * spread)
    effective = total**2 / float(np.sum(weights**2))
    return ErrorEstimate(mean, mean - half, mean + half, float(errors.mean()), effective)
