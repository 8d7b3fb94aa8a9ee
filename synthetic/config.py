"""Typed configuration of the synthetic data generator."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vocabulary import SESSION_MINUTES

__all__ = ["CorruptionKind", "SynthConfig", "CORRUPTION_KINDS"]

CorruptionKind = Literal[
    "null_qty",
    "duplicate_order_id",
    "end_before_start",
    "negative_spread",
    "participation_out_of_range",
    "fill_price_wrong_side",
    "shortfall_as_fraction",
    "shares_in_millions",
    "bad_side",
    "missing_column",
    "crossed_book",
    "ohlc_inconsistent",
    "bars_out_of_order",
    "stale_feed",
    "price_spike",
    "negative_volume",
]
CORRUPTION_KINDS: tuple[str, ...] = CorruptionKind.__args__  # type: ignore[attr-defined]


class SynthConfig(BaseModel):
    """Knobs of :func:`synthetic.generate`.

    Attributes
    ----------
    seed : int
        Seed of the single ``numpy.random.SeedSequence`` everything is drawn from.
    days : int
        Trading days (business days from ``start_date``).
    orders : int
        Number of parent orders in ``executions``.
    assets : int
        Size of the asset universe.
    bar_minutes : int
        Bar length of ``market_bars``; must divide the 390-minute session.
    volatile_probability : float
        Stationary probability that a day is in the volatile regime.
    volatile_multiplier : float
        Volatility multiplier of the volatile regime.
    jump_probability : float
        Probability that a parent order suffers a price jump during execution.
    exploration_share : float
        Share of orders whose horizon is drawn log-uniformly from 5 minutes to the whole
        session regardless of their urgency (the desk's randomised schedules); the other
        orders are traded faster the more urgent they are (see
        :mod:`synthetic.executions`). It keeps every horizon observed at every urgency, so
        the effect of the horizon on cost stays estimable; 0 leaves the horizon to urgency
        and discretion only.
    shift_after_day : int or None
        Regime shift for drift tests: from this day index on, impact is scaled by
        ``shift_impact_multiplier`` and the true volatility by ``shift_vol_multiplier``
        (``daily_vol``, a trailing estimate, sees the shift from the next day on).
    corruption : list of str
        Data defects to inject (see :data:`CORRUPTION_KINDS`), for contract tests.
    corruption_rows : int
        How many rows each defect touches.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = Field(default=42, ge=0)
    days: int = Field(default=60, ge=2, le=2_000)
    orders: int = Field(default=200_000, ge=100)
    assets: int = Field(default=20, ge=1, le=2_000)
    bar_minutes: int = Field(default=5, ge=1, le=SESSION_MINUTES)
    start_date: str = "2026-01-05"
    volatile_probability: float = Field(default=0.25, ge=0.0, le=1.0)
    volatile_multiplier: float = Field(default=2.0, ge=1.0)
    jump_probability: float = Field(default=0.02, ge=0.0, le=1.0)
    exploration_share: float = Field(default=0.1, ge=0.0, le=1.0)
    shift_after_day: int | None = Field(default=None, ge=0)
    shift_impact_multiplier: float = Field(default=1.6, gt=0.0)
    shift_vol_multiplier: float = Field(default=1.5, gt=0.0)
    corruption: tuple[CorruptionKind, ...] = ()
    corruption_rows: int = Field(default=5, ge=1)

    @model_validator(mode="after")
    def _bars_divide_session(self) -> SynthConfig:
        if SESSION_MINUTES % self.bar_minutes:
            raise ValueError(f"bar_minutes must divide {SESSION_MINUTES}, got {self.bar_minutes}")
        return self
