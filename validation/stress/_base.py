"""Frozen, strict pydantic base model whose validation errors name field, expectation and value."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from validation.stress.errors import StressInputError, format_validation_error

__all__ = ["StrictModel"]


class StrictModel(BaseModel):
    """Immutable model that refuses unknown fields.

    Constructing it with bad values raises :class:`StressInputError` (a ``ValueError``) with
    one line per problem, e.g. ``"sigma must be >= 0, got -0.1"``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise StressInputError(
                format_validation_error(
                    exc.errors(),
                    title=type(self).__name__,
                    allowed={type(self).__name__: list(type(self).model_fields)},
                )
            ) from None

    # Tell pydantic this is the base ``__init__``: nested models are then validated directly,
    # so errors keep their full location (``scenarios.a.volatility.unit``) instead of being
    # reformatted at every level.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]
