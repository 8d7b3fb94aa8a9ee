"""The cost law the synthetic executions are drawn from, as pure functions.

The generator and the tests share these so that "the model recovers the ground
truth" is checked against the very equations the data was made with.

Almgren, Thum, Hauptmann & Li (2005), "Direct estimation of equity market impact":

* temporary impact (fraction of price) ``J = eta * sigma * |X / v| ** beta``
* permanent impact (fraction of price) ``I = gamma * sigma * (X / V) * (Theta / V) ** delta``
* realised cost of a parent order ``I / 2 + J`` plus half the quoted spread and
  arrival-price timing noise.

``X`` is the order size in shares (``qty``), ``V`` the average daily volume (``adv``),
``sigma`` the order's *true* same-day volatility (``true_daily_vol``; ``daily_vol`` is only
the pre-trade estimate a desk has before the order) and ``Theta`` the shares outstanding
(``shares_outstanding``, so ``Theta / V = shares_outstanding / adv``).

``v`` is the market volume of the order's window. The paper writes it ``V * T``; here the
market trades more at the open and the close (an intraday curve, :func:`window_volume_share`)
and on volatile days (the day's volume is ``V`` times the volatility multiplier to the power
:data:`VOLUME_VOL_ELASTICITY`, ground truth ``true_day_volume``), so the same order costs
less over a busy window than over a quiet one. The law below is evaluated at the window's
*expected* volume, which is what an order's observables and its day's regime determine; a
realised order pays at the volume its window actually traded (see
:mod:`synthetic.executions`).

:func:`order_expected_cost_bps` evaluates the law on an executions table (at its own
horizons or at another one, for counterfactual decisions). Each order's timing component
can be read off the market bars alone, as a desk reads it
(:func:`models.impact.market_move.market_move_bps`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vocabulary import SESSION_MINUTES

__all__ = [
    "ETA",
    "SESSION_OPEN_UTC",
    "VOLUME_CURVE_DEPTH",
    "VOLUME_VOL_ELASTICITY",
    "cumulative_volume_share",
    "window_volume_share",
    "BETA",
    "GAMMA",
    "DELTA",
    "temporary_impact",
    "permanent_impact",
    "expected_cost_bps",
    "order_expected_cost_bps",
    "order_window_participation",
]

ETA = 0.142
BETA = 0.6
GAMMA = 0.314
DELTA = 0.25

#: Opening time (UTC) of every session of the generated market.
SESSION_OPEN_UTC = pd.Timedelta(hours=14, minutes=30)
#: The intraday volume density is ``1 + VOLUME_CURVE_DEPTH * (x - 1/2)**2`` at the fraction
#: ``x`` of the session: three times the midday rate at the open and the close, the curve
#: the stress engine's ``u_shape`` profile uses.
VOLUME_CURVE_DEPTH = 8.0
#: Elasticity of the day's volume to its volatility multiplier: a volatile day (volatility
#: x2) trades about 1.4 times an average day, as volume and volatility rise together.
VOLUME_VOL_ELASTICITY = 0.5


def cumulative_volume_share(sessions: np.ndarray) -> np.ndarray:
    """Expected share of a session's volume traded from an open to ``sessions`` later.

    ``sessions`` counts sessions (1.5 is the middle of the next session); the curve repeats
    every session, so ``cumulative_volume_share(1.0) == 1``.
    """
    sessions = np.asarray(sessions, dtype=float)
    whole = np.floor(sessions)
    x = sessions - whole
    within = x + VOLUME_CURVE_DEPTH / 3.0 * ((x - 0.5) ** 3 + 0.125)
    return whole + within / (1.0 + VOLUME_CURVE_DEPTH / 12.0)


def window_volume_share(start_sessions: np.ndarray, horizon_sessions: np.ndarray) -> np.ndarray:
    """Expected share of a session's volume traded in each window (start and length in sessions)."""
    start = np.asarray(start_sessions, dtype=float)
    return cumulative_volume_share(start + horizon_sessions) - cumulative_volume_share(start)


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
    window_participation: np.ndarray,
    size_over_adv: np.ndarray,
    turnover_inverse: np.ndarray,
    spread_bps: np.ndarray,
    impact_multiplier: float | np.ndarray = 1.0,
) -> np.ndarray:
    """Expected implementation shortfall in basis points (no timing noise, no jumps).

    Parameters
    ----------
    sigma : ndarray
        The true same-day daily volatility as a fraction (0.02 is 2 %).
    window_participation : ndarray
        ``X / v``, the order's share of the market volume of its window.
    size_over_adv : ndarray
        ``X / V``, the order's size in days of average volume.
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
    impact = permanent_impact(sigma, size_over_adv, turnover_inverse) / 2.0
    impact = impact + temporary_impact(sigma, window_participation)
    return 1e4 * impact * impact_multiplier + spread_bps / 2.0


def _start_sessions(start_ts: pd.Series) -> np.ndarray:
    """Each order's start as a fraction of its session (0 at the open)."""
    since_open = start_ts - start_ts.dt.normalize() - SESSION_OPEN_UTC
    return since_open.dt.total_seconds().to_numpy() / (60.0 * SESSION_MINUTES)


def order_window_participation(
    executions: pd.DataFrame, horizon_minutes: float | np.ndarray | None = None
) -> np.ndarray:
    """``X / v`` of each order: its size over its window's expected market volume.

    Parameters
    ----------
    executions : DataFrame
        Needs ``start_ts, qty, true_day_volume``, and ``end_ts`` unless
        ``horizon_minutes`` is given.
    horizon_minutes : float or ndarray, optional
        A window of this length from the order's own start; by default its own window.
    """
    if horizon_minutes is None:
        seconds = (executions["end_ts"] - executions["start_ts"]).dt.total_seconds()
        horizon_minutes = seconds.to_numpy() / 60.0
    horizon = np.asarray(horizon_minutes, dtype=float) / SESSION_MINUTES
    share = window_volume_share(_start_sessions(executions["start_ts"]), horizon)
    window_volume = executions["true_day_volume"].to_numpy(dtype=float) * share
    return executions["qty"].to_numpy(dtype=float) / window_volume


def order_expected_cost_bps(
    executions: pd.DataFrame,
    horizon_minutes: float | np.ndarray | None = None,
    impact_multiplier: float | np.ndarray = 1.0,
) -> np.ndarray:
    """The law's expected shortfall (bps) of each order of a generated executions table.

    Parameters
    ----------
    executions : DataFrame
        Needs ``start_ts, qty, adv, shares_outstanding, spread_bps, true_daily_vol,
        true_day_volume``, and ``end_ts`` unless ``horizon_minutes`` is given.
    horizon_minutes : float or ndarray, optional
        Evaluate each order as if traded over this horizon from its own start (same
        quantity, so the window's volume changes); by default its own horizon.
    impact_multiplier : float or ndarray
        The regime-shift multiplier of the order's day (1 without a shift).

    Returns
    -------
    ndarray
        :func:`expected_cost_bps` at the true volatility and the window's expected volume.
    """
    adv = executions["adv"].to_numpy(dtype=float)
    return expected_cost_bps(
        executions["true_daily_vol"].to_numpy(dtype=float),
        order_window_participation(executions, horizon_minutes),
        executions["qty"].to_numpy(dtype=float) / adv,
        executions["shares_outstanding"].to_numpy(dtype=float) / adv,
        executions["spread_bps"].to_numpy(dtype=float),
        impact_multiplier,
    )
