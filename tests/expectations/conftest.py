"""Small clean synthetic tables, generated once per session for the contract tests."""

import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from synthetic import SynthConfig, generate  # noqa: E402

CONTRACT_DATA = SynthConfig(orders=20_000, days=10, assets=5, seed=11)


@pytest.fixture(scope="session")
def clean_tables() -> dict[str, pd.DataFrame]:
    """The three tables, clean (read-only by convention: copy before corrupting)."""
    return generate(CONTRACT_DATA).as_dict()
