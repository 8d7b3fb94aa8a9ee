"""The structural part of the candidate: the Almgren et al. (2005) impact law, fitted.

The desk's cost law has a known shape: half the spread, a temporary impact that grows with
the participation rate as a power ``beta``, and a permanent impact proportional to the size
relative to ADV, scaled by the days it takes to trade the free float (``Theta / V``) to a
power ``delta``:

    cost_bps = intercept + spread_coef * spread_bps / 2
               + temporary_coef * 1e4 * sigma * participation ** beta
               + permanent_coef * 1e4 * sigma * (X / V) * (Theta / V) ** delta

The exponents are profiled on a grid (:data:`BETA_GRID`, :data:`DELTA_GRID`); at each pair
the coefficients are a least-squares fit with the three cost coefficients held non-negative,
so the fitted cost never falls as participation, size, volatility or spread rise, and never
rises with a longer horizon (a longer horizon is a lower participation). It is the square
root law of the ridge baseline with the exponents learnt instead of assumed (the baseline
has ``beta = 0.5`` and ``delta = 0``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["BETA_GRID", "DELTA_GRID", "ImpactLaw", "fit_impact_law"]

#: Temporary-impact exponents tried: from far below the square root to linear.
BETA_GRID = tuple(round(b, 2) for b in np.arange(0.30, 1.0001, 0.05))
#: Float-turnover exponents tried: none (the baseline's) to a square root.
DELTA_GRID = tuple(round(d, 2) for d in np.arange(0.0, 0.5001, 0.05))
#: The coefficients' lower bounds: the intercept is free, the cost terms cannot subtract.
_LOWER = np.array([-np.inf, 0.0, 0.0, 0.0])


@dataclass(frozen=True)
class ImpactLaw:
    """A fitted cost law (see the module docstring for the formula)."""

    beta: float
    delta: float
    intercept: float
    spread_coef: float
    temporary_coef: float
    permanent_coef: float

    def terms(
        self,
        participation: np.ndarray,
        size_over_adv: np.ndarray,
        daily_vol: np.ndarray,
        spread_bps: np.ndarray,
        turnover_inverse: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Half the spread, the temporary and the permanent impact term, before coefficients."""
        return _terms(
            self.beta,
            self.delta,
            participation,
            size_over_adv,
            daily_vol,
            spread_bps,
            turnover_inverse,
        )

    def cost_bps(
        self,
        participation: np.ndarray,
        size_over_adv: np.ndarray,
        daily_vol: np.ndarray,
        spread_bps: np.ndarray,
        turnover_inverse: np.ndarray,
    ) -> np.ndarray:
        """Expected cost (bps) of each order; the operations are those of the compiled kernel."""
        spread, temporary, permanent = self.terms(
            participation, size_over_adv, daily_vol, spread_bps, turnover_inverse
        )
        return (
            self.intercept
            + self.spread_coef * spread
            + self.temporary_coef * temporary
            + self.permanent_coef * permanent
        )

    def as_dict(self) -> dict[str, float]:
        """The law's parameters, JSON-serialisable."""
        return {k: float(v) for k, v in asdict(self).items()}


def _terms(
    beta: float,
    delta: float,
    participation: np.ndarray,
    size_over_adv: np.ndarray,
    daily_vol: np.ndarray,
    spread_bps: np.ndarray,
    turnover_inverse: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        spread_bps / 2.0,
        1e4 * daily_vol * participation**beta,
        1e4 * daily_vol * size_over_adv * turnover_inverse**delta,
    )


def _design(beta: float, delta: float, *inputs: np.ndarray) -> np.ndarray:
    """The regressors at ``beta, delta``: a constant and the three terms."""
    return np.column_stack([np.ones_like(inputs[0]), *_terms(beta, delta, *inputs)])


def fit_impact_law(
    target: np.ndarray,
    *,
    participation: np.ndarray,
    size_over_adv: np.ndarray,
    daily_vol: np.ndarray,
    spread_bps: np.ndarray,
    turnover_inverse: np.ndarray,
) -> ImpactLaw:
    """Least-squares fit of the law to realised costs (bps), exponents by profile.

    Raises
    ------
    ValueError
        If the inputs are not finite or have different lengths.
    """
    inputs = (participation, size_over_adv, daily_vol, spread_bps, turnover_inverse)
    arrays = [np.asarray(a, dtype=float) for a in (target, *inputs)]
    if len({a.shape for a in arrays}) != 1 or not all(np.isfinite(a).all() for a in arrays):
        raise ValueError(
            f"the law is fitted on finite 1-D arrays of one length, got shapes "
            f"{[a.shape for a in arrays]}"
        )
    from scipy.optimize import lsq_linear

    y, *x = arrays
    best: tuple[float, float, float, np.ndarray] | None = None
    for beta in BETA_GRID:
        for delta in DELTA_GRID:
            design = _design(beta, delta, *x)
            # Bounded least squares on the 4x4 triangle of the QR factorisation: the same
            # solution as on the full design, at the cost of a 4-unknown problem.
            q, r = np.linalg.qr(design)
            solution = lsq_linear(r, q.T @ y, bounds=(_LOWER, np.inf)).x
            loss = float(np.sum((design @ solution - y) ** 2))
            if best is None or loss < best[0]:
                best = (loss, beta, delta, solution)
    assert best is not None  # the grids are not empty
    _, beta, delta, (intercept, spread, temporary, permanent) = best
    return ImpactLaw(
        float(beta),
        float(delta),
        float(intercept),
        float(spread),
        float(temporary),
        float(permanent),
    )
