"""``govern stress``: scenarios re-run on a registered version's recorded stress book."""

import json

import pytest
from govern_cli import retrain, run_govern

from cli.exit_codes import EXIT_INTEGRITY, EXIT_USAGE
from validation.stress import CONTROL_NAMES, engine_sha256, load_scenarios

MODEL = "execution-impact"


@pytest.fixture(scope="module")
def workdir(prefect_server, small_data_dir, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("what-if") / "w"
    done = retrain(small_data_dir, workdir)
    assert done.exit_code == 0, done.output
    return workdir


def stress(workdir, *args):
    return run_govern(["stress", MODEL, *args, "--workdir", str(workdir)])


def test_scenarios_rerun_on_the_recorded_book_give_the_same_numbers_for_the_same_seed(workdir):
    args = ("1", "--scenario", "baseline", "--scenario", "vol_spike", "--paths", "300", "--json")
    first, again = stress(workdir, *args), stress(workdir, *args)
    assert first.exit_code == 0, first.output
    result = json.loads(first.stdout)
    assert json.loads(again.stdout) == result
    assert (result["model"], result["version"], result["paths"]) == (MODEL, "1", 300)
    assert result["controls"] is True and result["seed"] == 0
    assert result["scenario_library_sha256"] == load_scenarios().sha256
    # The engine that judged the version, recorded in its candidate.stressed event, is this one.
    assert result["engine_sha256"] == result["judged_engine_sha256"] == engine_sha256()
    assert list(result["scenarios"]) == ["baseline", "vol_spike"]
    spike = result["scenarios"]["vol_spike"]
    assert set(spike["control_rates"]) == set(CONTROL_NAMES)
    assert spike["mean_cost_bps"] > result["scenarios"]["baseline"]["mean_cost_bps"]
    assert 0 <= spike["completion_share"] <= 1
    for metric in spike["risk_metrics"].values():
        assert set(metric) == {"value", "alert_rate", "action_rate"}
    other_seed = json.loads(stress(workdir, *args[:-1], "--seed", "1", "--json").stdout)
    assert other_seed["scenarios"] != result["scenarios"]


def test_without_controls_nothing_fires_and_the_table_is_readable(workdir):
    off = stress(workdir, "1", "--scenario", "vol_spike", "--paths", "200", "--no-controls")
    assert off.exit_code == 0, off.output
    assert "controls off" in off.stdout and "| vol_spike |" in off.stdout
    raw = json.loads(
        stress(
            workdir, "1", "--scenario", "vol_spike", "--paths", "200", "--no-controls", "--json"
        ).stdout
    )
    assert raw["controls"] is False
    assert all(v == 0 for v in raw["scenarios"]["vol_spike"]["control_rates"].values())


def test_a_rerun_by_another_engine_says_so(workdir, monkeypatch):
    args = ("1", "--scenario", "baseline", "--paths", "100")
    same = stress(workdir, *args)
    assert same.exit_code == 0 and "note:" not in same.stdout, same.output
    # A later release of the engine re-running a book judged by this one.
    monkeypatch.setattr("governance.what_if.engine_sha256", lambda: "e" * 64)
    later = stress(workdir, *args)
    assert later.exit_code == 0, later.output
    judged = engine_sha256()[:12]
    assert (
        f"note: version 1 was judged by engine {judged}; these figures come from engine "
        "eeeeeeeeeeee and may differ from its recorded ones" in later.stdout
    )


def test_unknown_scenario_or_version_exits_2_naming_what_exists(workdir):
    bad = stress(workdir, "1", "--scenario", "meteor")
    assert bad.exit_code == EXIT_USAGE and "unknown scenario(s) ['meteor']" in bad.output
    assert "vol_spike" in bad.output
    missing = stress(workdir, "7")
    assert missing.exit_code == EXIT_USAGE and "no version 7" in missing.output


def test_an_altered_stress_book_is_refused(workdir):
    [book] = list((workdir / "artifacts").rglob("stress_book.csv"))
    recorded = book.read_text()
    try:
        book.write_text(recorded.replace("vwap", "twap", 1))
        refused = stress(workdir, "1", "--scenario", "baseline", "--paths", "100")
    finally:
        book.write_text(recorded)
    assert refused.exit_code == EXIT_INTEGRITY, refused.output
    assert "refusing to re-run an altered book" in refused.output
    assert stress(workdir, "1", "--scenario", "baseline", "--paths", "100").exit_code == 0
