"""Data contract of ``rfq``: one row per dealer asked in a request for quote.

A request (``rfq_id``) asks several dealers, so ``rfq_id`` repeats; a dealer is asked
at most once per request, so ``(rfq_id, dealer)`` is the key.
"""

from __future__ import annotations

from expectations.checks import between, compound_unique, in_set, not_empty, schema_checks
from expectations.dtypes import ColumnKind
from expectations.spec import TableContract

__all__ = ["TABLE", "SCHEMA", "SIDES", "contract", "CONTRACT"]

TABLE = "rfq"
SIDES = ("buy", "sell")

SCHEMA: dict[str, ColumnKind] = {
    "rfq_id": "string",
    "ts": "timestamp_utc",
    "asset": "string",
    "side": "string",
    "dealer": "string",
    "size": "numeric",
    "quoted_spread_bps": "numeric",
    "response_ms": "numeric",
    "filled": "boolean",
}


def contract(
    *, max_response_ms: float = 60_000.0, max_quoted_spread_bps: float = 500.0
) -> TableContract:
    """Build the ``rfq`` contract.

    Parameters
    ----------
    max_response_ms : float
        Slowest plausible dealer response; slower ones are a warning.
    max_quoted_spread_bps : float
        Widest plausible quoted spread; wider ones are a warning.

    Returns
    -------
    TableContract
        Schema checks, key uniqueness, side, and value ranges.
    """
    checks = (
        not_empty(),
        *schema_checks(SCHEMA),
        compound_unique("rfq_dealer_unique", ("rfq_id", "dealer")),
        in_set("side_valid", "side", SIDES),
        between("size_positive", "size", min_value=0, strict_min=True),
        between("quoted_spread_bps_non_negative", "quoted_spread_bps", min_value=0),
        between("response_ms_non_negative", "response_ms", min_value=0),
        between(
            "response_ms_plausible",
            "response_ms",
            max_value=max_response_ms,
            severity="warning",
        ),
        between(
            "quoted_spread_bps_plausible",
            "quoted_spread_bps",
            max_value=max_quoted_spread_bps,
            severity="warning",
        ),
    )
    return TableContract(
        table=TABLE,
        schema=SCHEMA,
        checks=checks,
        key_columns=("rfq_id", "dealer"),
    )


CONTRACT = contract()
