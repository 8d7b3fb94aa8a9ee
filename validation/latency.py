"""Inference latency of one pre-trade decision, as a production caller sees it."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

__all__ = ["measure_latency"]


def measure_latency(call: Callable[[], object], n_calls: int = 500, warmup: int = 20) -> dict:
    """Time ``call`` ``n_calls`` times after ``warmup`` untimed calls.

    Returns
    -------
    dict
        ``p50_ms``, ``p99_ms``, ``max_ms`` and ``n_calls``.

    Raises
    ------
    ValueError
        If ``n_calls`` is below 100 (a p99 needs at least that many samples).
    """
    if n_calls < 100:
        raise ValueError(f"n_calls must be >= 100 for a meaningful p99, got {n_calls}")
    for _ in range(warmup):
        call()
    samples = np.empty(n_calls)
    for i in range(n_calls):
        start = time.perf_counter_ns()
        call()
        samples[i] = (time.perf_counter_ns() - start) / 1e6
    return {
        "p50_ms": float(np.percentile(samples, 50)),
        "p99_ms": float(np.percentile(samples, 99)),
        "max_ms": float(samples.max()),
        "n_calls": n_calls,
    }
