"""Gather and render in one call, in the format a command asks for."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from governance.stores.handle import Stores
from lineage.gather import inventory, lineage_report, run_figures
from lineage.html_page import to_html
from lineage.inventory import inventory_csv, inventory_markdown
from lineage.markdown import to_markdown
from vocabulary import UsageError

__all__ = [
    "INVENTORY_FORMATS",
    "REPORT_FORMATS",
    "choose_format",
    "render_inventory",
    "render_report",
]

REPORT_FORMATS = ("json", "md", "html")
"""Formats a lineage report renders to."""

INVENTORY_FORMATS = ("csv", "json", "md")
"""Formats an inventory renders to."""

_SUFFIX_ALIASES = {"markdown": "md", "htm": "html"}


def choose_format(fmt: str | None, output: Path | None, allowed: Sequence[str]) -> str:
    """Pick the output format: ``fmt``, else the suffix of ``output``, else Markdown.

    Parameters
    ----------
    fmt : str or None
        What the user asked for (``--format``).
    output : Path or None
        Where the output goes (``-o``); its suffix (``.html``, ``.json``, ...) decides
        when ``fmt`` is None and the suffix is one of ``allowed``.
    allowed : sequence of str
        :data:`REPORT_FORMATS` or :data:`INVENTORY_FORMATS`.

    Returns
    -------
    str
        One of ``allowed``.

    Raises
    ------
    UsageError
        If ``fmt`` is not one of ``allowed``.
    """
    if fmt is None:
        suffix = output.suffix.lower().lstrip(".") if output else ""
        suffix = _SUFFIX_ALIASES.get(suffix, suffix)
        return suffix if suffix in allowed else "md"
    if fmt.lower() not in allowed:
        raise UsageError(f"--format must be one of {', '.join(allowed)}, got {fmt!r}")
    return fmt.lower()


def render_report(
    stores: Stores, model: str, version: str | int, fmt: str
) -> tuple[str, dict[str, Any]]:
    """Gather a version's lineage and render it; HTML embeds the run's plots.

    Parameters
    ----------
    stores, model, version
        As for :func:`~lineage.gather.lineage_report`.
    fmt : str
        One of :data:`REPORT_FORMATS`.

    Returns
    -------
    tuple of (str, dict)
        The rendered text and the report it renders.

    Raises
    ------
    UsageError
        If the format is unknown, or the model or version is not registered.
    """
    fmt = choose_format(fmt, None, REPORT_FORMATS)
    report = lineage_report(stores, model, version)
    if fmt == "json":
        return json.dumps(report, indent=2) + "\n", report
    if fmt == "md":
        return to_markdown(report), report
    return to_html(report, run_figures(stores, report["training"]["run_id"])), report


def render_inventory(stores: Stores, model: str, fmt: str) -> str:
    """List every version of ``model`` and render the list.

    Parameters
    ----------
    stores, model
        As for :func:`~lineage.gather.inventory`.
    fmt : str
        One of :data:`INVENTORY_FORMATS`.

    Returns
    -------
    str
        CSV, JSON (a list of rows) or Markdown.

    Raises
    ------
    UsageError
        If the format is unknown or the model is not registered.
    """
    fmt = choose_format(fmt, None, INVENTORY_FORMATS)
    rows = inventory(stores, model)
    if fmt == "csv":
        return inventory_csv(rows)
    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    return inventory_markdown(model, rows)
