"""LightGBM trains on the CPUs that are free, and its trees do not depend on how many."""

import os
import subprocess
import sys

import lightgbm as lgb
import pytest

from models import get_family
from models.impact.cpus import idle_cpus
from models.impact.family import LIGHTGBM_PARAMS
from models.impact.model import RESIDUAL_FEATURES
from synthetic import SynthConfig, generate


@pytest.fixture(scope="module")
def train():
    data = generate(SynthConfig(orders=20_000, days=20, assets=6, seed=8))
    return get_family("execution-impact").training_frame(data.as_dict())


def _trees(booster: lgb.Booster) -> str:
    text = booster.model_to_string()
    return text[text.index("Tree=0") : text.index("end of trees")]


def test_trees_do_not_depend_on_the_thread_count(train):
    family = get_family("execution-impact")
    x = family.features(train)[list(RESIDUAL_FEATURES)]
    data = lgb.Dataset(x, label=family.target(train), free_raw_data=False)
    params = {**LIGHTGBM_PARAMS, "min_data_in_leaf": 200, "seed": 4}
    trees = {n: _trees(lgb.train({**params, "num_threads": n}, data, 60)) for n in (1, 2, 3)}
    assert trees[1] == trees[2] == trees[3]


def test_fit_records_the_idle_cpus_it_used(train):
    fitted = get_family("execution-impact").fit(train, seed=0)
    assert 1 <= fitted.params["num_threads"] <= len(os.sched_getaffinity(0))


def test_idle_cpus_is_at_least_one_and_at_most_the_affinity():
    assert 1 <= idle_cpus() <= len(os.sched_getaffinity(0))


@pytest.mark.parametrize("preset, expected", [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_openmp_threads_sleep_while_they_wait_unless_told_otherwise(preset, expected):
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if preset:
        env["OMP_WAIT_POLICY"] = preset
    code = (
        "import os, sys, models.impact\n"
        "assert 'lightgbm' not in sys.modules  # loaded when a model is fitted or read\n"
        "import lightgbm\n"
        "print(os.environ['OMP_WAIT_POLICY'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == expected
