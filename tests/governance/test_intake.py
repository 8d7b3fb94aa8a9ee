"""Bad input data never crashes the pipeline: every defect ends in exit 3, before orchestration.

Each case damages a copy of a clean snapshot the way a real feed does and runs
``govern retrain`` on it. The refusal names the table, the column or check and what was
found; one ``data.rejected`` event is appended and nothing is registered.
"""

import shutil

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from govern_cli import retrain

from cli.exit_codes import EXIT_DATA_REJECTED
from governance.ledger import open_audit_log
from governance.stores.settings import get_settings


def _rewrite(table: str, change):
    def damage(data_dir):
        path = data_dir / f"{table}.parquet"
        frame = pd.read_parquet(path)
        change(frame).to_parquet(path)

    return damage


def _set(column: str, value, rows=slice(0, 3)):
    def change(frame):
        frame = frame.copy()
        frame.loc[frame.index[rows], column] = value
        return frame

    return change


def _one_day(frame):
    day = frame["start_ts"].dt.floor("D")
    return frame.loc[day == day.iloc[0]]


def _last_days(n):
    def change(frame):
        day = frame["start_ts"].dt.floor("D")
        return frame.loc[day.isin(sorted(day.unique())[:n])]

    return change


def _garbage(data_dir):
    (data_dir / "executions.parquet").write_bytes(b"PAR1 this is not parquet")


def _missing_bars(data_dir):
    (data_dir / "market_bars.parquet").unlink()


def _bars_of_other_assets(frame):
    """A bar feed for the wrong instruments: the assets renamed, every price kept."""
    return frame.assign(asset="X" + frame["asset"].astype(str))


def _bars_of_the_first_day(frame):
    """A feed that stopped after its first day: every asset covered, most orders not."""
    day = frame["ts"].dt.floor("D")
    return frame.loc[day == day.iloc[0]]


def _without_bars_of_one_asset(frame):
    return frame.loc[frame["asset"] != frame["asset"].iloc[0]]


def _with_column(name, source="qty"):
    return lambda frame: frame.assign(**{name: frame[source]})


def _in_new_york(frame):
    return frame.assign(
        start_ts=frame["start_ts"].dt.tz_convert("America/New_York"),
        end_ts=frame["end_ts"].dt.tz_convert("America/New_York"),
    )


def _one_order_in_2035(frame):
    frame = frame.copy()
    shift = pd.Timestamp("2035-01-02", tz="UTC") - frame["start_ts"].iloc[0].floor("D")
    frame.loc[frame.index[0], ["start_ts", "end_ts"]] = (
        frame.loc[frame.index[0], ["start_ts", "end_ts"]] + shift
    )
    return frame


