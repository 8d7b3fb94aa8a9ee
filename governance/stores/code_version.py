"""Which code produced a model: the git commit of the project, or its package version."""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path

__all__ = ["code_version"]

_PROJECT_ROOT = Path(__file__).resolve().parent.parent
_DISTRIBUTION = "execution-model-governance"


def code_version() -> str:
    """Return ``git:<commit>`` (suffixed ``-dirty`` with uncommitted changes) or ``pkg:<ver>``."""
    commit = _git(["rev-parse", "HEAD"])
    if commit:
        dirty = _git(["status", "--porcelain", "--untracked-files=no"])
        return f"git:{commit}{'-dirty' if dirty else ''}"
    try:
        return f"pkg:{metadata.version(_DISTRIBUTION)}"
    except metadata.PackageNotFoundError:
        return "unknown"


def _git(args: list[str]) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(_PROJECT_ROOT), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""
