"""Governance: the ledger, the stores, trust, the lifecycle, a retrain's records, the loader.

``from governance import load_champion`` is the entry point of an execution engine; it is
imported on first use so that importing a light submodule (settings) stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_champion"]


def __getattr__(name: str) -> Any:
    if name == "load_champion":
        from governance.loader.champion import load_champion

        return load_champion
    raise AttributeError(f"module 'governance' has no attribute {name!r}")
