"""Waiting for something another process does (a served flow, a worker, a suspended run)."""

import time


def wait_for(predicate, what: str, timeout: float = 90, interval: float = 0.5):
    """The first truthy value of ``predicate()``; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
