"""The simulated market: its parameters (:class:`MarketModel`) and intraday volume curve.

Conventions (Almgren & Chriss 2000, section 2, generalised)
-----------------------------------------------------------
Time is in trading days (a day is ``session_minutes``, by default
:data:`vocabulary.SESSION_MINUTES`). A schedule over
``horizon`` days is given by ``holdings = [x_0, ..., x_N]`` (shares still to trade after each of
the ``N`` steps of length ``tau = horizon / N``); ``n_k = x_{k-1} - x_k`` is the trade of step
``k``. In step ``k`` the trade fills at ``S~_k = S_{k-1} + side * h(n_k)`` (``side`` = -1 for a
sale, +1 for a purchase) and the mid then moves to
``S_k = S_{k-1} + sigma tau^0.5 xi_k + side * tau g(n_k / tau)`` (+ drift, jumps, scenario).

Impact laws:

* ``impact="linear"`` (Almgren & Chriss 2000), parameters in price units at ``s0``:
  ``h(v) = epsilon sign(v) + eta v`` and ``g(v) = gamma v`` with ``v = n / tau``. In the
  arithmetic model they are used as is; in the geometric model they scale with ``S_{k-1}/s0``.
  A scenario's liquidity multiplier ``L_k`` divides ``eta`` and ``gamma``.
* ``impact="power"`` (Almgren, Thum, Hauptmann & Li 2005), dimensionless ``eta``, ``gamma``:
  temporary cost per share ``Sref * (eps_k + eta sigma_k |n_k / m_k|^beta)`` where ``m_k`` is the
  market volume of the step (so ``n_k / m_k`` is the step's participation rate, the discrete
  form of ``X / (V T)``), and permanent move ``Sref * gamma sigma_k (n_k / (V L_k))
  (Theta / V)^delta`` per step, ``V`` the ADV, so that a whole order of ``X`` shares moves the
  price by ``gamma sigma (X / V) (Theta / V)^delta``. ``sigma_k`` is the relative daily volatility
  of the step, ``Sref`` the pre-trade mid (geometric) or ``s0`` (arithmetic).

Dynamics: ``"arithmetic"`` (Bachelier; ``sigma`` and ``drift`` in price units per day**0.5 and
per day) or ``"geometric"`` (log-normal, exact log-Euler step; ``sigma`` and ``drift``
relative). Market volume follows a flat or U-shaped intraday curve (``u(m) = c (1 + 2 ((m -
195) / 195)^2)`` over the session's minutes ``m``, ``c`` normalising the mean to 1; open and
close trade 3x midday), times the scenario's liquidity multiplier, times mean-one log-normal
noise with standard deviation ``volume_noise``.

Implementation shortfall (currency, per path) is Perold's: ``side * (sum_k n_k S~_k +
u S_T - X S0)`` where ``u`` is the unfilled remainder, marked at the mid ``S_T`` at the end of
the schedule. Without controls and with ``x_N = 0`` it is the paper's ``X S0 - sum n_k S~_k``
for a sale.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from validation.stress._base import StrictModel
from vocabulary import SESSION_MINUTES

__all__ = ["U_SHAPE_CURVATURE", "MarketModel", "volume_curve_integral"]

#: Open/close volume is ``1 + U_SHAPE_CURVATURE`` times the midday volume.
U_SHAPE_CURVATURE = 2.0


class MarketModel(StrictModel):
    """Parameters of the simulated market (see the module docstring for the equations).

    Attributes
    ----------
    s0
        Arrival (initial) mid price, > 0.
    sigma
        Daily volatility: price units per day**0.5 (arithmetic) or relative (geometric).
    drift
        Daily drift, same units as ``sigma`` per day**0.5 (price per day or relative).
    dynamics
        ``"arithmetic"`` or ``"geometric"``.
    impact
        ``"linear"`` (Almgren & Chriss 2000) or ``"power"`` (Almgren et al. 2005).
    eta, gamma
        Temporary and permanent impact coefficients (units depend on ``impact``).
    epsilon
        Fixed cost per share (half the spread plus fees), price units at ``s0``.
    beta
        Exponent of temporary impact in participation (``impact="power"``).
    delta, theta_over_v
        Permanent impact factor ``theta_over_v ** delta`` (shares outstanding over ADV).
    adv
        Market volume per day (shares); required by ``impact="power"``, participation
        limits and POV trading. ``None`` means unknown (infinite) volume.
    volume_profile
        ``"flat"`` or ``"u_shape"`` intraday volume curve.
    volume_noise
        Standard deviation of the log-normal noise of each step's market volume.
    jump_intensity, jump_mean, jump_std
        Jumps per day (at most one per step) and their relative size (mean upwards).
    """

    s0: float = Field(gt=0, allow_inf_nan=False)
    sigma: float = Field(ge=0, allow_inf_nan=False)
    drift: float = Field(0.0, allow_inf_nan=False)
    dynamics: Literal["arithmetic", "geometric"] = "arithmetic"
    impact: Literal["linear", "power"] = "linear"
    eta: float = Field(0.0, ge=0, allow_inf_nan=False)
    gamma: float = Field(0.0, ge=0, allow_inf_nan=False)
    epsilon: float = Field(0.0, ge=0, allow_inf_nan=False)
    beta: float = Field(0.6, gt=0, le=2, allow_inf_nan=False)
    delta: float = Field(0.25, ge=0, allow_inf_nan=False)
    theta_over_v: float = Field(1.0, gt=0, allow_inf_nan=False)
    adv: float | None = Field(None, gt=0, allow_inf_nan=False)
    volume_profile: Literal["flat", "u_shape"] = "flat"
    volume_noise: float = Field(0.0, ge=0, le=2, allow_inf_nan=False)
    jump_intensity: float = Field(0.0, ge=0, allow_inf_nan=False)
    jump_mean: float = Field(0.0, gt=-1, lt=1, allow_inf_nan=False)
    jump_std: float = Field(0.0, ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _check_power_needs_volume(self) -> MarketModel:
        if self.impact == "power" and self.adv is None:
            raise ValueError("impact='power' needs adv (market volume per day)")
        return self

    @property
    def relative_sigma(self) -> float:
        """Daily volatility as a fraction of the price."""
        return self.sigma if self.dynamics == "geometric" else self.sigma / self.s0


def volume_curve_integral(
    minutes: np.ndarray, profile: str = "u_shape", session_minutes: float = float(SESSION_MINUTES)
) -> np.ndarray:
    """Cumulative relative market volume from the open to ``minutes`` of session time.

    The intraday curve has mean 1 over a session, so the integral over a whole session is
    ``session_minutes``; it repeats every session for multi-day horizons.

    Parameters
    ----------
    minutes
        Session minutes since the first open (may exceed one session).
    profile
        ``"flat"`` or ``"u_shape"``.
    session_minutes
        Length of a session.

    Returns
    -------
    numpy.ndarray
        ``int_0^minutes u(m) dm``.
    """
    minutes = np.asarray(minutes, dtype=float)
    if profile == "flat":
        return minutes.copy()
    a = U_SHAPE_CURVATURE
    half = session_minutes / 2.0
    c = 1.0 / (1.0 + a / 3.0)
    days = np.floor(minutes / session_minutes)
    x = minutes - days * session_minutes
    within = c * (x + a * half / 3.0 * (((x - half) / half) ** 3 + 1.0))
    return days * session_minutes + within
