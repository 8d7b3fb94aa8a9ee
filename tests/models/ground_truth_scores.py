"""Scoring the impact family's models against the generator's ground truth, over seeds.

Each seed generates the demo's data set (200,000 orders, 60 days), splits it out of time
(the last 20 % of days held out), fits the candidate and the baseline, and scores both on
the whole holdout (about 40,000 orders) against the generator's ground truth:

* RMSE to the true expected cost: predictions at each order's own horizon against
  ``synthetic.ground_truth.order_expected_cost_bps`` (the law at the true parameters, the
  order's pre-trade inputs and the true same-day volatility): the noise the realised
  shortfall carries (timing, jumps) does not enter.
* Regret of the family's policy on its horizon grid: the family's own objective, ``cost +
  risk_aversion * 1e4 * daily_vol * sqrt(T / 3)`` over the horizons its participation cap
  allows (see ImpactFamily.decide), with the *true* expected cost in place of the
  prediction, at the horizon the policy chose minus its minimum over the grid, averaged over
  orders (bps per order). A perfect cost model has zero regret.

A constant predictor (the training mean) is scored alongside, as the cost-blind floor.
Decisions are scored on a wide grid (participation up to 30 %), where the horizons differ
most in cost: the desk's 10 % leaves the policies little room to differ.
``tests/models/test_impact.py`` asserts on these scores; ``bench/regret.py`` prints them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models import out_of_time_split
from models.impact import HORIZON_GRID_MINUTES, ImpactFamily
from synthetic import SynthConfig, generate
from synthetic.ground_truth import order_expected_cost_bps
from vocabulary import SESSION_MINUTES

#: The wide participation grid decisions are scored on.
SCORING_MAX_PARTICIPATION = 0.3
#: Blocks: orders of at least this share of ADV.
BLOCK_SHARE_OF_ADV = 0.01


@dataclass(frozen=True)
class Score:
    """RMSE to the true expected cost and mean regret of the policy, bps.

    ``block_regret`` is the regret at the desk's production participation (the family's
    own 10 %) on the holdout's blocks of at least :data:`BLOCK_SHARE_OF_ADV` of ADV, where
    a desk's decisions cost the most.
    """

    rmse: float
    regret: float
    block_regret: float


class Constant:
    """Predicts one value for every order: the cost-blind floor."""

    def __init__(self, value: float) -> None:
        self.value = value

    def predict(self, features):
        return np.full(len(features), self.value)


def true_objective(family, orders: pd.DataFrame) -> np.ndarray:
    """The family's objective with the true expected cost, per order and grid horizon.

    Horizons the policy may not take (participation above its cap) are ``inf``, unless an
    order has none it may take, when the policy takes the longest: then only that one is
    finite.
    """
    grid = np.asarray(HORIZON_GRID_MINUTES, dtype=float)
    days = grid / SESSION_MINUTES
    cost = np.column_stack([order_expected_cost_bps(orders, h) for h in grid])
    vol = orders["daily_vol"].to_numpy(dtype=float)[:, None]
    objective = cost + family.risk_aversion * 1e4 * vol * np.sqrt(days / 3.0)
    participation = orders["qty"].to_numpy(dtype=float)[:, None] / (
        orders["adv"].to_numpy(dtype=float)[:, None] * days
    )
    allowed = participation <= family.max_participation
    allowed[~allowed.any(axis=1), -1] = True
    return np.where(allowed, objective, np.inf)


def regret(family, model, orders: pd.DataFrame, objective: np.ndarray) -> float:
    """Mean regret, bps per order, of the horizons ``model``'s policy chooses."""
    chosen = family.decide(model, orders)["horizon_minutes"].to_numpy()
    column = np.searchsorted(np.asarray(HORIZON_GRID_MINUTES, dtype=float), chosen)
    picked = objective[np.arange(len(orders)), column]
    assert np.isfinite(picked).all(), "the policy chose a horizon it may not take"
    return float(np.mean(picked - objective.min(axis=1)))


def recovery_scores(seeds: Iterable[int]) -> dict[int, dict[str, Score]]:
    """Per seed, the candidate's, the baseline's and the constant's scores."""
    family = ImpactFamily(max_participation=SCORING_MAX_PARTICIPATION)
    production = ImpactFamily()
    scores = {}
    for seed in seeds:
        data = family.training_frame(
            generate(SynthConfig(orders=200_000, days=60, seed=seed)).as_dict()
        )
        split = out_of_time_split(data, family.time_column, 0.2)
        fitted = family.fit(split.train, seed=0)
        holdout = split.holdout
        x, truth = family.features(holdout), order_expected_cost_bps(holdout)
        objective = true_objective(family, holdout)
        blocks = holdout.loc[(holdout["qty"] / holdout["adv"]).to_numpy() >= BLOCK_SHARE_OF_ADV]
        block_objective = true_objective(production, blocks)
        models = {
            "candidate": fitted.candidate,
            "baseline": fitted.baselines["sqrt_law_ridge"],
            "constant": Constant(float(family.target(split.train).mean())),
        }
        scores[seed] = {
            name: Score(
                rmse=float(np.sqrt(np.mean((model.predict(x) - truth) ** 2))),
                regret=regret(family, model, holdout, objective),
                block_regret=regret(production, model, blocks, block_objective),
            )
            for name, model in models.items()
        }
    return scores
