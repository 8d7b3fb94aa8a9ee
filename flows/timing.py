"""Wall-clock time per flow stage, reported at the end of a run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["StageTimer"]


class StageTimer:
    """Collects ``(stage, seconds)`` pairs in the order stages ran."""

    def __init__(self) -> None:
        self.stages: list[tuple[str, float]] = []

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        """Time the enclosed block as ``stage``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stages.append((stage, time.perf_counter() - start))
