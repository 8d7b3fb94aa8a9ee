"""The cost law the synthetic executions are drawn from, as pure functions.

The generator and the tests share these so that "the model recovers the ground
truth" is checked against the very equations the data was made with.

Almgren, Thum, Hauptmann & Li (2005), "Direct estimation of equity market impact":

* temporary impact (fraction of price) ``J = eta * sigma * |X / (V * T)| ** beta``
* permanent impact (fraction of price) ``I = gamma * sigma * (X / V) * (Theta / V) ** delta``
* realised cost of a parent order ``I / 2 + J`` plus half the quoted spread and
  arrival-price timing noise.

``X`` is the order size in shares (``qty``), ``V`` the average daily volume (``adv``),
``T`` the execution horizon in trading days (``end_ts - start_ts``), ``sigma`` the
order's *true* same-day volatility (``true_daily_vol``; ``daily_vol`` is only the
pre-trade estimate a desk has before the order) and ``Theta`` the shares outstanding
(``shares_outstanding``, so ``Theta / V = shares_outstanding / adv``).

:func:`order_expected_cost_bps` evaluates the law on an executions table (at its own
horizons or at another one, for counterfactual decisions). Each order's timing component
can be read off the market bars alone, as a desk reads it
(:func:`models.impact.market.market_move_bps`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vocabulary import SESSION_MINUTES

__all__ = [
    "ETA",
    "BETA",
    "GAMMA",
    "DELTA",
    "temporary_impact",
    "permanent_impact",
    "expected_cost_bps",
    "order_expected_cost_bps",
]

ETA = 0.142
BETA = 0.6
GAMMA = 0.314
DELTA = 0.25


def temporary_impact(
    sigma: np.ndarray, participation: np.ndarray, eta: float = ETA, beta: float = BETA
) -> np.ndarray:
    """Temporary impact ``eta * sigma * participation ** beta`` as a fraction of price."""
    return eta * sigma * np.abs(participation) ** beta


def permanent_impact(
    sigma: np.ndarray,
    size_over_adv: np.ndarray,
    turnover_inverse: np.ndarray,
    gamma: float = GAMMA,
    delta: float = DELTA,
) -> np.ndarray:
    """Permanent impact ``gamma * sigma * (X/V) * (Theta/V) ** delta`` as a fraction of price."""
    return gamma * sigma * size_over_adv * turnover_inverse**delta


def expected_cost_bps(
    sigma: np.ndarray,
    participation: np.ndarray,
    horizon_days: np.ndarray,
    turnover_inverse: np.ndarray,
    spread_bps: np.ndarray,
    impact_multiplier: float | np.ndarray = 1.0,
) -> np.ndarray:
    """Expected implementation shortfall in basis points (no timing noise, no jumps).

    Parameters
    ----------
    sigma : ndarray
        The true same-day daily volatility as a fraction (0.02 is 2 %).
    participation : ndarray
        ``X / (V * T)``, the order's share of market volume over its horizon.
    horizon_days : ndarray
        Execution horizon ``T`` in trading days.
    turnover_inverse : ndarray
        ``Theta / V``, shares outstanding over average daily volume.
    spread_bps : ndarray
        Quoted bid-ask spread in basis points; half of it is paid.
    impact_multiplier : float or ndarray
        Scales both impact terms (the regime-shift knob of the generator).

    Returns
    -------
    ndarray
        ``1e4 * (I / 2 + J) * impact_multiplier + spread_bps / 2``.
    """
    size_over_adv = participation * horizon_days
    impact = permanent_impact(sigma, size_over_adv, turnover_inverse) / 2.0
    impact = impact + temporary_impact(sigma, participation)
    return 1e4 * impact * impact_multiplier + spread_bps / 2.0


def order_expected_cost_bps(
    executions: pd.DataFrame,
    horizon_minutes: float | np.ndarray | None = None,
    impact_multiplier: float | np.ndarray = 1.0,
) -> np.ndarray:
    """The law's expected shortfall (bps) of each order of a generated executions table.

    Parameters
    ----------
    executions : DataFrame
        Needs ``qty, adv, shares_outstanding, spread_bps, true_daily_vol``, and
        ``start_ts, end_ts`` unless ``horizon_minutes`` is given.
    horizon_minutes : float or ndarray, optional
        Evaluate each order as if traded over this horizon (same quantity, so the
        participation is ``qty / (adv * T)``); by default its own horizon.
    impact_multiplier : float or ndarray
        The regime-shift multiplier of the order's day (1 without a shift).

    Returns
    -------
    ndarray
        :func:`expected_cost_bps` at the true volatility.
    """
    if horizon_minutes is None:
        seconds = (executions["end_ts"] - executions["start_ts"]).dt.total_seconds()
        horizon_minutes = seconds.to_numpy() / 60.0
    horizon_days = np.asarray(horizon_minutes, dtype=float) / SESSION_MINUTES
    qty = executions["qty"].to_numpy(dtype=float)
    adv = executions["adv"].to_numpy(dtype=float)
    return expected_cost_bps(
        executions["true_daily_vol"].to_numpy(dtype=float),
        qty / (adv * horizon_days),
        horizon_days,
        executions["shares_outstanding"].to_numpy(dtype=float) / adv,
        executions["spread_bps"].to_numpy(dtype=float),
        impact_multiplier,
    )
