"""Crash drills: a lifecycle action can be killed at a named step, on purpose.

``GOVERN_FAULT_KILL_AT=<step>`` makes the process SIGKILL itself when it reaches that
step of a lifecycle action (``intent``: the intent recorded, nothing decided; ``decided``:
the decisions recorded, the registry not yet set; ``view``: the registry set, the
completion not recorded). It exists so that an operator, and the tests, can rehearse
what ``govern audit reconcile`` does after a crash at each step; unset, it does nothing.
"""

from __future__ import annotations

import os
import signal

__all__ = ["STEPS", "crash_point"]

STEPS = ("intent", "decided", "view")


def crash_point(step: str) -> None:
    """Kill this process with SIGKILL if ``GOVERN_FAULT_KILL_AT`` names ``step``."""
    if os.environ.get("GOVERN_FAULT_KILL_AT") == step:
        os.kill(os.getpid(), signal.SIGKILL)
