"""Stage progress as a flow runs, and the wall-clock time of each stage for the report."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["PROGRESS_LOGGER", "StageTimer", "progress"]

PROGRESS_LOGGER = "govern.progress"
"""The logger of one line per stage; the CLI shows it on stderr (Prefect's own INFO
logging is off there unless ``PREFECT_LOGGING_LEVEL`` asks for it)."""

progress = logging.getLogger(PROGRESS_LOGGER)


class StageTimer:
    """Announces each stage as it starts and collects ``(stage, seconds)`` in run order."""

    def __init__(self, prefix: str = "") -> None:
        self.stages: list[tuple[str, float]] = []
        self.prefix = prefix

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        """Time the enclosed block as ``stage``."""
        progress.info("%s%s", self.prefix, stage)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stages.append((stage, time.perf_counter() - start))
