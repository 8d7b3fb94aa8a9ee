"""CPU time of one production decision, measured so that other processes do not change it.

Wall-clock time on a shared machine measures the machine: with one other process busy on one
of two cores, the pyfunc decision's p50 rose to 5.35 ms and a version was rejected forever.
The gate therefore judges the *CPU time* of the calling thread (:func:`time.thread_time_ns`),
which leaves out the time the thread waited for a core. CPU time is not immune either: after
a context switch the caches are cold, and a busy neighbour takes shared cache and memory
bandwidth. A disturbance can only make a call look slower, never faster. Hence:

* Calls run in batches. A batch is *quiet* when its wall time is within
  :data:`QUIET_WALL_CPU_RATIO` of its CPU time: the thread kept its core. The figures come
  from the quiet batches: p50 is the median of their per-batch medians, p99 the median of
  their per-batch 99th percentiles. A tail that belongs to the model (a slow branch taken by
  one call in a hundred) is in every batch and so in the figure; one batch whose caches a
  neighbour flushed is not (pooling the samples let a handful of such calls move the p99 of
  a 5-microsecond decision past 50 microseconds). Wall-clock figures of the same calls are
  reported beside them, not judged.
* A measurement is *steady* when at least :data:`MIN_QUIET_SHARE` of its batches are quiet
  and their medians agree (interquartile range within :data:`MAX_BATCH_SPREAD` of their
  median). An unsteady one is repeated, after :data:`PAUSE_S` for a burst of load to pass, up
  to ``attempts`` times.
* A measurement still unsteady is *inconclusive*. Its figures are then an upper bound of the
  true cost, above it by at most :data:`DISTURBANCE_FACTOR` (bench/latency.py measures the
  effect of a busy core); :func:`latency_status` lets it pass when even the upper bound meets
  the budget, fail when the budget is missed by more than the factor, and otherwise calls it
  inconclusive, which the gate records as a warning to re-measure, never a rejection.

CPU time is the calling thread's: work a call hands to other threads is not counted (the
compiled decision runs on the calling thread; LightGBM's ``predict`` in the pyfunc path may
use OpenMP workers, so its CPU figure is a lower bound, its wall-clock figure the cost).
Each sample includes one reading of the thread clock (a system call, about 0.5 us): the
figures err on the slow side. The garbage collector is off while measuring, as in
:mod:`timeit`: its pauses belong to the caller's process, not to the model.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "DISTURBANCE_FACTOR",
    "MAX_BATCH_SPREAD",
    "MIN_QUIET_SHARE",
    "PAUSE_S",
    "QUIET_WALL_CPU_RATIO",
    "LatencyStatus",
    "disturbance",
    "latency_status",
    "measure_latency",
]

#: A batch whose wall time exceeds its CPU time by more than this lost its core for a while.
QUIET_WALL_CPU_RATIO = 1.25
#: Share of the batches that must be quiet for a steady measurement.
MIN_QUIET_SHARE = 0.5
#: Largest interquartile range of the quiet batches' medians, relative to their median.
MAX_BATCH_SPREAD = 0.2
#: How much slower than its true cost a disturbed machine can make a call look, at most.
#: bench/latency.py: with a core busy on an already loaded 2-CPU machine, the compiled
#: decision's CPU p50 rose about 1.5x.
DISTURBANCE_FACTOR = 2.0
#: Seconds between two attempts.
PAUSE_S = 0.25

LatencyStatus = Literal["pass", "fail", "inconclusive"]


@dataclass(frozen=True)
class _Attempt:
    cpu_ns: np.ndarray  # (batches, calls_per_batch)
    wall_ns: np.ndarray
    ratio: np.ndarray  # per batch, wall / CPU

    @property
    def quiet(self) -> np.ndarray:
        """Per batch, whether the thread kept its core."""
        return self.ratio <= QUIET_WALL_CPU_RATIO

    @property
    def used(self) -> np.ndarray:
        """The batches the figures come from: the quiet ones, or all when none is."""
        return self.quiet if self.quiet.any() else np.ones_like(self.quiet)

    @property
    def spread(self) -> float:
        """Interquartile range of the used batches' medians over their median."""
        medians = np.median(self.cpu_ns[self.used], axis=1)
        q25, q50, q75 = np.percentile(medians, [25, 50, 75])
        return float((q75 - q25) / q50) if q50 > 0 else math.inf

    @property
    def steady(self) -> bool:
        """Whether the figures can be trusted as they are."""
        return self.quiet.mean() >= MIN_QUIET_SHARE and self.spread <= MAX_BATCH_SPREAD


