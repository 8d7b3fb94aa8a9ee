"""Stage progress as a flow runs, and the wall-clock time of each stage for the report."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

__all__ = ["PROGRESS_LOGGER", "StageTimer", "progress"]

PROGRESS_LOGGER = "govern.progress"
"""The logger of one line per stage; the CLI shows it on stderr (Prefect's own INFO
logging is off there unless ``PREFECT_LOGGING_LEVEL`` asks for it)."""

progress = logging.getLogger(PROGRESS_LOGGER)


class StageTimer:
    """Announces each stage as it starts and collects ``(stage, seconds)`` in run order.

    ``around``, once set, wraps every later stage (the run's lineage events); the block
    receives what it yields.
    """

    def __init__(self, prefix: str = "") -> None:
        self.stages: list[tuple[str, float]] = []
        self.prefix = prefix
        self.around: Callable[[str], AbstractContextManager[Any]] = lambda _: nullcontext()

    @contextmanager
    def __call__(self, stage: str) -> Iterator[Any]:
        """Time the enclosed block as ``stage``."""
        progress.info("%s%s", self.prefix, stage)
        start = time.perf_counter()
        try:
            with self.around(stage) as observed:
                yield observed
        finally:
            self.stages.append((stage, time.perf_counter() - start))
