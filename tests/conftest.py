"""Shared fixtures: a real Prefect test server and small synthetic data sets.

Nothing here is mocked: flows run on a temporary Prefect server, MLflow writes to
SQLite in a temporary directory, Great Expectations runs in an ephemeral context.
"""

import os
import signal
import tempfile
import time
import uuid

# Prefect binds its console log handler to the stderr of the moment it is first
# imported; importing it here, before any CliRunner swaps the streams, keeps its
# handler on pytest's stream instead of a closed one.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="prefect-home-")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.pop("MLFLOW_TRACKING_URI", None)
os.environ.pop("PREFECT_API_URL", None)

# The tests judge by the shipped policy, latency budget included: the gate measures CPU
# time, which the suite's Prefect servers, Dask workers and subprocesses on the same cores
# do not change (tests/validation/test_latency.py runs it beside a busy core).
os.environ.pop("GOVERN_POLICY", None)
os.environ.pop("GOVERN_KEYS_DIR", None)
# A retrain that names no author is maker's, whose key govern_cli.trust creates.
os.environ["GOVERN_USER"] = "maker"
# Every process the tests start inherits this mark; whatever still carries it when the
# session ends outlived the test that started it (see pytest_sessionfinish).
SESSION_MARK = f"GOVERN_TEST_SESSION={uuid.uuid4().hex}"
os.environ["GOVERN_TEST_SESSION"] = SESSION_MARK.split("=", 1)[1]

import prefect  # noqa: E402, F401
import pytest  # noqa: E402
from processes import processes_with_env  # noqa: E402

from synthetic import SynthConfig, generate, write  # noqa: E402

SMALL = SynthConfig(orders=20_000, days=50, assets=6, seed=21)


@pytest.fixture(scope="session")
def prefect_server():
    """Start one temporary Prefect server (SQLite) for the whole test session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def small_data_dir(tmp_path_factory):
    """A clean small data set on disk (read-only by convention: copy before corrupting)."""
    out = tmp_path_factory.mktemp("data-clean")
    write(generate(SMALL), out)
    return out


@pytest.fixture(scope="session")
def champion_workdir(prefect_server, small_data_dir, tmp_path_factory):
    """A work directory whose version 1, trained on ``small_data_dir``, is champion."""
    from govern_cli import retrain, run_govern

    workdir = tmp_path_factory.mktemp("champion") / "w"
    assert retrain(small_data_dir, workdir).exit_code == 0
    approved = run_govern(
        ["signoff", "approve", "execution-impact", "1", "--as", "validator"]
        + ["--workdir", str(workdir)]
    )
    assert approved.exit_code == 0, approved.output
    return workdir


@pytest.fixture
def make_data_dir(tmp_path):
    """Write a small data set with the given corruption kinds; return its directory."""

    def make(*kinds: str, **overrides):
        cfg = SMALL.model_copy(update={"corruption": kinds, **overrides})
        out = tmp_path / ("data-" + ("-".join(kinds) or "clean"))
        write(generate(cfg), out)
        return out

    return make


# multiprocessing's helper of this very process (the local Dask cluster starts it): it
# exits when pytest does, by design.
_RESOURCE_TRACKER = "multiprocessing.resource_tracker"


def _marked_processes() -> dict[int, str]:
    """Live processes started by this session (other than pytest itself): pid -> command."""
    return {
        pid: command
        for pid, command in processes_with_env(SESSION_MARK).items()
        if _RESOURCE_TRACKER not in command
    }


def pytest_sessionfinish(session, exitstatus):
    """Fail the session if a process a test started is still running, then stop it."""
    deadline = time.monotonic() + 15  # servers stopped at teardown may take a moment
    left = _marked_processes()
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = _marked_processes()
    if not left:
        return
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    listing = "\n".join(f"  pid {pid}: {command}" for pid, command in left.items())
    print(f"\nprocesses started by the tests outlived them (now killed):\n{listing}")
    session.exitstatus = 1