CASES = {
    "a quantity of 1e300": (
        _rewrite("executions", _set("qty", 1e300, rows=slice(0, 1))),
        "adv_covers_qty",
    ),
    "an unknown column": (_rewrite("executions", _with_column("trader")), "check columns_known"),
    "QTY beside qty": (_rewrite("executions", _with_column("QTY")), "differ only in case"),
    "an order dated 2035": (
        _rewrite("executions", _one_order_in_2035),
        "executions.start_ts: expected times no later than the admission",
    ),
    "times in New York": (_rewrite("executions", _in_new_york), "UTC timestamp"),
    "an asset without bars": (
        _rewrite("market_bars", _without_bars_of_one_asset),
        "check asset_has_bars",
    ),
    "infinite qty": (_rewrite("executions", _set("qty", np.inf)), "executions.qty"),
    "infinite spread in bars": (
        _rewrite("market_bars", _set("ask", -np.inf)),
        "market_bars.ask",
    ),
    "a single trading day": (_rewrite("executions", _one_day), "at least 2 trading days"),
    "too short a holdout": (_rewrite("executions", _last_days(12)), "the policy requires"),
    "unreadable parquet": (_garbage, "executions: expected a readable Parquet file"),
    "a table the family needs is missing": (_missing_bars, "market_bars"),
    "an empty executions table": (_rewrite("executions", lambda f: f.iloc[:0]), "executions"),
    "bars of other instruments": (
        _rewrite("market_bars", _bars_of_other_assets),
        "check asset_has_bars",
    ),
    "bars that do not cover the orders' windows": (
        _rewrite("market_bars", _bars_of_the_first_day),
        "check market_move_bps",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_exits_3_with_a_named_check_and_one_event(case, small_data_dir, tmp_path):
    damage, expected = CASES[case]
    data_dir = tmp_path / "data"
    shutil.copytree(small_data_dir, data_dir)
    damage(data_dir)
    workdir = tmp_path / "w"

    result = retrain(data_dir, workdir)

    assert result.exit_code == EXIT_DATA_REJECTED, result.output
    assert expected in result.stderr, result.stderr
    assert "unexpected" not in result.stderr
    with open_audit_log(get_settings(workdir).audit_db_url) as audit:
        adoption, *events = audit.events()
    assert adoption.action == "policy.adopted"  # the test's people, set up before the retrain
    assert [e.action for e in events] == ["data.rejected"]
    assert events[0].payload["dataset_uri"] == data_dir.resolve().as_uri()
    assert expected.split(":")[0] in events[0].payload["reason"]
    # Refused before orchestration and before MLflow: its tables were never even created.
    engine = sa.create_engine(get_settings(workdir).audit_db_url)
    assert sa.inspect(engine).get_table_names() == ["governance_audit_events"]
    engine.dispose()
    assert not (workdir / "artifacts").exists()


def test_a_training_window_of_one_day_is_refused_not_crashed():
    from models import get_family
    from synthetic import SynthConfig, generate
    from validation.intake import check_intake

    tables = generate(SynthConfig(orders=3_000, days=12, assets=3, seed=2)).as_dict()
    family = get_family("execution-impact")
    # Nine tenths held out: the first day alone would be left to train on.
    now = pd.Timestamp.now(tz="UTC")
    intake = check_intake(tables, family, holdout_fraction=0.9, min_holdout_days=2, as_of=now)
    assert not intake.passed
    assert "training window" in intake.refusal and "covers 1 day(s)" in intake.refusal
    assert check_intake(tables, family, holdout_fraction=0.2, min_holdout_days=2, as_of=now).passed


def test_ground_truth_columns_are_not_read_so_their_gaps_are_accepted():
    """The generator's ground truth (true_daily_vol, ...) is declared, never a feature or the
    target: a gap in it changes nothing the pipeline computes, so it is admitted."""
    from models import get_family
    from synthetic import SynthConfig, generate
    from validation.intake import check_intake

    tables = generate(SynthConfig(orders=3_000, days=12, assets=3, seed=2)).as_dict()
    executions = tables["executions"].copy()
    executions.loc[executions.index[:50], "true_daily_vol"] = np.nan
    family = get_family("execution-impact")
    now = pd.Timestamp.now(tz="UTC")
    intake = check_intake(
        {**tables, "executions": executions},
        family,
        holdout_fraction=0.2,
        min_holdout_days=2,
        as_of=now,
    )
    assert intake.passed, intake.refusal
    assert all("true_daily_vol" not in inputs for inputs in family.feature_inputs.values())


def test_a_refusal_deleted_from_the_logs_tail_is_caught(small_data_dir, tmp_path):
    """The refusal is unsigned but checkpointed by its author: deleting it is a finding."""
    import sqlite3

    from govern_cli import run_govern

    from cli.exit_codes import EXIT_INTEGRITY

    data_dir = tmp_path / "data"
    shutil.copytree(small_data_dir, data_dir)
    _rewrite("executions", _with_column("trader"))(data_dir)
    workdir = tmp_path / "w"
    assert retrain(data_dir, workdir).exit_code == EXIT_DATA_REJECTED
    assert run_govern(["audit", "verify", "--workdir", str(workdir)]).exit_code == 0

    database = get_settings(workdir).audit_db_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as conn:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'"):
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("DELETE FROM governance_audit_events WHERE action = 'data.rejected'")
    verify = run_govern(["audit", "verify", "--workdir", str(workdir)])
    assert verify.exit_code == EXIT_INTEGRITY, verify.output
    assert "its newest events were deleted" in verify.output
