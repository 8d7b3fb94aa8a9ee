"""Configuration of a stress run: simulation grid, impact law, volume curve and controls."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from validation.stress._base import StrictModel
from validation.stress.controls import Controls
from vocabulary import SESSION_MINUTES

__all__ = ["StressConfig"]


class StressConfig(StrictModel):
    """Configuration of a stress run (frozen; unknown fields are refused).

    Parameters
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
    controls
        Risk controls in force.
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
    controls: Controls = Controls()
    simulate_to_close: bool = True
