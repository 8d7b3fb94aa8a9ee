"""Finding live processes by an entry of their environment (what a test left running)."""

import os
from pathlib import Path


def processes_with_env(entry: str) -> dict[int, str]:
    """Live processes other than this one whose environment holds ``NAME=VALUE``: pid -> command."""
    wanted = entry.encode()
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if wanted in (proc / "environ").read_bytes().split(b"\0"):
                command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                found[int(proc.name)] = command[:200]
        except OSError:  # exited meanwhile, or not ours to read
            continue
    return found
