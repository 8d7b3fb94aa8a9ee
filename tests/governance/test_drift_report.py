"""``govern drift``: today's snapshot against the champion's recorded training data."""

import shutil

import pandas as pd
from govern_cli import run_govern

from cli.exit_codes import EXIT_USAGE
from synthetic import SynthConfig, generate, write

MODEL = "execution-impact"
FEATURES = ("participation", "size_over_adv", "horizon_days", "daily_vol", "spread_bps")


def _drift(workdir, data_dir):
    return run_govern(["drift", MODEL, "--data", str(data_dir), "--workdir", str(workdir)])


def test_a_later_stretch_of_the_same_market_is_compared_with_the_training_data(
    champion_workdir, tmp_path
):
    # The champion's market (the small data's seed), thirty days later, with a shift.
    later = SynthConfig(orders=8_000, days=20, assets=6, seed=21, start_date="2026-03-02")
    write(generate(later), tmp_path / "today")
    done = _drift(champion_workdir, tmp_path / "today")
    assert done.exit_code == 0, done.output
    for feature in FEATURES:
        assert f"| {feature} |" in done.stdout
    assert "expected squared error on today's orders" in done.stdout
    assert "realised" in done.stdout  # the generator's snapshot holds the outcomes too

    # Without outcomes (the orders of a morning, not yet executed): the estimate alone.
    morning = tmp_path / "morning"
    shutil.copytree(tmp_path / "today", morning)
    executions = pd.read_parquet(morning / "executions.parquet")
    executions.drop(columns=["shortfall_bps"]).to_parquet(morning / "executions.parquet")
    alone = _drift(champion_workdir, morning)
    assert alone.exit_code == 0, alone.output
    assert "outcomes not in today's data yet" in alone.stdout


def test_a_work_directory_without_a_champion_is_named(tmp_path):
    empty = tmp_path / "empty"
    assert (
        run_govern(
            ["init", "--owner", "o", "--author", "a", "--validator", "v"]
            + ["--operator", "p", "--workdir", str(empty)]
        ).exit_code
        == 0
    )
    none = _drift(empty, tmp_path)
    assert none.exit_code == EXIT_USAGE and "no version" in none.stderr
