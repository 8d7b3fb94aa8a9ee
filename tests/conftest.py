"""Shared fixtures: a real Prefect test server and small synthetic data sets.

Nothing here is mocked: flows run on a temporary Prefect server, MLflow writes to
SQLite in a temporary directory, Great Expectations runs in an ephemeral context.
"""

import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.pop("MLFLOW_TRACKING_URI", None)
os.environ.pop("PREFECT_API_URL", None)

import pytest  # noqa: E402

from synthetic import SynthConfig, generate, write  # noqa: E402

SMALL = SynthConfig(orders=20_000, days=15, assets=6, seed=21)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """Start one temporary Prefect server (SQLite) for the whole test session."""
    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect-home"))
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def small_data_dir(tmp_path_factory):
    """A clean small data set on disk (read-only by convention: copy before corrupting)."""
    out = tmp_path_factory.mktemp("data-clean")
    write(generate(SMALL), out)
    return out


@pytest.fixture
def make_data_dir(tmp_path):
    """Write a small data set with the given corruption kinds; return its directory."""

    def make(*kinds: str, **overrides):
        cfg = SMALL.model_copy(update={"corruption": kinds, **overrides})
        out = tmp_path / ("data-" + ("-".join(kinds) or "clean"))
        write(generate(cfg), out)
        return out

    return make
