"""Custom Great Expectations expectations of the data contracts.

Importing this module registers them with Great Expectations (it imports ``gx``,
which is slow: import it only when building a suite).
"""

from __future__ import annotations

from typing import Any, ClassVar

from great_expectations.compatibility.pydantic import Field, StrictStr
from great_expectations.expectations.expectation import BatchExpectation

from expectations.dtypes import COLUMN_KINDS, KIND_DESCRIPTIONS, dtype_matches

__all__ = ["ExpectColumnDtypeToBeKind", "CUSTOM_EXPECTATIONS"]


class ExpectColumnDtypeToBeKind(BatchExpectation):
    """Expect a column's dtype to be of a kind: string, numeric, timestamp_utc or boolean.

    Unlike ``ExpectColumnTypeToBe``, which wants one exact dtype, a kind accepts every
    dtype that means the same (``int64`` and ``float64`` are numeric;
    ``datetime64[ns, UTC]`` and ``datetime64[us, UTC]`` are timestamp_utc). The result's
    ``observed_value`` is the column's dtype, or ``"missing"`` if there is no such column.

    Attributes
    ----------
    column : str
        The column.
    kind : str
        One of :data:`expectations.dtypes.COLUMN_KINDS`.
    """

    column: StrictStr = Field(min_length=1, description="The column whose dtype is checked.")
    kind: StrictStr = Field(description=f"One of {', '.join(COLUMN_KINDS)}.")

    metric_dependencies = ("table.column_types",)
    success_keys = ("column", "kind")
    domain_keys = ("batch_id",)
    args_keys = ("column", "kind")
    library_metadata: ClassVar[dict[str, Any]] = {
        "maturity": "experimental",
        "tags": ["schema", "data contract"],
        "contributors": ["execution-model-governance"],
    }

    def _validate(
        self,
        metrics: dict,
        runtime_configuration: dict | None = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        column = self._get_success_kwarg("column")
        kind = self._get_success_kwarg("kind")
        if kind not in COLUMN_KINDS:
            raise ValueError(f"kind must be one of {', '.join(COLUMN_KINDS)}, got {kind!r}")
        types = {entry["name"]: entry["type"] for entry in metrics["table.column_types"]}
        if column not in types:
            return {"success": False, "result": {"observed_value": "missing"}}
        return {
            "success": dtype_matches(types[column], kind),
            "result": {
                "observed_value": str(types[column]),
                "details": {"expected": KIND_DESCRIPTIONS[kind]},
            },
        }


CUSTOM_EXPECTATIONS: dict[str, type[BatchExpectation]] = {
    "ExpectColumnDtypeToBeKind": ExpectColumnDtypeToBeKind,
}
