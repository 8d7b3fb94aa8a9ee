"""Every decision the champion serves is attributed to its version, and found again by order.

The log is tested on its own (batching, the age limit, files only added, a closed log
refusing), then through a real champion: trained, approved and promoted with the CLI,
loaded with ``load_champion``, asked per order, and ``govern decisions --order`` reading
the answer back and checking it against the audit log.
"""

import hashlib
import struct
import time

import pandas as pd
import pytest
from govern_cli import run_govern

from cli.exit_codes import EXIT_INTEGRITY, EXIT_USAGE
from governance import load_champion
from governance.loader.decisions import DecisionLog, read_decisions

MODEL = "execution-impact"
ARGUMENTS = ("qty", "adv", "daily_vol", "spread_bps", "shares_outstanding", "start_minute")
DECISION = ("horizon_minutes", "predicted_cost_bps")


def _log(folder, **kwargs):
    return DecisionLog(folder, MODEL, "3", ARGUMENTS, DECISION, **kwargs)


def test_decisions_are_written_in_batches_as_new_files(tmp_path):
    log = _log(tmp_path, flush_every=3, max_age_seconds=60)
    for n in range(7):
        log.record(f"o{n}", (1e4 + n, 1e6, 0.02, 5.0, 1e8, 30.0), (60.0, 12.5))
    assert len(list(tmp_path.rglob("*.parquet"))) == 2  # two full batches, one decision held
    log.close()
    files = sorted(tmp_path.rglob("*.parquet"))
    assert len(files) == 3 and not list(tmp_path.rglob("*.partial"))
    found = read_decisions(tmp_path)
    assert list(found["order_id"]) == [f"o{n}" for n in range(7)]
    assert set(found["version"]) == {"3"} and set(found["model"]) == {MODEL}
    assert list(found["qty"]) == [1e4 + n for n in range(7)]
    assert list(found["horizon_minutes"]) == [60.0] * 7
    packed = struct.pack("<6d", 1e4, 1e6, 0.02, 5.0, 1e8, 30.0)
    assert found["inputs_sha256"].iloc[0] == hashlib.sha256(b"o0\0" + packed).hexdigest()
    assert read_decisions(tmp_path, "o5")["qty"].tolist() == [1e4 + 5]


def test_an_idle_engines_last_decision_is_written_within_its_age_limit(tmp_path):
    log = _log(tmp_path, flush_every=1000, max_age_seconds=0.2)
    log.record("lonely", (1e4, 1e6, 0.02, 5.0, 1e8, 0.0), (30.0, 8.0))
    deadline = time.monotonic() + 5
    while not list(tmp_path.rglob("*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert read_decisions(tmp_path, "lonely")["predicted_cost_bps"].tolist() == [8.0]
    log.close()


def test_a_closed_log_refuses_to_serve_unrecorded_decisions(tmp_path):
    log = _log(tmp_path)
    log.close()
    with pytest.raises(RuntimeError, match="is closed"):
        log.record("late", (1e4, 1e6, 0.02, 5.0, 1e8, 0.0), (30.0, 8.0))


def test_bad_settings_are_refused(tmp_path):
    with pytest.raises(ValueError, match="flush_every must be >= 1"):
        _log(tmp_path, flush_every=0)


def _decisions(workdir, order):
    return run_govern(["decisions", "--order", order, "--workdir", str(workdir)])


def test_each_order_is_attributed_to_the_champion_that_decided_it(champion_workdir):
    champion = load_champion(MODEL, workdir=champion_workdir)
    orders = {"blk-1": (5e4, 2e6, 0.02, 4.0, 1e8, 30.0), "blk-2": (2e5, 3e6, 0.03, 6.0, 5e8, 0.0)}
    with champion.decider() as decider:
        served = {order: decider.decide_one(order, *fields) for order, fields in orders.items()}
    compiled = champion.family.compile(champion.predictor)
    for order, fields in orders.items():
        assert served[order] == compiled.decide_one(*fields)
        shown = _decisions(champion_workdir, order)
        assert shown.exit_code == 0, shown.output
        assert f"order {order}: {MODEL} v1 (the champion by the audit log then)" in shown.stdout
        assert f"horizon_minutes={served[order][0]}" in shown.stdout


def test_an_order_nobody_decided_and_a_decision_by_a_non_champion_are_named(
    champion_workdir, tmp_path
):
    missing = _decisions(champion_workdir, "never-seen")
    assert missing.exit_code == EXIT_USAGE and "no decision was logged" in missing.stderr
    # A log written by something that is not the governed loader: version 7 never existed.
    forged = champion_workdir / "decisions" / MODEL / "forged"
    forged.mkdir(parents=True)
    pd.DataFrame(
        {
            "order_id": ["blk-x"],
            "model": [MODEL],
            "version": ["7"],
            "decided_at": [pd.Timestamp.now(tz="UTC")],
            "process": ["elsewhere:1"],
            "inputs_sha256": ["0" * 64],
            "horizon_minutes": [5.0],
        }
    ).to_parquet(forged / "v7.parquet")
    wrong = _decisions(champion_workdir, "blk-x")
    assert wrong.exit_code == EXIT_INTEGRITY, wrong.output
    assert "NOT the champion by the audit log then (that was 1)" in wrong.stdout
