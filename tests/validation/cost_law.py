"""The generator's cost law refitted on data: a good, correctly specified model.

Fits ``eta``, ``beta`` and ``gamma`` of :mod:`synthetic.ground_truth` (``delta`` fixed at
its true value) by least squares on the *market-adjusted* shortfall of the training orders:
the shortfall minus the market's move over the order's window, read from the market bars
(:func:`models.impact.market_move.market_move_bps`), as the family's target. Its inputs include
``true_daily_vol`` and the window's expected volume (``true_day_volume`` and the intraday
curve), which a desk does not know before the order: this is a ground-truth-based predictor with
estimation noise, the good model the comparison tests and ``bench/comparison.py`` damage
and retrain, not a deployable model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit

from models.impact.market_move import market_move_bps
from synthetic.ground_truth import (
    BETA,
    DELTA,
    ETA,
    GAMMA,
    order_window_participation,
    permanent_impact,
    temporary_impact,
)

INPUTS = ("true_daily_vol", "participation", "size_over_adv", "turnover_inverse", "spread_bps")


def law_inputs(executions: pd.DataFrame) -> dict[str, np.ndarray]:
    """The law's inputs of each order of a generated executions table."""
    qty, adv = executions["qty"].to_numpy(float), executions["adv"].to_numpy(float)
    return {
        "true_daily_vol": executions["true_daily_vol"].to_numpy(float),
        "participation": order_window_participation(executions),
        "size_over_adv": qty / adv,
        "turnover_inverse": executions["shares_outstanding"].to_numpy(float) / adv,
        "spread_bps": executions["spread_bps"].to_numpy(float),
    }


def _law(x: np.ndarray, eta: float, beta: float, gamma: float) -> np.ndarray:
    sigma, participation, size, turnover_inverse, spread = x
    permanent = permanent_impact(sigma, size, turnover_inverse, gamma=gamma, delta=DELTA)
    temporary = temporary_impact(sigma, participation, eta=eta, beta=beta)
    return 1e4 * (permanent / 2.0 + temporary) + spread / 2.0


@dataclass(frozen=True)
class CostLaw:
    """The fitted law; inputs named in ``held`` are replaced by their training mean."""

    eta: float
    beta: float
    gamma: float
    held: dict[str, float] = field(default_factory=dict)

    def predict(self, executions: pd.DataFrame) -> np.ndarray:
        """Expected shortfall (bps) of each order."""
        x = law_inputs(executions)
        x |= {name: np.full(len(executions), mean) for name, mean in self.held.items()}
        return _law(np.vstack([x[name] for name in INPUTS]), self.eta, self.beta, self.gamma)


def fit_cost_law(
    executions: pd.DataFrame, market_bars: pd.DataFrame, hold: tuple[str, ...] = ()
) -> CostLaw:
    """Fit the law on ``executions`` (training orders), ignoring the inputs in ``hold``.

    A held input is set to its training mean for fitting and predicting: the model never
    sees it (a feature ignored).
    """
    unknown = sorted(set(hold) - set(INPUTS))
    if unknown:
        raise ValueError(f"hold must name inputs among {INPUTS}, got {unknown}")
    x = law_inputs(executions)
    held = {name: float(x[name].mean()) for name in hold}
    x |= {name: np.full(len(executions), mean) for name, mean in held.items()}
    adjusted = executions["shortfall_bps"].to_numpy(float) - market_move_bps(
        executions, market_bars
    )
    (eta, beta, gamma), _ = curve_fit(
        _law, np.vstack([x[name] for name in INPUTS]), adjusted, p0=[ETA, BETA, GAMMA]
    )
    return CostLaw(float(eta), float(beta), float(gamma), held)
