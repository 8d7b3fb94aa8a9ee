"""Building blocks of the HTML report: escaped values, badges, tables, notes.

Every value is HTML-escaped here: payloads hold free text typed by users (comments,
reasons). Functions that take cells expect HTML already made by these blocks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from html import escape
from typing import Any

from lineage.formatting import measure, number, short_ts

__all__ = [
    "badge",
    "e",
    "event_ref",
    "facts",
    "hash_html",
    "measure_html",
    "note",
    "num",
    "section",
    "source",
    "status_badge",
    "table",
    "ts",
    "yes_no",
]

_MISSING = "&ndash;"
_STATUS_TONES = {"pass": "ok", "warn": "warn", "fail": "bad"}


def e(value: Any) -> str:
    """Escape any value for HTML text; None or empty shows as a dash."""
    return _MISSING if value is None or value == "" else escape(str(value))


def num(value: Any, digits: int = 2) -> str:
    """A count or statistic (:func:`~lineage.formatting.number`), escaped."""
    return e(number(value, digits))


def measure_html(value: Any) -> str:
    """A measured value (:func:`~lineage.formatting.measure`), escaped."""
    return e(measure(value))


def ts(timestamp: str | None) -> str:
    """``2026-02-02T10:11:12.123456+00:00`` -> ``2026-02-02 10:11:12 UTC``."""
    short = short_ts(timestamp)
    return _MISSING if short is None else escape(short) + " UTC"


def hash_html(digest: str | None) -> str:
    """A SHA-256 in monospace that may wrap anywhere."""
    return _MISSING if not digest else f'<span class="hash">{escape(digest)}</span>'


def badge(text: str, tone: str = "") -> str:
    """A small label; ``tone`` is ``ok``, ``warn``, ``bad`` or neutral."""
    return f'<span class="badge {tone}">{escape(text)}</span>'


def yes_no(value: bool | None, yes: str = "passed", no: str = "failed") -> str:
    """A green ``yes`` or red ``no`` badge; amber "not recorded" for None."""
    if value is None:
        return badge("not recorded", "warn")
    return badge(yes, "ok") if value else badge(no, "bad")


def status_badge(status: str) -> str:
    """A gate or check status (pass, warn, fail) as a badge of its colour."""
    return badge(status, _STATUS_TONES.get(status, ""))


def table(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    numeric: Sequence[int] = (),
    row_class: Callable[[int], str] | None = None,
) -> str:
    """An HTML table, or "" when there are no rows.

    Parameters
    ----------
    header : sequence of str
        Plain-text headings (escaped here).
    rows : iterable of sequence of str
        Cells, already-escaped HTML.
    numeric : sequence of int, optional
        Columns aligned right.
    row_class : callable, optional
        Row index -> CSS class of the row ("" for none).

    Returns
    -------
    str
        The ``<table>`` element.
    """
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cells = "".join(
            f'<td class="num">{c}</td>' if j in numeric else f"<td>{c}</td>"
            for j, c in enumerate(row)
        )
        cls = row_class(i) if row_class else ""
        body.append(f'<tr class="{cls}">{cells}</tr>' if cls else f"<tr>{cells}</tr>")
    if not body:
        return ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def facts(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column table of labelled facts; values are already-escaped HTML."""
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="facts"><tbody>{cells}</tbody></table>'


def note(section: Mapping[str, Any]) -> list[str]:
    """The section's missing-evidence note as a highlighted paragraph, if it has one."""
    text = section.get("note")
    return [f'<p class="note"><strong>Missing evidence:</strong> {e(text)}</p>'] if text else []


def source(text: str) -> str:
    """Where a section's evidence comes from; ``text`` is already-escaped HTML."""
    return f'<p class="source">Source: {text}</p>'


def event_ref(seq: int | None, action: str) -> str:
    """``audit event #12 (candidate.gated)``, or that there is no such event."""
    return f"audit event #{seq} ({escape(action)})" if seq else f"no {escape(action)} event"


def section(anchor: str, heading: str, parts: Sequence[str]) -> str:
    """One ``<section id=anchor>`` with its heading and content."""
    inner = "\n".join(parts)
    return f'<section id="{anchor}">\n<h2>{escape(heading)}</h2>\n{inner}\n</section>'
