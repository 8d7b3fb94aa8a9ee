"""Which version was champion at a given moment, and who approved it, from the verified log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from governance.ledger.replay import ModelHistory
from vocabulary.errors import UsageError

__all__ = ["champion_at", "parse_moment", "render_champion_at"]


def parse_moment(text: str) -> datetime:
    """An ISO 8601 date or time; one without a time zone is read as UTC.

    Raises
    ------
    UsageError
        If ``text`` is not ISO 8601.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--at expects an ISO 8601 time such as 2026-12-01T14:30:00Z or 2026-12-01, "
            f"got {text!r}"
        ) from None
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise UsageError(f"--at {text!r} is outside the representable range of times") from None


def champion_at(history: ModelHistory, model: str, moment: datetime) -> dict[str, Any]:
    """The champion of ``model`` at ``moment`` by the replayed log, with its approvals.

    Returns
    -------
    dict
        ``model``, ``at`` (ISO, UTC), ``champion`` (version or None), and for a champion
        ``since`` / ``until`` (times of the events that began and ended its reign; ``until``
        None while it lasts), ``since_event_seq``, ``author`` and ``approvals`` (each
        ``by``, ``at``, ``event_seq``, ``automatic``) made before ``moment``.

    Raises
    ------
    UsageError
        If the log has no record of ``model``.
    """
    if not history.versions:
        raise UsageError(f"the audit log has no record of a model named {model!r}")
    at = moment.astimezone(UTC)  # parse_moment's are UTC already; others are converted
    answer: dict[str, Any] = {"model": model, "at": at.isoformat(), "champion": None}
    for reign in history.champions:
        began = datetime.fromisoformat(reign.from_ts)
        ended = None if reign.to_ts is None else datetime.fromisoformat(reign.to_ts)
        if began <= at and (ended is None or at < ended):
            version = history.versions[reign.version]
            approvals = [
                {"by": a.by, "at": a.at, "event_seq": a.seq, "automatic": a.automatic}
                for a in version.approvals
                if datetime.fromisoformat(a.at) <= at
            ]
            answer |= {
                "champion": reign.version,
                "since": reign.from_ts,
                "until": reign.to_ts,
                "since_event_seq": reign.from_seq,
                "author": version.author,
                "approvals": approvals,
            }
    return answer


def render_champion_at(answer: dict[str, Any], fmt: str) -> str:
    """The answer as JSON or a few Markdown lines."""
    if fmt == "json":
        import json

        return json.dumps(answer, indent=2) + "\n"
    if answer["champion"] is None:
        return f"No version of {answer['model']} was champion at {answer['at']}.\n"
    approvals = "; ".join(
        f"{a['by']} at {a['at']} (event {a['event_seq']}"
        + (", automatic" if a["automatic"] else "")
        + ")"
        for a in answer["approvals"]
    )
    until = answer["until"] or "now"
    return (
        f"At {answer['at']} the champion of {answer['model']} was version "
        f"{answer['champion']}, from {answer['since']} (event {answer['since_event_seq']}) "
        f"until {until}.\nAuthor: {answer['author']}. Approved by: {approvals or 'nobody'}.\n"
    )
