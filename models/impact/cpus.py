"""How many CPUs training may use: the ones this process may run on that nobody keeps busy."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Collection

__all__ = ["idle_cpus"]

#: How long the per-CPU counters are watched: ten ticks of Linux's 100 Hz accounting.
_WINDOW_S = 0.1


def idle_cpus() -> int:
    """The number of CPUs of this process's affinity that are idle now, at least 1.

    On Linux, the idle share of each allowed CPU is read from ``/proc/stat`` over
    :data:`_WINDOW_S` seconds while this thread sleeps (so its own work does not count);
    elsewhere, the one-minute load average is subtracted from the allowed CPUs. Rounded to
    the nearest CPU: a thread per CPU that is at least half free.

    Returns
    -------
    int
        Between 1 and the number of CPUs the process may run on.
    """
    if hasattr(os, "sched_getaffinity"):
        allowed = sorted(os.sched_getaffinity(0))
    else:  # macOS: no affinity, no /proc
        allowed = list(range(os.cpu_count() or 1))
    try:
        idle = _idle_from_proc_stat(allowed)
    except OSError:
        idle = len(allowed) - os.getloadavg()[0]
    return max(1, min(len(allowed), math.floor(idle + 0.5)))


def _idle_from_proc_stat(cpus: Collection[int]) -> float:
    before = _cpu_times(cpus)
    time.sleep(_WINDOW_S)
    after = _cpu_times(cpus)
    idle = 0.0
    for cpu, (busy_after, idle_after) in after.items():
        busy_before, idle_before = before[cpu]
        total = (busy_after - busy_before) + (idle_after - idle_before)
        # No tick in the window (a tickless idle CPU): it was idle.
        idle += (idle_after - idle_before) / total if total > 0 else 1.0
    return idle


def _cpu_times(cpus: Collection[int]) -> dict[int, tuple[int, int]]:
    """``{cpu: (busy ticks, idle ticks)}`` of ``cpus`` from ``/proc/stat``."""
    wanted = {f"cpu{c}": c for c in cpus}
    times = {}
    with open("/proc/stat", encoding="ascii") as stat:
        for line in stat:
            name, *fields = line.split()
            if name in wanted:
                # user nice system idle iowait irq softirq steal (guest time is in user).
                ticks = [int(v) for v in fields[:8]]
                idle = ticks[3] + ticks[4]
                times[wanted[name]] = (sum(ticks) - idle, idle)
    if len(times) != len(wanted):
        raise OSError(f"/proc/stat lists {len(times)} of the {len(wanted)} allowed CPUs")
    return times
