"""The worked example of Almgren & Chriss (2000), section 2: parameters, closed forms, schedules.

Shared by the tests of the engine (its Monte Carlo must match the closed forms) and of its
random streams (two schedules of the same order must see the same shocks).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["AC", "AC_LAMBDA", "AC_N", "AC_T", "AC_X", "ac_closed_form", "ac_trajectories"]

AC_X, AC_T, AC_N = 1e6, 5.0, 5
AC = {"s0": 50.0, "sigma": 0.95, "eta": 2.5e-6, "gamma": 2.5e-7, "epsilon": 0.0625}
AC_LAMBDA = 1e-6


def ac_closed_form(x: np.ndarray) -> tuple[float, float]:
    """E and V of the paper's section 2 for a sale along holdings ``x``."""
    tau = AC_T / AC_N
    n = -np.diff(x)
    eta_tilde = AC["eta"] - 0.5 * AC["gamma"] * tau
    mean = (
        0.5 * AC["gamma"] * AC_X**2
        + AC["epsilon"] * np.abs(n).sum()
        + eta_tilde / tau * (n**2).sum()
    )
    var = AC["sigma"] ** 2 * tau * (x[1:] ** 2).sum()
    return float(mean), float(var)


def ac_trajectories() -> dict[str, np.ndarray]:
    tau = AC_T / AC_N
    eta_tilde = AC["eta"] - 0.5 * AC["gamma"] * tau
    kappa_tilde2 = AC_LAMBDA * AC["sigma"] ** 2 / eta_tilde
    kappa = math.acosh(1.0 + 0.5 * kappa_tilde2 * tau**2) / tau
    t = np.arange(AC_N + 1) * tau
    return {
        "linear": np.linspace(AC_X, 0.0, AC_N + 1),
        "sinh": np.sinh(kappa * (AC_T - t)) / math.sinh(kappa * AC_T) * AC_X,
    }
