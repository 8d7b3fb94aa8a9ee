"""How report values read as plain text, the same in every format.

Each function returns plain text (or None for a value that is missing); the Markdown
renderer shows None as a dash, the HTML renderer as an en dash, and escapes the text.
Event descriptions, Markdown and HTML all word numbers, times, counts and lifecycle
changes through these, so that the three never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vocabulary import Action, Alias, Lifecycle

__all__ = [
    "contract_counts",
    "gate_counts",
    "lifecycle_meaning",
    "measure",
    "number",
    "plain_text",
    "production_line",
    "reference_label",
    "short_ts",
]

_GATE_STATUSES = ("pass", "warn", "fail")


def plain_text(value: Any) -> Any:
    """``value`` with every string's ``<`` and ``>`` as HTML entities, recursively.

    Comments, reasons and tags are free text that people with a key, or with access to the
    registry's tags, write; rendered Markdown must show them, never run them as markup
    (``<script>``, ``<svg onload=...>``). Renderers show the entities as the characters.
    """
    if isinstance(value, str):
        return value.replace("<", "&lt;").replace(">", "&gt;")
    if isinstance(value, Mapping):
        return {key: plain_text(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_text(item) for item in value]
    return value


def number(value: Any, digits: int = 2) -> str | None:
    """A count or statistic: thousands separated, ``digits`` decimals, tiny values in 3 digits.

    Parameters
    ----------
    value : Any
        A number, a bool (``yes``/``no``), None (missing) or anything else (as text).
    digits : int, optional
        Decimals of a float.

    Returns
    -------
    str or None
        None when ``value`` is None.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != 0 and abs(value) < 0.01:
            return f"{value:.3g}"
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def measure(value: Any) -> str | None:
    """A measured value: one decimal from 100 up (bps), four significant digits below.

    Non-numbers are returned as text (None as None), so a table column may mix them.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.4g}"


def short_ts(ts: str | None) -> str | None:
    """``2026-02-02T10:11:12.123456+00:00`` -> ``2026-02-02 10:11:12`` (times are UTC)."""
    return ts.replace("T", " ")[:19] if ts else None


def lifecycle_meaning(state: str) -> str:
    """Plain-English meaning of a value of the ``lifecycle`` tag."""
    try:
        return Lifecycle(state).meaning
    except ValueError:
        return "state not documented"


def reference_label(name: str, champion_version: str | None) -> str:
    """What a comparison was against: ``champion (v3)`` or ``baseline sqrt_law_ridge``."""
    if name != Alias.CHAMPION:
        return f"baseline {name}"
    return f"champion ({'v' + champion_version if champion_version else 'version unknown'})"


def contract_counts(summary: Mapping[str, Any]) -> str | None:
    """``12 checks, 0 critical failures, 1 warnings`` from a data-contract summary.

    Parameters
    ----------
    summary : Mapping
        With ``checks``, ``critical_failures`` and ``warnings`` (the data-validation
        section of a report, or the summary of a ``data.validated`` event).

    Returns
    -------
    str or None
        None when no check was recorded.
    """
    if summary.get("checks") is None:
        return None
    return (
        f"{number(summary['checks'])} checks, "
        f"{number(summary.get('critical_failures')) or '?'} critical failures, "
        f"{number(summary.get('warnings')) or '?'} warnings"
    )


def gate_counts(counts: Mapping[str, int] | None) -> str | None:
    """``14 pass, 1 warn, 0 fail`` from a gate report's counts; None when there are none."""
    if not counts:
        return None
    return ", ".join(f"{number(counts.get(s, 0))} {s}" for s in _GATE_STATUSES)


def production_line(change: Mapping[str, Any]) -> str | None:
    """How one lifecycle change moved a version into or out of production, if it did.

    Parameters
    ----------
    change : Mapping
        An entry of ``report["lifecycle_history"]`` (a replayed state change).

    Returns
    -------
    str or None
        A sentence with when, who and why; None for a change that did not touch
        production (gating, sign-off).
    """
    state, reason, champion = change["lifecycle"], change["reason"], change["champion"]
    when = f"{short_ts(change['at'])} UTC by {change['by']}"
    if state == Lifecycle.CHAMPION:
        if change["action"] == Action.VERSION_ROLLED_BACK:
            return f"made champion again by a rollback {when}: {reason}"
        return f"went live {when}: {reason}"
    if state == Lifecycle.PREVIOUS:
        return f"replaced by version {champion} (kept as previous) {when}"
    if state == Lifecycle.RETIRED:
        return f"retired when version {champion} was promoted {when}"
    if state == Lifecycle.ROLLED_BACK:
        return f"taken out of production by a rollback {when}: {reason}"
    if state == Lifecycle.DECOMMISSIONED:
        return f"decommissioned {when}: {reason}"
    return None
