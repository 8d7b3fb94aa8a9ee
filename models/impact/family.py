"""Pre-trade market-impact family: predicts the shortfall (bps) of a parent order.

Target: the market-adjusted shortfall (bps), the shortfall minus the market's own move over
the order's window read from the market bars (:mod:`models.impact.market_move`), the desk's TCA
benchmark: the same expected cost, a fraction of the noise.

Candidate: the desk's cost law with its exponents fitted (:mod:`models.impact.law`) plus a
LightGBM booster (L2 loss, so it estimates the *expected* cost) on the law's residual, over
features that do not vary with the horizon (:mod:`models.impact.model`); its number of
rounds is chosen by early stopping on the last days of the training window. Baseline: a
ridge regression on square-root-law features, the desk's traditional pre-trade model.
Policy: pick the horizon that minimises predicted cost plus a timing-risk penalty. Stress
book: holdout orders at high quantiles of size relative to ADV, each executed as VWAP over
the horizon the policy picks.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from models.family import FittedModels, ModelFamily, Predictor
from models.impact.cpus import idle_cpus
from models.impact.features import (
    FEATURE_INPUTS,
    FEATURES,
    PRE_TRADE_COLUMNS,
    impact_features,
    sqrt_law_features,
)
from models.impact.law import ImpactLaw, fit_impact_law
from models.impact.market_move import market_move_bps
from models.impact.model import (
    LAW_INPUTS,
    MONOTONE_RESIDUAL,
    RESIDUAL_FEATURES,
    LawResidualModel,
    law_cost_bps,
)
from models.split import out_of_time_split
from vocabulary import SESSION_MINUTES, DataRejected

if TYPE_CHECKING:  # LightGBM, scikit-learn and numba load when a model is fitted or compiled:
    # admitting a snapshot needs none of them (a refusal stays within seconds).
    import lightgbm as lgb

    from models.impact.compiled import CompiledImpactPolicy

__all__ = [
    "ImpactFamily",
    "HORIZON_GRID_MINUTES",
    "LIGHTGBM_PARAMS",
    "STRESS_SIZE_QUANTILES",
    "minute_of_session",
]

#: Horizons the policy chooses from, in minutes of the session (the last is the whole day).
HORIZON_GRID_MINUTES = (5, 10, 15, 30, 60, 90, 120, 195, 260, SESSION_MINUTES)
#: Quantiles of ``qty / adv`` in the holdout at which the stress orders are picked: the
#: desk's typical to large blocks.
STRESS_SIZE_QUANTILES = (0.5, 0.75, 0.9, 0.95, 0.99)
#: Columns of the executions table a stress order keeps (what :meth:`ImpactFamily.decide`
#: and the stress engine need).
_BOOK_COLUMNS = (
    "side",
    "qty",
    "adv",
    "shares_outstanding",
    "daily_vol",
    "spread_bps",
    "arrival_mid",
)

#: Column :meth:`ImpactFamily.training_frame` adds: the market's move over the order's window.
MARKET_MOVE_COLUMN = "market_move_bps"
#: Largest share of orders whose window holds no market bar that a snapshot may have.
MAX_UNBENCHMARKED_SHARE = 0.01

#: The residual booster. Most of a realised cost is market noise, so the booster is kept
#: coarse (at least 1,000 orders per leaf, or 1.25 % of the training rows) and its rounds
#: are chosen out of time (:data:`EARLY_STOPPING_ROUNDS`); the rounds early stopping picks
#: are kept only if they beat the law on those days by :data:`BOOSTER_EVIDENCE` day-clustered
#: standard errors, else one round (the candidate is the law): on noisy costs the best
#: round of a few days is often the noise's.
LIGHTGBM_PARAMS: dict[str, Any] = {
    "objective": "regression",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "feature_fraction": 1.0,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 10.0,
    "monotone_constraints": [MONOTONE_RESIDUAL.get(f, 0) for f in RESIDUAL_FEATURES],
    "monotone_constraints_method": "advanced",
    # No num_threads: fit() uses the CPUs idle when it starts (models.impact.cpus). The
    # trees do not depend on the thread count (deterministic, row-wise histograms; tested).
    "deterministic": True,
    "force_row_wise": True,
    "verbosity": -1,
}
MIN_ROWS_PER_LEAF, MIN_LEAF_SHARE = 1_000, 1 / 80
MAX_BOOST_ROUNDS = 400
EARLY_STOPPING_ROUNDS = 40
#: Share of the training days (the last ones) the booster's rounds are chosen on.
EARLY_STOPPING_DAYS_SHARE = 0.2
#: How many standard errors (clustered by day) the booster's gain in squared error over the
#: law alone must reach on the early-stopping days for its rounds to be kept.
BOOSTER_EVIDENCE = 2.0


class ImpactFamily(ModelFamily):
    """Execution-impact models trained on ``executions.parquet``.

    Parameters
    ----------
    risk_aversion : float
        Weight of the timing risk ``1e4 sigma sqrt(T/3)`` (bps) in the policy's objective.
    max_participation : float
        Horizons that would need a higher participation (ours over market volume) are not
        considered. 10 %, below the desk's 15 % alert level of 5-minute participation (ours
        over market plus ours): it leaves the execution's 20 % cap room for the volume's
        noise and the catch-up after a pause, so that the cap is a safety net the schedule
        does not lean on.
    max_boost_rounds : int
        Most LightGBM rounds of the residual booster (early stopping picks fewer).
    """

    registered_name = "execution-impact"
    pyfunc_loader_module = "models.impact.model"
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
        max_participation: float = 0.10,
        max_boost_rounds: int = MAX_BOOST_ROUNDS,
    ) -> None:
        self.risk_aversion = risk_aversion
        self.max_participation = max_participation
        self.max_boost_rounds = max_boost_rounds

    def features(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return :func:`models.impact.features.impact_features` of ``frame``."""
        return impact_features(frame)

    def training_frame(self, tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
        """``executions`` with each order's market move (``market_move_bps``) from the bars.

        An order with no bar of its asset inside its window (a gap in the feed) keeps its
        raw shortfall: its move is unknown and taken as zero, its expectation. More than
        :data:`MAX_UNBENCHMARKED_SHARE` of such orders is a feed that does not match the
        executions, and is refused; so is an asset with no bar at all, which is not a gap
        but a feed missing a name (its orders' costs could not be benchmarked, and its
        return would be missing from the market index of the others).

        Raises
        ------
        ValueError
            If an asset has no bars, or too many orders have no bar in their window.
        """
        executions, bars = tables[self.table], tables["market_bars"]
        uncovered = sorted(set(executions["asset"]) - set(bars["asset"]))
        if uncovered:
            orders = int(executions["asset"].isin(uncovered).sum())
            raise ValueError(
                f"{self.table}.asset: expected market_bars for every asset traded (check "
                f"asset_has_bars), found {orders} order(s) of {len(uncovered)} asset(s) with "
                f"none: {', '.join(map(str, uncovered[:5]))}"
            )
        move = market_move_bps(executions, bars)
        missing = np.flatnonzero(~np.isfinite(move))
        if missing.size > MAX_UNBENCHMARKED_SHARE * len(executions):
            first = executions.iloc[int(missing[0])]
            raise ValueError(
                f"{self.table}: expected a market_bars bar of the order's asset between "
                f"start_ts and end_ts for at least {1 - MAX_UNBENCHMARKED_SHARE:.0%} of the "
                f"orders (check market_move_bps), found {missing.size} of {len(executions)} "
                f"without one, first {first.get('order_id', missing[0])} ({first['asset']}, "
                f"{first['start_ts']} to {first['end_ts']})"
            )
        return executions.assign(**{MARKET_MOVE_COLUMN: np.nan_to_num(move, nan=0.0)})

    def target(self, frame: pd.DataFrame) -> np.ndarray:
        """Return the market-adjusted shortfall in bps: the shortfall minus the market's move.

        Raises
        ------
        KeyError
            If ``frame`` was not built by :meth:`training_frame` (it lacks the move).
        """
        if MARKET_MOVE_COLUMN not in frame:
            raise KeyError(
                f"the impact target is market-adjusted: build the frame with "
                f"ImpactFamily.training_frame (it adds {MARKET_MOVE_COLUMN})"
            )
        shortfall = frame[self.target_column].to_numpy(dtype=float)
        return shortfall - frame[MARKET_MOVE_COLUMN].to_numpy(dtype=float)

    def fit(self, train: pd.DataFrame, seed: int) -> FittedModels:
        """Fit the law-plus-residual candidate and the square-root-law ridge baseline."""
        import lightgbm as lgb
        from sklearn.linear_model import Ridge
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import FunctionTransformer

        x, y = self.features(train), self.target(train)
        law = fit_impact_law(y, **{name: x[name].to_numpy() for name in LAW_INPUTS})
        params = {
            **LIGHTGBM_PARAMS,
            "min_data_in_leaf": max(MIN_ROWS_PER_LEAF, int(len(x) * MIN_LEAF_SHARE)),
            "seed": seed,
            "num_threads": idle_cpus(),
        }
        rounds = self._early_stopping_rounds(train, law, params)
        residual = y - law_cost_bps(law, x)
        booster = lgb.train(params, self._residual_dataset(x, residual), num_boost_round=rounds)
        ridge = make_pipeline(FunctionTransformer(sqrt_law_features), Ridge(alpha=1.0))
        ridge.fit(x.to_numpy(), y)
        return FittedModels(
            candidate=LawResidualModel(law, booster),
            baselines={"sqrt_law_ridge": _ArrayInput(ridge)},
            params={
                **params,
                "num_boost_round": rounds,
                "train_rows": len(x),
                **{f"law_{k}": v for k, v in law.as_dict().items()},
            },
        )

    def _early_stopping_rounds(
        self, train: pd.DataFrame, law: ImpactLaw, params: dict[str, Any]
    ) -> int:
        """Rounds of the residual booster: the best on the last days of the window, if real.

        The gain of the best round over the law alone, per order of those days, is kept only
        when its mean exceeds :data:`BOOSTER_EVIDENCE` standard errors clustered by day;
        otherwise one round.
        """
        import lightgbm as lgb

        inner = out_of_time_split(train, self.time_column, EARLY_STOPPING_DAYS_SHARE)
        sets, residuals = [], []
        for part in (inner.train, inner.holdout):
            x = self.features(part)
            residuals.append(self.target(part) - law_cost_bps(law, x))
            sets.append(
                self._residual_dataset(x, residuals[-1], reference=sets[0] if sets else None)
            )
        probe = lgb.train(
            params,
            sets[0],
            num_boost_round=self.max_boost_rounds,
            valid_sets=[sets[1]],
            callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
        )
        rounds = max(int(probe.best_iteration), 1)
        held = self.features(inner.holdout)[list(RESIDUAL_FEATURES)]
        correction = probe.predict(held, num_iteration=rounds)
        gain = residuals[1] ** 2 - (residuals[1] - correction) ** 2
        day = pd.to_datetime(inner.holdout[self.time_column]).dt.date.to_numpy()
        return rounds if _clustered_t(gain, day) > BOOSTER_EVIDENCE else 1

    @staticmethod
    def _residual_dataset(
        x: pd.DataFrame, residual: np.ndarray, reference: lgb.Dataset | None = None
    ) -> lgb.Dataset:
        import lightgbm as lgb

        return lgb.Dataset(
            x[list(RESIDUAL_FEATURES)],
            label=residual,
            feature_name=list(RESIDUAL_FEATURES),
            reference=reference,
            free_raw_data=True,
        )

    def decide(self, model: Predictor, orders: pd.DataFrame) -> pd.DataFrame:
        """Choose each order's horizon from :data:`HORIZON_GRID_MINUTES`.

        ``orders`` needs :data:`DECISION_COLUMNS`. The objective is
        ``predicted_cost_bps + risk_aversion * 1e4 * daily_vol * sqrt(T / 3)``; horizons
        needing more than ``max_participation`` of market volume, or whose predicted cost
        is not finite, are skipped unless none is feasible, in which case the longest is
        taken. With a ``start_minute`` column (minutes since the open), a horizon must also
        end by the close.

        Returns
        -------
        DataFrame
            ``horizon_minutes, participation, predicted_cost_bps, timing_risk_bps`` per order.

        Raises
        ------
        ValueError
            If a ``start_minute`` is not within the session (NaN included), naming the rows.
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
                "turnover_inverse": np.repeat(orders["shares_outstanding"].to_numpy(dtype=float), k)
                / adv,
            },
            columns=list(FEATURES),
        )
        cost = np.asarray(model.predict(candidates), dtype=float).reshape(n, k)
        risk = (1e4 * vol * np.sqrt(horizon_days / 3.0)).reshape(n, k)
        objective = cost + self.risk_aversion * risk
        # A horizon whose prediction is not a number is never chosen: argmin would pick NaN.
        fits = np.ones((n, k), dtype=bool)
        if "start_minute" in orders.columns:
            left = SESSION_MINUTES - _session_minutes(orders["start_minute"])
            fits = grid[None, :] <= left[:, None] + 1e-9
        feasible = fits & (participation.reshape(n, k) <= self.max_participation)
        feasible &= np.isfinite(cost)
        objective = np.where(feasible, objective, np.inf)
        longest_fitting = k - 1 - np.argmax(fits[:, ::-1], axis=1)
        best = np.where(feasible.any(axis=1), np.argmin(objective, axis=1), longest_fitting)
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
        """Compile the candidate's policy: :meth:`decide` for one order in microseconds.

        Raises
        ------
        TypeError
            If ``model`` is not a :class:`LawResidualModel` (the baselines are not compiled).
        ValueError
            If its booster cannot be compiled (see :meth:`TreeEnsemble.from_lightgbm`).
        """
        from models.impact.compiled import CompiledImpactPolicy, TreeEnsemble

        if not isinstance(model, LawResidualModel):
            raise TypeError(
                f"can compile a LawResidualModel (the candidate), got {type(model).__name__}"
            )
        return CompiledImpactPolicy(
            model.law,
            TreeEnsemble.from_lightgbm(model.booster),
            HORIZON_GRID_MINUTES,
            self.risk_aversion,
            self.max_participation,
        )

    def save_model(self, model: Predictor, directory: Path) -> None:
        """Write the candidate into ``directory`` (:meth:`LawResidualModel.save`).

        Raises
        ------
        TypeError
            If ``model`` is not a :class:`LawResidualModel`.
        """
        if not isinstance(model, LawResidualModel):
            raise TypeError(f"can save a LawResidualModel, got {type(model).__name__}")
        model.save(directory)

    def load_model(self, directory: Path) -> LawResidualModel:
        """Read a candidate :meth:`save_model` wrote (:meth:`LawResidualModel.load`)."""
        return LawResidualModel.load(directory)

    def stress_book(self, holdout: pd.DataFrame) -> pd.DataFrame:
        """Pick stress orders at high quantiles of size relative to ADV from the holdout.

        Among the orders the rest of their session can hold at ``max_participation``, from
        their own start (``qty / adv`` at most that times the longest horizon of the grid
        that ends by the close, in days): a larger or later block is a multi-day programme,
        which the policy's intraday horizon grid cannot schedule within the desk's
        participation limit, and the intraday stress
        engine would judge the desk's cap and completion, not the model. Each stress order
        keeps its own time of day (``start_minute``).

        Returns
        -------
        DataFrame
            ``order_id, side, qty, adv, shares_outstanding, daily_vol, spread_bps,
            arrival_mid``, one row per
            quantile in :data:`STRESS_SIZE_QUANTILES` of ``qty / adv``, ``order_id``
            ``stress-q500`` ... ``stress-q990``.
        """
        start = minute_of_session(holdout)
        grid = np.asarray(HORIZON_GRID_MINUTES, dtype=float)
        longest = np.array([grid[grid <= SESSION_MINUTES - m + 1e-9].max() for m in start])
        fits = holdout["qty"].to_numpy() <= (
            self.max_participation * holdout["adv"].to_numpy() * longest / SESSION_MINUTES
        )
        if not fits.any():
            raise DataRejected(
                f"executions: no holdout order can be completed by the close at "
                f"{self.max_participation:.0%} participation from its start; the stress book "
                f"needs some, got {len(holdout)} orders all larger"
            )
        holdout = holdout.loc[fits]
        size = (holdout["qty"] / holdout["adv"]).to_numpy()
        order = np.argsort(size)
        ranks = (np.array(STRESS_SIZE_QUANTILES) * len(order)).astype(int)
        picks = order[np.minimum(ranks, len(order) - 1)]
        book = holdout.iloc[picks][list(_BOOK_COLUMNS)].reset_index(drop=True)
        book.insert(0, "order_id", [f"stress-q{int(q * 1000):03d}" for q in STRESS_SIZE_QUANTILES])
        book["start_minute"] = start[fits][picks]
        return book

    def schedule_book(self, model: Predictor, book: pd.DataFrame) -> pd.DataFrame:
        """Let ``model``'s policy choose each order's horizon; return the engine's orders.

        Every order starts at its own time of day (``start_minute``, the open when the book
        has none) and is executed as VWAP over the chosen horizon, which ends by the close.

        Returns
        -------
        DataFrame
            ``order_id, side, quantity, arrival_price, adv, shares_outstanding, daily_vol,
            spread_bps, horizon_minutes, predicted_cost_bps, start_minute, style`` (see
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
                "shares_outstanding": book["shares_outstanding"],
                "daily_vol": book["daily_vol"],
                "spread_bps": book["spread_bps"],
                "horizon_minutes": decision["horizon_minutes"],
                "predicted_cost_bps": decision["predicted_cost_bps"],
                "start_minute": book["start_minute"] if "start_minute" in book else 0.0,
                "style": "vwap",
            }
        )