def measure_latency(
    call: Callable[[], object],
    batches: int = 30,
    calls_per_batch: int = 200,
    warmup: int = 200,
    attempts: int = 3,
) -> dict[str, float]:
    """CPU time of ``call`` over ``batches`` batches of ``calls_per_batch`` calls each.

    Parameters
    ----------
    call : callable
        One decision, as a production caller makes it.
    batches, calls_per_batch : int
        Size of one attempt.
    warmup : int
        Untimed calls before the first attempt (compilation, caches).
    attempts : int
        Attempts at most; the first steady one is kept (see the module's docstring).

    Returns
    -------
    dict
        ``p50_ms``, ``p99_ms``, ``max_ms`` (CPU time per call), ``wall_p50_ms``,
        ``wall_p99_ms`` (wall clock, the same calls), ``n_calls`` (calls in the figures),
        ``attempts`` (made), ``quiet_share`` (of the batches), ``batch_spread`` and
        ``conclusive`` (1.0 when the kept attempt was steady, else 0.0).

    Raises
    ------
    ValueError
        If an attempt has fewer than 100 calls (a p99 needs at least that many), fewer than
        4 batches (a spread needs quartiles) or ``attempts`` is below 1.
    """
    if batches < 4 or batches * calls_per_batch < 100 or attempts < 1:
        raise ValueError(
            f"need batches >= 4, batches * calls_per_batch >= 100 (for a p99) and "
            f"attempts >= 1, got batches={batches}, calls_per_batch={calls_per_batch}, "
            f"attempts={attempts}"
        )
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(warmup):
            call()
        made: list[_Attempt] = []
        while len(made) < attempts and not (made and made[-1].steady):
            if made:
                time.sleep(PAUSE_S)
            made.append(_attempt(call, batches, calls_per_batch))
    finally:
        if was_enabled:
            gc.enable()
    kept = made[-1] if made[-1].steady else max(made, key=lambda a: a.quiet.mean())
    cpu, wall = kept.cpu_ns[kept.used], kept.wall_ns[kept.used]
    return {
        "p50_ms": float(np.median(np.median(cpu, axis=1))) / 1e6,
        "p99_ms": float(np.median(np.percentile(cpu, 99, axis=1))) / 1e6,
        "max_ms": float(cpu.max()) / 1e6,
        "wall_p50_ms": float(np.median(np.median(wall, axis=1))) / 1e6,
        "wall_p99_ms": float(np.median(np.percentile(wall, 99, axis=1))) / 1e6,
        "n_calls": float(cpu.size),
        "attempts": float(len(made)),
        "quiet_share": float(kept.quiet.mean()),
        "batch_spread": kept.spread,
        "conclusive": float(kept.steady),
    }


def _attempt(call: Callable[[], object], batches: int, calls_per_batch: int) -> _Attempt:
    cpu = np.empty((batches, calls_per_batch), dtype=np.int64)
    wall = np.empty((batches, calls_per_batch), dtype=np.int64)
    ratio = np.empty(batches)
    thread_ns, wall_clock_ns = time.thread_time_ns, time.perf_counter_ns
    for b in range(batches):
        batch_cpu, batch_wall = thread_ns(), wall_clock_ns()
        for i in range(calls_per_batch):
            w0 = wall_clock_ns()
            c0 = thread_ns()
            call()
            c1 = thread_ns()
            wall[b, i] = wall_clock_ns() - w0
            cpu[b, i] = c1 - c0
        batch_cpu = thread_ns() - batch_cpu
        ratio[b] = (wall_clock_ns() - batch_wall) / max(batch_cpu, 1)
    return _Attempt(cpu, wall, ratio)


def latency_status(value_ms: float, limit_ms: float, conclusive: bool) -> LatencyStatus:
    """Judge one measured figure against its budget.

    ``pass`` when it meets the budget (a disturbance only inflates it); ``fail`` when a
    steady measurement misses it, or an unsteady one misses it by more than
    :data:`DISTURBANCE_FACTOR`; ``inconclusive`` otherwise. A missing (non-finite) figure
    fails.
    """
    if not math.isfinite(value_ms):
        return "fail"
    if value_ms <= limit_ms:
        return "pass"
    if conclusive or value_ms > DISTURBANCE_FACTOR * limit_ms:
        return "fail"
    return "inconclusive"


def disturbance(latency: Mapping[str, float]) -> str:
    """Why a measurement of :func:`measure_latency` is not steady, in words."""
    return (
        f"after {latency['attempts']:.0f} attempts, {latency['quiet_share']:.0%} of the batches "
        f"kept their core (wall/CPU <= {QUIET_WALL_CPU_RATIO:g}; steady needs "
        f"{MIN_QUIET_SHARE:.0%}) and their medians spread {latency['batch_spread']:.0%} "
        f"(steady needs <= {MAX_BATCH_SPREAD:.0%})"
    )
