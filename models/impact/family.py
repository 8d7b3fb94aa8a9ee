"""Pre-trade market-impact family: predicts the shortfall (bps) of a parent order.

Candidate: a LightGBM regressor (L2 loss, so it estimates the *expected* cost) with
monotone constraints: cost may not fall as participation, size, volatility or spread
rise. Baseline: a ridge regression on square-root-law features, the desk's
traditional pre-trade model. Policy: pick the horizon that minimises predicted cost
plus a timing-risk penalty. Stress book: holdout orders at high quantiles of size
relative to ADV, each executed as VWAP over the horizon the policy picks.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from models.family import FittedModels, ModelFamily, Predictor
from models.impact.compiled import CompiledImpactPolicy, TreeEnsemble
from models.impact.cpus import idle_cpus
from models.impact.features import (
    FEATURE_INPUTS,
    FEATURES,
    PRE_TRADE_COLUMNS,
    impact_features,
    sqrt_law_features,
)
from vocabulary import SESSION_MINUTES

__all__ = ["ImpactFamily", "HORIZON_GRID_MINUTES", "LIGHTGBM_PARAMS", "STRESS_SIZE_QUANTILES"]

#: Horizons the policy chooses from, in minutes of the session (the last is the whole day).
HORIZON_GRID_MINUTES = (5, 10, 15, 30, 60, 90, 120, 195, 260, SESSION_MINUTES)
#: Quantiles of ``qty / adv`` in the holdout at which the stress orders are picked: the
#: desk's typical to large blocks.
STRESS_SIZE_QUANTILES = (0.5, 0.75, 0.9, 0.95, 0.99)
#: Columns of the executions table a stress order keeps (what :meth:`ImpactFamily.decide`
#: and the stress engine need).
_BOOK_COLUMNS = ("side", "qty", "adv", "daily_vol", "spread_bps", "arrival_mid")

_MONOTONE = {"participation": 1, "size_over_adv": 1, "daily_vol": 1, "spread_bps": 1}

LIGHTGBM_PARAMS: dict[str, Any] = {
    "objective": "regression",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 400,
    "feature_fraction": 1.0,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "monotone_constraints": [_MONOTONE.get(f, 0) for f in FEATURES],
    "monotone_constraints_method": "advanced",
    # No num_threads: fit() uses the CPUs idle when it starts (models.impact.cpus). The
    # trees do not depend on the thread count (deterministic, row-wise histograms; tested).
    "deterministic": True,
    "force_row_wise": True,
    "verbosity": -1,
}
NUM_BOOST_ROUND = 300


class ImpactFamily(ModelFamily):
    """Execution-impact models trained on ``executions.parquet``.

    Parameters
    ----------
    risk_aversion : float
        Weight of the timing risk ``1e4 sigma sqrt(T/3)`` (bps) in the policy's objective.
    max_participation : float
        Horizons that would need a higher participation are not considered.
    num_boost_round : int
        LightGBM boosting rounds.
    """

    registered_name = "execution-impact"
    table = "executions"
    time_column = "start_ts"
    target_column = "shortfall_bps"
    # The market bars carry the prices the contracts cross-check fills against.
    required_tables = ("executions", "market_bars")
    pre_trade_columns = PRE_TRADE_COLUMNS
    feature_inputs = FEATURE_INPUTS

    def __init__(
        self,
        risk_aversion: float = 0.1,
        max_participation: float = 0.3,
        num_boost_round: int = NUM_BOOST_ROUND,
    ) -> None:
        self.risk_aversion = risk_aversion
        self.max_participation = max_participation
        self.num_boost_round = num_boost_round

    def features(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return :func:`models.impact.features.impact_features` of ``frame``."""
        return impact_features(frame)

    def target(self, frame: pd.DataFrame) -> np.ndarray:
        """Return the realised shortfall in bps."""
        return frame[self.target_column].to_numpy(dtype=float)

    def fit(self, train: pd.DataFrame, seed: int) -> FittedModels:
        """Fit the LightGBM candidate and the square-root-law ridge baseline."""
        x, y = self.features(train), self.target(train)
        params = {**LIGHTGBM_PARAMS, "seed": seed, "num_threads": idle_cpus()}
        booster = lgb.train(
            params,
            lgb.Dataset(x, label=y, feature_name=list(FEATURES), free_raw_data=True),
            num_boost_round=self.num_boost_round,
        )
        ridge = make_pipeline(FunctionTransformer(sqrt_law_features), Ridge(alpha=1.0))
        ridge.fit(x.to_numpy(), y)
        return FittedModels(
            candidate=booster,
            baselines={"sqrt_law_ridge": _ArrayInput(ridge)},
            params={**params, "num_boost_round": self.num_boost_round, "train_rows": len(x)},
        )

    def decide(self, model: Predictor, orders: pd.DataFrame) -> pd.DataFrame:
        """Choose each order's horizon from :data:`HORIZON_GRID_MINUTES`.

        ``orders`` needs ``qty, adv, daily_vol, spread_bps``. The objective is
        ``predicted_cost_bps + risk_aversion * 1e4 * daily_vol * sqrt(T / 3)``; horizons
        needing more than ``max_participation`` of market volume, or whose predicted cost
        is not finite, are skipped unless none is feasible, in which case the longest is
        taken.

        Returns
        -------
        DataFrame
            ``horizon_minutes, participation, predicted_cost_bps, timing_risk_bps`` per order.
        """
        grid = np.asarray(HORIZON_GRID_MINUTES, dtype=float)
        n, k = len(orders), grid.size
        horizon_days = np.tile(grid / SESSION_MINUTES, n)
        qty = np.repeat(orders["qty"].to_numpy(dtype=float), k)
        adv = np.repeat(orders["adv"].to_numpy(dtype=float), k)
        vol = np.repeat(orders["daily_vol"].to_numpy(dtype=float), k)
        participation = qty / (adv * horizon_days)
        candidates = pd.DataFrame(
            {
                "participation": participation,
                "size_over_adv": qty / adv,
                "horizon_days": horizon_days,
                "daily_vol": vol,
                "spread_bps": np.repeat(orders["spread_bps"].to_numpy(dtype=float), k),
                "log_adv": np.log(adv),
            },
            columns=list(FEATURES),
        )
        cost = np.asarray(model.predict(candidates), dtype=float).reshape(n, k)
        risk = (1e4 * vol * np.sqrt(horizon_days / 3.0)).reshape(n, k)
        objective = cost + self.risk_aversion * risk
        # A horizon whose prediction is not a number is never chosen: argmin would pick NaN.
        feasible = (participation.reshape(n, k) <= self.max_participation) & np.isfinite(cost)
        objective = np.where(feasible, objective, np.inf)
        best = np.where(feasible.any(axis=1), np.argmin(objective, axis=1), k - 1)
        rows = np.arange(n)
        return pd.DataFrame(
            {
                "horizon_minutes": grid[best],
                "participation": participation.reshape(n, k)[rows, best],
                "predicted_cost_bps": cost[rows, best],
                "timing_risk_bps": risk[rows, best],
            },
            index=orders.index,
        )

    def compile(self, model: Predictor) -> CompiledImpactPolicy:
        """Compile a LightGBM candidate's policy: :meth:`decide` for one order in 5-10 us.

        Raises
        ------
        TypeError
            If ``model`` is not a LightGBM booster (the baselines are not compiled).
        ValueError
            If the booster cannot be compiled (see :meth:`TreeEnsemble.from_lightgbm`).
        """
        if not isinstance(model, lgb.Booster):
            raise TypeError(
                f"can compile a lightgbm.Booster (the candidate), got {type(model).__name__}"
            )
        return CompiledImpactPolicy(
            TreeEnsemble.from_lightgbm(model),
            HORIZON_GRID_MINUTES,
            self.risk_aversion,
            self.max_participation,
        )

    def stress_book(self, holdout: pd.DataFrame) -> pd.DataFrame:
        """Pick stress orders at high quantiles of size relative to ADV from the holdout.

        Returns
        -------
        DataFrame
            ``order_id, side, qty, adv, daily_vol, spread_bps, arrival_mid``, one row per
            quantile in :data:`STRESS_SIZE_QUANTILES` of ``qty / adv``, ``order_id``
            ``stress-q500`` ... ``stress-q990``.
        """
        size = (holdout["qty"] / holdout["adv"]).to_numpy()
        order = np.argsort(size)
        ranks = (np.array(STRESS_SIZE_QUANTILES) * len(order)).astype(int)
        picks = order[np.minimum(ranks, len(order) - 1)]
        book = holdout.iloc[picks][list(_BOOK_COLUMNS)].reset_index(drop=True)
        book.insert(0, "order_id", [f"stress-q{int(q * 1000):03d}" for q in STRESS_SIZE_QUANTILES])
        return book

    def schedule_book(self, model: Predictor, book: pd.DataFrame) -> pd.DataFrame:
        """Let ``model``'s policy choose each order's horizon; return the engine's orders.

        Every order starts at the open and is executed as VWAP over the chosen horizon.

        Returns
        -------
        DataFrame
            ``order_id, side, quantity, arrival_price, adv, daily_vol, spread_bps,
            horizon_minutes, predicted_cost_bps, start_minute, style`` (see
            :meth:`models.ModelFamily.schedule_book`).
        """
        decision = self.decide(model, book)
        return pd.DataFrame(
            {
                "order_id": book["order_id"],
                "side": book["side"],
                "quantity": book["qty"],
                "arrival_price": book["arrival_mid"],
                "adv": book["adv"],
                "daily_vol": book["daily_vol"],
                "spread_bps": book["spread_bps"],
                "horizon_minutes": decision["horizon_minutes"],
                "predicted_cost_bps": decision["predicted_cost_bps"],
                "start_minute": 0.0,
                "style": "vwap",
            }
        )


class _ArrayInput:
    """Lets a pipeline fitted on arrays predict from the feature frame."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        return self.pipeline.predict(np.asarray(data, dtype=float))
