"""Turn contract specs into Great Expectations expectations and suites.

Each expectation carries its check's identity in ``meta`` (``check``, ``table``,
``columns``, ``severity``, ``description``) and its severity also in GX's own
``severity`` field, so a suite exported as JSON reads on its own.
Great Expectations is imported inside the functions: importing this module is cheap.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from expectations.spec import CheckSpec

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite
    from great_expectations.expectations import Expectation

__all__ = ["expectation_for", "build_suite", "suite_name"]


def _expectation_class(name: str) -> type[Expectation]:
    import great_expectations.expectations as gxe

    from expectations.custom import CUSTOM_EXPECTATIONS

    cls = CUSTOM_EXPECTATIONS.get(name) or getattr(gxe, name, None)
    if cls is None:
        raise ValueError(
            f"expectation must be a Great Expectations class or one of "
            f"{sorted(CUSTOM_EXPECTATIONS)}, got {name!r}"
        )
    return cls


def expectation_for(table: str, spec: CheckSpec) -> Expectation:
    """Build the Great Expectations expectation of one check.

    Parameters
    ----------
    table : str
        The table the check belongs to (recorded in ``meta``).
    spec : CheckSpec
        The check.

    Returns
    -------
    Expectation
        The expectation, with the check's identity in ``meta``.
    """
    meta: dict[str, Any] = {
        "check": spec.name,
        "table": table,
        "columns": list(spec.columns),
        "severity": spec.severity,
        "description": spec.description,
    }
    if spec.derived is not None:
        meta["derived_column"] = spec.derived
    cls = _expectation_class(spec.expectation)
    return cls(**dict(spec.kwargs), severity=spec.severity, meta=meta)


def suite_name(table: str, specs: Iterable[CheckSpec]) -> str:
    """Return a suite name unique to the table and the exact checks (content digest).

    Returns
    -------
    str
        ``<table>-<12 hex digits>``.
    """
    content = [
        [s.name, s.expectation, dict(s.kwargs), s.severity, s.description, s.derived] for s in specs
    ]
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
    return f"{table}-{digest[:12]}"


def build_suite(table: str, specs: Iterable[CheckSpec]) -> ExpectationSuite:
    """Build an expectation suite from checks.

    Parameters
    ----------
    table : str
        The table the checks belong to.
    specs : iterable of CheckSpec
        The checks, in order.

    Returns
    -------
    ExpectationSuite
        Named by :func:`suite_name`; not yet added to any context.
    """
    import great_expectations as gx

    specs = tuple(specs)
    return gx.ExpectationSuite(
        name=suite_name(table, specs),
        expectations=[expectation_for(table, spec) for spec in specs],
        meta={"table": table},
    )
