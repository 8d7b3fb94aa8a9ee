"""Errors raised by the stress-testing package and a formatter for pydantic validation errors.

Every deliberate failure here is both a :class:`vocabulary.errors.UsageError` (so the CLI maps
it to its usage exit code) and a :class:`ValueError` (so plain Python callers can catch what
they expect from a bad argument). Messages name the field, what was expected and what was got,
e.g. ``"sigma must be >= 0, got -0.1"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from vocabulary.errors import UsageError

__all__ = ["StressInputError", "ScenarioFileError", "format_validation_error"]


class StressInputError(UsageError, ValueError):
    """An argument, a model parameter or an orders table was refused."""


class ScenarioFileError(UsageError, ValueError):
    """The scenario library file is missing, is not valid YAML/JSON, or fails validation."""


_OPERATORS = {
    "greater_than": (">", "gt"),
    "greater_than_equal": (">=", "ge"),
    "less_than": ("<", "lt"),
    "less_than_equal": ("<=", "le"),
}


def _location(loc: Sequence[Any]) -> str:
    """Render a pydantic error location as ``a.b[2][0]``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "<root>"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_validation_error(
    errors: Iterable[dict[str, Any]],
    *,
    title: str,
    allowed: dict[str, Sequence[str]] | None = None,
) -> str:
    """Turn pydantic error dictionaries into one message naming field, expectation and value.

    Parameters
    ----------
    errors
        ``ValidationError.errors()`` of a failed validation.
    title
        What was being validated, e.g. ``"scenario file /x/scenarios.yaml"``.
    allowed
        Optional map from a model name to its allowed field names, used to list the allowed
        fields when an unknown field is met.

    Returns
    -------
    str
        A multi-line message, one line per problem.
    """
    lines = []
    for err in errors:
        loc = _location(err.get("loc", ()))
        kind = err.get("type", "")
        got = err.get("input")
        ctx = err.get("ctx") or {}
        if kind in _OPERATORS:
            op, key = _OPERATORS[kind]
            bound = ctx.get(key)
            shown = f"{bound:g}" if isinstance(bound, int | float) else str(bound)
            lines.append(f"{loc} must be {op} {shown}, got {_short(got)}")
        elif kind == "missing":
            lines.append(f"{loc} is required but missing")
        elif kind == "extra_forbidden":
            hint = ""
            if allowed:
                names = sorted({n for fields in allowed.values() for n in fields})
                hint = f" (allowed fields: {', '.join(names)})"
            lines.append(f"{loc} is not a known field{hint}, got {_short(got)}")
        elif kind == "literal_error":
            lines.append(f"{loc} must be {ctx.get('expected')}, got {_short(got)}")
        else:
            msg = str(err.get("msg", "invalid value"))
            msg = msg.removeprefix("Value error, ")
            msg = msg.replace("Input should be", "expected")
            lines.append(f"{loc}: {msg}, got {_short(got)}")
    head = f"{title} is invalid ({len(lines)} problem{'s' if len(lines) != 1 else ''}):"
    return "\n".join([head, *("  - " + line for line in lines)])
