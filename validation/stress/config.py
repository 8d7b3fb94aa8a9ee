"""Configuration of a stress run: simulation grid, impact law, volume curve and controls."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from validation.stress._base import StrictModel
from validation.stress.controls import Controls
from validation.stress.metrics import ESSAY_RISK_LEVELS
from vocabulary import SESSION_MINUTES

__all__ = ["StressConfig"]


class StressConfig(StrictModel):
    """Configuration of a stress run (frozen; unknown fields are refused).

    Attributes
    ----------
    n_paths, seed
        Simulated paths per order and scenario, and the seed of the random streams.
    step_minutes, session_minutes
        Simulation step and session length (one trading day).
    dynamics
        ``"geometric"`` (default) or ``"arithmetic"`` price paths.
    eta, beta, gamma, delta, theta_over_v
        Almgren et al. (2005) impact law; ``beta = 1`` makes temporary impact linear in
        participation. ``theta_over_v`` (shares outstanding / ADV) is used for orders without
        a ``shares_outstanding`` column.
    volume_profile, volume_noise
        Intraday market volume curve and its log-normal noise per step.
    participation_window_minutes
        Window of the maximum-participation metric (5 minutes).
    overrun_participation, completion_minutes
        Every order ends flat: what its schedule leaves at its horizon is worked on at
        ``overrun_participation`` (10 %, below the participation alert level) until the close,
        and what is still left then, or what the kill switch flattens, is completed by a
        backstop that works it over ``completion_minutes`` at the market's expected volume
        (same impact law). Both costs are part of the shortfall.
    controls
        Risk controls in force.
    risk_levels
        Alert and action level of each risk metric (the policy's; the background essay's by
        default, :data:`~validation.stress.metrics.ESSAY_RISK_LEVELS`): the report gives the
        share of order-paths above each.
    market_share
        Share of each order's price variance that comes from a market-wide factor common to
        every order of the book on the same path (0.3, the synthetic generator's
        ``MARKET_SHARE``: a typical single-stock R-squared against its index). The scenario's
        onset is common to the book whatever this is.
    simulate_to_close
        Simulate every order from its start to the close (True, the default: schedules of
        different horizons share market shocks) or only over its own horizon (faster; common
        random numbers then hold only between equal horizons).
    """

    n_paths: int = Field(10_000, ge=1)
    seed: int = Field(0, ge=0)
    step_minutes: float = Field(1.0, gt=0, allow_inf_nan=False)
    session_minutes: float = Field(float(SESSION_MINUTES), gt=0, allow_inf_nan=False)
    dynamics: Literal["arithmetic", "geometric"] = "geometric"
    eta: float = Field(0.142, ge=0, allow_inf_nan=False)
    beta: float = Field(0.6, gt=0, le=2, allow_inf_nan=False)
    gamma: float = Field(0.314, ge=0, allow_inf_nan=False)
    delta: float = Field(0.25, ge=0, allow_inf_nan=False)
    theta_over_v: float = Field(1.0, gt=0, allow_inf_nan=False)
    volume_profile: Literal["flat", "u_shape"] = "u_shape"
    volume_noise: float = Field(0.25, ge=0, le=2, allow_inf_nan=False)
    participation_window_minutes: float = Field(5.0, gt=0, allow_inf_nan=False)
    completion_minutes: float = Field(30.0, gt=0, allow_inf_nan=False)
    overrun_participation: float = Field(0.10, ge=0, lt=1, allow_inf_nan=False)
    controls: Controls = Controls()
    risk_levels: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: dict(ESSAY_RISK_LEVELS)
    )
    market_share: float = Field(0.3, ge=0, le=1, allow_inf_nan=False)
    simulate_to_close: bool = True

    @model_validator(mode="after")
    def _check_session_clock(self) -> StressConfig:
        steps = self.session_minutes / self.step_minutes
        if self.market_share > 0 and abs(steps - round(steps)) > 1e-6:
            raise ValueError(
                f"market_share > 0 needs step_minutes that divide session_minutes (one "
                f"market-wide shock per session step), got {self.step_minutes:g} and "
                f"{self.session_minutes:g}; set market_share=0 for independent markets"
            )
        return self

    @field_validator("risk_levels")
    @classmethod
    def _check_levels(
        cls, levels: dict[str, tuple[float, float]]
    ) -> dict[str, tuple[float, float]]:
        if set(levels) != set(ESSAY_RISK_LEVELS):
            raise ValueError(
                f"risk_levels must name exactly {sorted(ESSAY_RISK_LEVELS)}, got {sorted(levels)}"
            )
        bad = {k: v for k, v in levels.items() if not 0 <= v[0] <= v[1]}
        if bad:
            raise ValueError(f"risk_levels must be 0 <= alert <= action, got {bad}")
        return levels
