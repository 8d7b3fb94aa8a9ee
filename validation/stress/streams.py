"""Random streams of a simulation: three generators per chunk of paths, derived from the seed.

Part of the reproducibility contract of :mod:`validation.stress.kernels`: a chunk's streams
depend only on the seed, the stream key and the chunk's index, never on the thread count;
its book stream depends on the seed and the chunk's index only.
"""

from __future__ import annotations

import hashlib

import numpy as np

from validation.stress.kernels import CHUNK_SIZE

__all__ = ["make_generators"]


#: Second word of the book streams' entropy (the first is the seed): "book" in ASCII.
_BOOK_ENTROPY = 0x626F6F6B


def _stream_key(stream: str | int) -> int:
    digest = hashlib.sha256(str(stream).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little")


def make_generators(
    seed: int, n_paths: int, stream: str | int | None = None
) -> list[np.random.Generator]:
    """:data:`~validation.stress.kernels.STREAMS_PER_CHUNK` PCG64 generators per chunk of paths.

    Parameters
    ----------
    seed
        Non-negative integer seed.
    n_paths
        Number of paths (decides the number of chunks of
        :data:`~validation.stress.kernels.CHUNK_SIZE`).
    stream
        Optional key (e.g. an order id) giving an independent family of market and event
        streams for the same seed: ``SeedSequence(seed, spawn_key=(sha256(key),))``. The
        book streams do not depend on it.

    Returns
    -------
    list of numpy.random.Generator
        ``[market_0, event_0, book_0, market_1, ...]``: chunk ``c``'s market and event streams
        come from ``SeedSequence(...).spawn(n_chunks)[c].spawn(2)``; its book stream, the
        same for every ``stream`` key, from child ``c`` of ``SeedSequence([seed, BOOK])``:
        its entropy is not the seed alone, so no key's family, and no descendant of one, can
        be it.
    """
    n_chunks = -(-n_paths // CHUNK_SIZE)
    if stream is None:
        root = np.random.SeedSequence(seed)
    else:
        root = np.random.SeedSequence(seed, spawn_key=(_stream_key(stream),))
    book = np.random.SeedSequence([seed, _BOOK_ENTROPY]).spawn(n_chunks)
    generators = []
    for own, shared in zip(root.spawn(n_chunks), book, strict=True):
        market, event = own.spawn(2)
        generators += [np.random.Generator(np.random.PCG64(s)) for s in (market, event, shared)]
    return generators