def _clustered_t(values: np.ndarray, cluster: np.ndarray) -> float:
    """The mean of ``values`` over its CR1 standard error with ``cluster`` as clusters."""
    sums = pd.Series(values).groupby(cluster).sum().to_numpy()
    counts = pd.Series(values).groupby(cluster).size().to_numpy()
    mean = values.mean()
    if sums.size < 2:
        return 0.0
    scores = sums - counts * mean
    variance = (scores**2).sum() * sums.size / (sums.size - 1) / values.size**2
    return float(mean / np.sqrt(variance)) if variance > 0 else 0.0


def minute_of_session(orders: pd.DataFrame) -> np.ndarray:
    """Minutes since the open of each order's start, the open being its day's first start.

    Orders start on the bar grid from the open on, so on a day with thousands of orders the
    earliest start is the open; the executions table carries no session calendar.
    """
    start = pd.to_datetime(orders["start_ts"])
    day_open = start.groupby(start.dt.date).transform("min")
    minutes = (start - day_open).dt.total_seconds().to_numpy() / 60.0
    return np.clip(minutes, 0.0, SESSION_MINUTES - min(HORIZON_GRID_MINUTES))


class _ArrayInput:
    """Lets a pipeline fitted on arrays predict from the feature frame."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        return self.pipeline.predict(np.asarray(data, dtype=float))


def _session_minutes(start_minute: pd.Series) -> np.ndarray:
    """Arrival times in minutes since the open, refused (naming the rows) outside the session."""
    minutes = start_minute.to_numpy(dtype=float)
    bad = ~((minutes >= 0.0) & (minutes <= SESSION_MINUTES))
    if bad.any():
        rows = list(start_minute.index[bad][:5])
        raise ValueError(
            f"start_minute must be within the session, 0 to {SESSION_MINUTES} minutes after "
            f"the open, got {minutes[bad][:5].tolist()} in {int(bad.sum())} row(s) (first: "
            f"{rows})"
        )
    return minutes
