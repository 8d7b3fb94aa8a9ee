"""The compiled impact policy decides exactly as the batch path, LightGBM's own predict."""

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from models import get_family, out_of_time_split
from models.impact import HORIZON_GRID_MINUTES
from models.impact.compiled import CompiledImpactPolicy, TreeEnsemble
from models.impact.decision_kernels import ZERO_THRESHOLD
from models.impact.family import LIGHTGBM_PARAMS
from models.impact.model import RESIDUAL_FEATURES
from synthetic import SynthConfig, generate


@pytest.fixture(scope="module")
def trained():
    family = get_family("execution-impact")
    data = generate(SynthConfig(orders=30_000, days=30, assets=6, seed=5))
    executions = family.training_frame(data.as_dict())
    split = out_of_time_split(executions, family.time_column, 0.2)
    return family, split, family.fit(split.train, seed=0)


def _orders(holdout: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Holdout orders, and orders from tiny to larger than the day's volume."""
    n = 1_500
    extreme = pd.DataFrame(
        {
            "qty": 10 ** rng.uniform(0, 7, n),
            "adv": 10 ** rng.uniform(3, 8, n),
            "daily_vol": rng.uniform(0.0, 0.1, n),
            "spread_bps": rng.uniform(0.0, 30.0, n),
        }
    )
    extreme["shares_outstanding"] = extreme["adv"] * 10 ** rng.uniform(0, 4, n)
    # Sizes LightGBM reads as zero (|x| <= 1e-35): the node-by-node path of the kernel.
    dust = pd.DataFrame(
        {
            "qty": [1e-30, 1e-40],
            "adv": 1e8,
            "daily_vol": 0.02,
            "spread_bps": 5.0,
            "shares_outstanding": 1e10,
        }
    )
    columns = list(extreme.columns)
    return pd.concat(
        [holdout[columns].sample(1_500, random_state=1), extreme, dust], ignore_index=True
    )


def test_decide_one_is_the_batch_decision_on_many_orders(trained):
    family, split, fitted = trained
    orders = _orders(split.holdout, np.random.default_rng(0))
    compiled = family.compile(fitted.candidate)
    expected = family.decide(fitted.candidate, orders)
    got = np.array([compiled.decide_one(*a) for a in compiled.arguments(orders)])
    np.testing.assert_array_equal(got[:, 0], expected["horizon_minutes"])
    # The law's powers may differ from NumPy's vectorised pow in the last bit, no more.
    np.testing.assert_allclose(got[:, 1], expected["predicted_cost_bps"], rtol=1e-12, atol=1e-12)
    # Not a degenerate policy: it uses much of the grid, and the cap on participation.
    assert len(set(got[:, 0])) >= 5
    assert (got[:, 0] == HORIZON_GRID_MINUTES[-1]).any()


def test_a_late_order_gets_a_horizon_that_ends_by_the_close_as_in_the_batch_path(trained):
    family, split, fitted = trained
    rng = np.random.default_rng(1)
    orders = _orders(split.holdout, rng)
    orders["start_minute"] = rng.uniform(0.0, 390.0, len(orders))
    orders.loc[:9, "start_minute"] = [0.0, 385.0, 389.0, 390.0, 330.0, 200.0, 195.0, 130.0, 5, 60]
    compiled = family.compile(fitted.candidate)
    expected = family.decide(fitted.candidate, orders)
    got = np.array([compiled.decide_one(*a) for a in compiled.arguments(orders)])
    np.testing.assert_array_equal(got[:, 0], expected["horizon_minutes"])
    np.testing.assert_allclose(got[:, 1], expected["predicted_cost_bps"], rtol=1e-12, atol=1e-12)
    ends = orders["start_minute"].to_numpy() + got[:, 0]
    fits = orders["start_minute"].to_numpy() <= 390.0 - HORIZON_GRID_MINUTES[0]
    assert np.all(ends[fits] <= 390.0 + 1e-9)
    # Without a start time the same orders may run past the close: the argument matters.
    unaware = np.array([compiled.decide_one(*a[:-1])[0] for a in compiled.arguments(orders)])
    assert (orders["start_minute"].to_numpy() + unaware > 390.0).any()


@pytest.mark.parametrize("start_minute", [-1.0, 391.0, np.nan])
def test_a_start_outside_the_session_is_refused_by_both_paths(trained, start_minute):
    family, split, fitted = trained
    with pytest.raises(ValueError, match=r"start_minute must be within the session, 0 to 390"):
        family.compile(fitted.candidate).decide_one(1e4, 1e6, 0.02, 5.0, 1e8, start_minute)
    orders = split.holdout.head(4).assign(start_minute=[0.0, start_minute, 10.0, 20.0])
    with pytest.raises(ValueError, match=r"within the session, .* in 1 row\(s\) \(first: \["):
        family.decide(fitted.candidate, orders)


def test_the_compiled_ensemble_predicts_what_lightgbm_predicts(trained):
    family, split, fitted = trained
    # The candidate's own booster may stop after a round or two: train a full-sized one
    # with the candidate's parameters on its features.
    x = family.features(split.train)[list(RESIDUAL_FEATURES)]
    params = {**LIGHTGBM_PARAMS, "min_data_in_leaf": 100, "num_threads": 1}
    booster = lgb.train(params, lgb.Dataset(x, family.target(split.train)), num_boost_round=150)
    ensemble = TreeEnsemble.from_lightgbm(booster)
    assert ensemble.n_trees == booster.num_trees() == 150
    holdout = family.features(split.holdout)[list(RESIDUAL_FEATURES)]
    np.testing.assert_array_equal(ensemble.predict(holdout), booster.predict(holdout))


def _booster(x: np.ndarray, y: np.ndarray, **params) -> lgb.Booster:
    base = {"objective": "regression", "num_leaves": 15, "min_data_in_leaf": 5, "verbosity": -1}
    return lgb.train({**base, **params, "num_threads": 1}, lgb.Dataset(x, y), num_boost_round=40)


def _split_kinds(booster: lgb.Booster) -> set[tuple[str, bool]]:
    kinds = set()

    def walk(node):
        if "leaf_value" not in node:
            kinds.add((node["missing_type"], node["default_left"]))
            walk(node["left_child"])
            walk(node["right_child"])

    for tree in booster.dump_model()["tree_info"]:
        walk(tree["tree_structure"])
    return kinds


def test_missing_values_and_default_directions_follow_lightgbm():
    """NaN, zeros and values near zero go where LightGBM sends them, for every missing type."""
    rng = np.random.default_rng(3)
    n = 4_000
    x = rng.normal(size=(n, 4))
    x[rng.random(n) < 0.2, 0] = np.nan  # NaN in training: missing type NaN
    x[rng.random(n) < 0.3, 1] = 0.0  # many zeros: missing type Zero with zero_as_missing
    y = np.nan_to_num(x[:, 0], nan=3.0) + 2 * (x[:, 1] == 0) + x[:, 2] ** 2 + rng.normal(size=n)
    boosters = [_booster(x, y), _booster(x, y, zero_as_missing=True), _booster(x, -y)]
    kinds = set().union(*(_split_kinds(b) for b in boosters))
    # Every missing type, and both default directions of the NaN type, are exercised.
    assert {"None", "Zero", "NaN"} <= {missing for missing, _ in kinds}
    assert {("NaN", True), ("NaN", False)} <= kinds
    probe = rng.normal(size=(3_000, 4))
    for column in range(4):
        rows = rng.random(3_000)
        probe[rows < 0.15, column] = np.nan
        probe[(rows >= 0.15) & (rows < 0.3), column] = 0.0
        # LightGBM reads |v| <= 1e-35f as 0.0; +-inf meet the NaN bin's infinite threshold.
        special = [1e-40, -1e-40, ZERO_THRESHOLD, -ZERO_THRESHOLD, np.inf, -np.inf]
        for i, value in enumerate(special):
            probe[(rows >= 0.3 + 0.02 * i) & (rows < 0.32 + 0.02 * i), column] = value
    for booster in boosters:
        np.testing.assert_array_equal(
            TreeEnsemble.from_lightgbm(booster).predict(probe), booster.predict(probe)
        )


def test_models_it_cannot_reproduce_are_refused(trained):
    family, _, fitted = trained
    with pytest.raises(TypeError, match="LawResidualModel .* got _ArrayInput"):
        family.compile(fitted.baselines["sqrt_law_ridge"])
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(500, 3)), rng.random(500)
    with pytest.raises(ValueError, match="objective 'binary"):
        TreeEnsemble.from_lightgbm(_booster(x, (y > 0.5).astype(float), objective="binary"))
    category = rng.integers(0, 5, 500)
    categorical = lgb.train(
        {"objective": "regression", "verbosity": -1, "min_data_per_group": 5, "cat_smooth": 1},
        lgb.Dataset(
            np.column_stack([category, x[:, :2]]), 10.0 * category, categorical_feature=[0]
        ),
        num_boost_round=5,
    )
    with pytest.raises(ValueError, match="categorical"):
        TreeEnsemble.from_lightgbm(categorical)
    other_features = TreeEnsemble.from_lightgbm(_booster(x, y))
    with pytest.raises(ValueError, match="the model expects \\['Column_0'"):
        CompiledImpactPolicy(fitted.candidate.law, other_features, HORIZON_GRID_MINUTES, 0.1, 0.3)


@pytest.mark.parametrize(
    "order",
    [
        (0.0, 1e6, 0.02, 5.0, 1e8),
        (1e4, -1.0, 0.02, 5.0, 1e8),
        (1e4, 1e6, np.nan, 5.0, 1e8),
        (1e4, 1e6, 0.02, np.inf, 1e8),
        (1e4, 1e6, 0.02, 5.0, 0.0),
    ],
)
def test_an_order_it_cannot_price_is_refused_with_its_values(trained, order):
    family, _, fitted = trained
    with pytest.raises(
        ValueError, match="an order needs 0 < qty, adv, shares_outstanding < inf .* got qty="
    ):
        family.compile(fitted.candidate).decide_one(*order)
