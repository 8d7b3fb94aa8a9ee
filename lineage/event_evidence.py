"""Reading evidence out of audit events and registry tags, for the report's sections.

Evidence may be missing or malformed (a tag someone edited, a step that never ran);
these readers answer None instead of raising, and :func:`join_notes` turns what is
missing into the section's ``note``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["bool_tag", "join_notes", "json_tag"]


def bool_tag(value: str | None) -> bool | None:
    """A ``"true"``/``"false"`` tag as a bool; None when the tag is absent."""
    return None if value is None else value == "true"


def json_tag(tags: Mapping[str, str], key: str) -> Any:
    """A JSON-valued tag, parsed; None when it is absent or not JSON."""
    try:
        return json.loads(tags[key])
    except (KeyError, ValueError):
        return None


def join_notes(*missing: str | None) -> str | None:
    """One note from what is missing; None when nothing is."""
    parts = [m for m in missing if m]
    return "; ".join(parts) if parts else None
