"""Absolute calibration on the holdout: is the cost level right, whatever the champion's.

A comparison with the champion is relative: a candidate trained before a regime shift beats
a champion that is wrong the same way. Calibration is judged on the holdout's realised costs
alone, by two statistics with day-clustered 95 % intervals that allow for regimes
persisting over consecutive days
(:func:`~validation.comparison.inference.day_clustered_interval` with ``persistent=True``):

Bias
    ``mean(predicted - actual)`` in bps (positive: the model over-predicts), against a
    limit that is a share of the holdout's mean realised cost: a quantity no model moves.
Slope error
    ``b - 1`` with ``b`` the least-squares slope of the realised cost on the prediction
    (``1`` when a prediction's changes come true one for one). Its interval is the
    day-clustered interval of the estimator's linearisation: with ``x = p - mean p`` and
    ``e = (r - mean r) - (b - 1) x`` (``r = actual - predicted``), each order contributes
    ``(b - 1) + x e / var(p)``, whose mean is exactly ``b - 1``. Predictions that do not
    vary have no slope: their slope error is undefined and counts as miscalibrated.

A statistic is ``miscalibrated`` when its whole interval lies beyond the limit: the holdout
shows, with 95 % confidence, an error larger than the desk tolerates. A model whose interval
straddles the limit is not refused on that evidence (the burden of proof for *this* check is
on the holdout: twelve days cannot pin a level to within a few percent, and an honest model
must not be refused for the holdout's own noise).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from validation.comparison.inference import day_clustered_interval

__all__ = ["Calibration", "calibration"]


@dataclass(frozen=True)
class Calibration:
    """One model's bias and slope error on the holdout, with their limits."""

    model: str
    mean_actual: float
    bias: float
    bias_low: float
    bias_high: float
    bias_limit: float
    slope_error: float
    slope_low: float
    slope_high: float
    slope_limit: float
    n_days: int

    @property
    def bias_share(self) -> float:
        """The bias as a share of the holdout's mean realised cost (NaN when that is 0)."""
        return self.bias / self.mean_actual if self.mean_actual else float("nan")

    @property
    def biased(self) -> bool:
        """The bias's whole interval is beyond the limit (either side)."""
        return self.bias_low > self.bias_limit or self.bias_high < -self.bias_limit

    @property
    def mis_sloped(self) -> bool:
        """The slope error's whole interval is beyond the limit, or it has no slope."""
        if not (np.isfinite(self.slope_low) and np.isfinite(self.slope_high)):
            return True
        return self.slope_low > self.slope_limit or self.slope_high < -self.slope_limit

    @property
    def miscalibrated(self) -> bool:
        """Biased or mis-sloped beyond the limits with 95 % confidence."""
        return self.biased or self.mis_sloped

    @property
    def explanation(self) -> str:
        """One sentence per statistic: its interval against its limit."""
        slope = (
            f"slope error {self.slope_error:+.3f}, CI [{self.slope_low:+.3f}, "
            f"{self.slope_high:+.3f}]"
            if np.isfinite(self.slope_error)
            else "slope undefined (the predictions do not vary)"
        )
        return (
            f"{self.model} bias {self.bias:+.2f} bps ({self.bias_share:+.0%} of the holdout's mean "
            f"cost {self.mean_actual:.1f} bps), 95 % CI [{self.bias_low:+.2f}, "
            f"{self.bias_high:+.2f}], limit +/-{self.bias_limit:.2f}; {slope}, limit "
            f"+/-{self.slope_limit:.2f}; {self.n_days} days"
        )

    def as_dict(self) -> dict[str, object]:
        """JSON-serialisable fields, with the verdict and the explanation."""
        # An undefined slope is recorded as null: the audit log's JSON has no NaN.
        fields = {k: (None if v != v else v) for k, v in asdict(self).items()}
        return {
            **fields,
            "miscalibrated": self.miscalibrated,
            "explanation": self.explanation,
        }


def calibration(
    model: str,
    actual: np.ndarray,
    predicted: np.ndarray,
    days: np.ndarray,
    max_bias_share: float,
    max_slope_error: float,
) -> Calibration:
    """Bias and slope error of ``predicted`` against ``actual``, clustered by day.

    Parameters
    ----------
    model : str
        Name for the report.
    actual, predicted : ndarray
        Realised and predicted cost of each holdout order.
    days : ndarray
        Trading day of each order (the clusters).
    max_bias_share : float
        Tolerated bias as a share of the holdout's mean realised cost.
    max_slope_error : float
        Tolerated ``|b - 1|``.

    Raises
    ------
    ValueError
        If the inputs are not paired and finite over at least two days, or a limit is
        negative.
    """
    actual = np.asarray(actual, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    if max_bias_share < 0 or max_slope_error < 0:
        raise ValueError(
            f"calibration limits must be >= 0, got max_bias_share={max_bias_share}, "
            f"max_slope_error={max_slope_error}"
        )
    bias = day_clustered_interval(predicted - actual, days, persistent=True)
    slope = _slope_error_interval(actual, predicted, days)
    mean_actual = float(actual.mean())
    return Calibration(
        model=model,
        mean_actual=mean_actual,
        bias=bias.estimate,
        bias_low=bias.ci_low,
        bias_high=bias.ci_high,
        bias_limit=max_bias_share * abs(mean_actual),
        slope_error=slope[0],
        slope_low=slope[1],
        slope_high=slope[2],
        slope_limit=max_slope_error,
        n_days=bias.n_days,
    )


def _slope_error_interval(
    actual: np.ndarray, predicted: np.ndarray, days: np.ndarray
) -> tuple[float, float, float]:
    """``b - 1`` and its day-clustered 95 % interval; NaN when the predictions do not vary."""
    if np.ptp(predicted) == 0:
        return (float("nan"),) * 3
    x = predicted - predicted.mean()
    spread = float(np.mean(x**2))
    residual = actual - predicted
    centred = residual - residual.mean()
    error = float(np.mean(centred * x)) / spread
    linearised = error + x * (centred - error * x) / spread
    interval = day_clustered_interval(linearised, days, persistent=True)
    return interval.estimate, interval.ci_low, interval.ci_high
