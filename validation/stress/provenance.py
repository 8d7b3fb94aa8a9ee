"""Which stress engine produced a figure: the SHA-256 of its source.

Stress figures are reproducible from the seed, the scenario library and the engine. The
library's hash is recorded with every result; this is the engine's, recorded beside it, so
that a re-run by another release of the engine can say that its figures may differ from the
recorded ones instead of silently disagreeing with them.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

__all__ = ["ENGINE_DIRECTORY", "engine_sha256", "source_sha256"]

#: The package whose Python source is the engine (kernels, inputs, metrics, runner, ...).
ENGINE_DIRECTORY = Path(__file__).resolve().parent


def source_sha256(directory: Path) -> str:
    """SHA-256 over the names and contents of the ``*.py`` files of ``directory``, by name.

    Each file enters as its name, its length and its bytes, so that no two different sets
    of files hash alike by moving bytes from one file to the next.
    """
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.py")):
        data = path.read_bytes()
        digest.update(f"{path.name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


@cache
def engine_sha256() -> str:
    """:func:`source_sha256` of this engine's package, computed once per process."""
    return source_sha256(ENGINE_DIRECTORY)
