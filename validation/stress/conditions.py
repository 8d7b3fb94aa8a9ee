"""The parts a stress scenario is made of: schedules over time, price jumps, feed corruption.

Every time is in minutes since the order starts executing. A :class:`Schedule` is piecewise
linear between its knots ``[minute, value]`` and flat beyond the first and the last; each
subclass restricts the values it accepts. See :mod:`validation.stress.scenarios` for how a
scenario file combines them.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from validation.stress._base import StrictModel

__all__ = [
    "Leakage",
    "Onset",
    "Schedule",
    "VolatilitySchedule",
    "LiquiditySchedule",
    "SpreadSchedule",
    "MoveSchedule",
    "Jumps",
    "FeedCorruption",
]


class Schedule(StrictModel):
    """Piecewise-linear schedule of a value over minutes since the order's start.

    Attributes
    ----------
    knots
        ``[minute, value]`` pairs, minutes finite, >= 0 and strictly increasing.
    """

    knots: tuple[tuple[float, float], ...] = Field(min_length=1)

    @field_validator("knots")
    @classmethod
    def _check_knots(
        cls, knots: tuple[tuple[float, float], ...]
    ) -> tuple[tuple[float, float], ...]:
        minutes = [m for m, _ in knots]
        for i, (m, v) in enumerate(knots):
            if not (math.isfinite(m) and math.isfinite(v)):
                raise ValueError(f"knot {i} must be finite numbers [minute, value]")
            if m < 0:
                raise ValueError(f"knot {i} minute must be >= 0")
        for i in range(1, len(minutes)):
            if minutes[i] <= minutes[i - 1]:
                raise ValueError(
                    f"knot minutes must be strictly increasing (knot {i - 1} at "
                    f"{minutes[i - 1]:g} then knot {i} at {minutes[i]:g})"
                )
        cls._check_values([v for _, v in knots])
        return knots

    @classmethod
    def _check_values(cls, values: list[float]) -> None:
        """Check the knot values; subclasses restrict the range."""

    def at(self, minutes: np.ndarray) -> np.ndarray:
        """Evaluate the schedule at ``minutes`` (flat beyond the first and last knot).

        Parameters
        ----------
        minutes
            Minutes since the order's start.

        Returns
        -------
        numpy.ndarray
            The schedule's values, same shape as ``minutes``.
        """
        xs = np.array([m for m, _ in self.knots], dtype=float)
        ys = np.array([v for _, v in self.knots], dtype=float)
        return np.interp(np.asarray(minutes, dtype=float), xs, ys)


class VolatilitySchedule(Schedule):
    """Volatility over time, as a multiplier of the order's volatility or annualised level."""

    unit: Literal["multiplier", "annualised"] = "multiplier"

    @classmethod
    def _check_values(cls, values: list[float]) -> None:
        bad = [v for v in values if v < 0]
        if bad:
            raise ValueError(f"volatility values must be >= 0 (found {bad[0]:g})")


class LiquiditySchedule(Schedule):
    """Multiplier of market volume; values must be > 0 (0.3 = 70% of volume withdrawn)."""

    @classmethod
    def _check_values(cls, values: list[float]) -> None:
        bad = [v for v in values if v <= 0]
        if bad:
            raise ValueError(f"liquidity multipliers must be > 0 (found {bad[0]:g})")


class SpreadSchedule(Schedule):
    """Multiplier of the order's quoted spread; values must be >= 0."""

    @classmethod
    def _check_values(cls, values: list[float]) -> None:
        bad = [v for v in values if v < 0]
        if bad:
            raise ValueError(f"spread multipliers must be >= 0 (found {bad[0]:g})")


class MoveSchedule(Schedule):
    """Cumulative deterministic move of the market's mid, a fraction in (-1, 1), up > 0.

    One direction for the whole book, as in one market: a fall hurts the sales and helps the
    purchases executing through it.
    """

    @classmethod
    def _check_values(cls, values: list[float]) -> None:
        bad = [v for v in values if not -1 < v < 1]
        if bad:
            raise ValueError(f"market moves must be in (-1, 1) (found {bad[0]:g})")


class Jumps(StrictModel):
    """Price jumps: Poisson intensity per trading day, mean (of the mid, up > 0) and std."""

    intensity_per_day: float = Field(ge=0, allow_inf_nan=False)
    mean: float = Field(0.0, gt=-1, lt=1, allow_inf_nan=False)
    std: float = Field(0.0, ge=0, allow_inf_nan=False)


class Onset(StrictModel):
    """When, in session minutes, a scenario's events begin: uniformly between the two, per path.

    With an onset, the scenario's knots count minutes from it, so the same event meets
    orders that started at different times of day at different points of their execution,
    and each simulated path meets it at a different time.
    """

    earliest: float = Field(ge=0, allow_inf_nan=False)
    latest: float = Field(ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> Onset:
        if self.latest < self.earliest:
            raise ValueError(f"latest must be >= earliest, got {self.latest:g} < {self.earliest:g}")
        return self


class Leakage(StrictModel):
    """Other participants who trade ahead of an order they can see.

    Once our participation in a step, ``x = ours / (market + ours)``, exceeds ``threshold``
    (our prints stand out of the flow), they trade in our direction: the mid moves against us
    by ``strength * (x - threshold) / threshold`` times the step's diffusion scale, on top of
    the permanent impact. ``strength = 0`` is a market that does not react.
    """

    strength: float = Field(ge=0, le=20, allow_inf_nan=False)
    threshold: float = Field(0.10, gt=0, lt=1, allow_inf_nan=False)


class FeedCorruption(StrictModel):
    """Corruption of the quote feed seen by the controls (never of the true price)."""

    stale: tuple[tuple[float, float], ...] = ()
    spikes: tuple[tuple[float, float], ...] = ()
    stale_probability: float = Field(0.0, ge=0, lt=1)
    spike_probability: float = Field(0.0, ge=0, lt=1)
    spike_size: float = Field(0.05, gt=-1, allow_inf_nan=False)

    @field_validator("stale")
    @classmethod
    def _check_stale(
        cls, windows: tuple[tuple[float, float], ...]
    ) -> tuple[tuple[float, float], ...]:
        for i, (a, b) in enumerate(windows):
            if not (math.isfinite(a) and math.isfinite(b)) or a < 0 or b <= a:
                raise ValueError(f"stale window {i} must be [start, end) with 0 <= start < end")
        return windows

    @field_validator("spikes")
    @classmethod
    def _check_spikes(
        cls, spikes: tuple[tuple[float, float], ...]
    ) -> tuple[tuple[float, float], ...]:
        for i, (m, size) in enumerate(spikes):
            if not (math.isfinite(m) and math.isfinite(size)) or m < 0:
                raise ValueError(f"spike {i} must be [minute >= 0, size]")
            if size <= -1 or size == 0:
                raise ValueError(f"spike {i} size must be > -1 and non-zero")
        return spikes

    @model_validator(mode="after")
    def _check_probabilities(self) -> FeedCorruption:
        if self.stale_probability + self.spike_probability >= 1:
            raise ValueError("stale_probability + spike_probability must be < 1")
        return self
