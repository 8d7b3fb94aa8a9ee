"""``govern outcomes``: the logged decisions judged by what their orders cost.

The champion (trained on the small market) decides the orders of a later stretch of the
same market through the governed loader's decider; the executions of those orders come
back with their costs. Without a shift the champion stays within its calibration limits;
when impact and volatility rise (the generator's regime shift), it is flagged.
"""

import pandas as pd
import pytest
from govern_cli import run_govern

from cli.exit_codes import EXIT_USAGE
from governance import load_champion
from synthetic import SynthConfig, generate, write

MODEL = "execution-impact"


def _decide_and_execute(workdir, folder, **shift):
    """Log the champion's decision for each order of a later snapshot of its market."""
    later = SynthConfig(orders=8_000, days=20, assets=6, seed=21, start_date="2026-03-02", **shift)
    data = generate(later)
    write(data, folder)
    executions = data.as_dict()["executions"]
    champion = load_champion(MODEL, workdir=workdir)
    with champion.decider() as decider:
        policy_arguments = champion.family.compile(champion.predictor).arguments(executions)
        for order_id, fields in zip(executions["order_id"], policy_arguments, strict=True):
            decider.decide_one(str(order_id), *fields)
    return folder


def _outcomes(workdir, folder):
    return run_govern(["outcomes", MODEL, "--data", str(folder), "--workdir", str(workdir)])


@pytest.mark.parametrize(
    "shift, flagged", [({}, False), ({"shift_after_day": 0}, True)], ids=["calm", "shifted"]
)
def test_decisions_are_judged_by_their_outcomes(champion_workdir, tmp_path, shift, flagged):
    folder = _decide_and_execute(champion_workdir, tmp_path / "today", **shift)
    report = _outcomes(champion_workdir, folder)
    assert report.exit_code == 0, report.output
    assert "## v1: 8000 orders" in report.stdout
    assert ("FLAGGED" in report.stdout) is flagged, report.stdout
    assert "| size (share of ADV) |" in report.stdout


def test_without_outcomes_or_decisions_nothing_is_judged(champion_workdir, tmp_path):
    with load_champion(MODEL, workdir=champion_workdir).decider() as decider:
        decider.decide_one("an-order-elsewhere", 5e4, 2e6, 0.02, 4.0, 1e8, 30.0)
    folder = tmp_path / "unseen"
    write(generate(SynthConfig(orders=2_000, days=5, assets=6, seed=99)), folder)
    path = folder / "executions.parquet"
    executions = pd.read_parquet(path)
    executions.assign(order_id="unseen-" + executions["order_id"]).to_parquet(path)
    unseen = _outcomes(champion_workdir, folder)
    assert unseen.exit_code == EXIT_USAGE and "has a logged decision" in unseen.stderr
    pd.read_parquet(path).drop(columns=["shortfall_bps"]).to_parquet(path)
    blind = _outcomes(champion_workdir, folder)
    assert blind.exit_code == EXIT_USAGE and "holds no outcomes" in blind.stderr
