"""What :func:`~validation.stress.engine.simulate` returns: per-path results and path traces."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from validation.stress.controls import CONTROL_NAMES

__all__ = ["PathTrace", "SimulationResult"]


@dataclass(frozen=True)
class PathTrace:
    """One simulated path with the state the controls saw and where they fired.

    Attributes
    ----------
    path
        Index of the path.
    minutes
        Minutes since the order's start at the start of each step of the schedule.
    columns
        Per-step arrays, named as :data:`validation.stress.kernels.TRACE_NAMES`: ``mid`` (true
        mid at the start of the step), ``quote`` (what the controls saw), ``remaining`` (shares
        left at the start), ``target_filled`` (schedule's cumulative target at the end),
        ``desired`` (the schedule's planned trade for the step, before any control or
        catch-up), ``trade``, ``price`` (fill
        price, NaN without a trade), ``market_volume``, ``flags`` (bit ``c`` set when control
        ``c`` of :data:`~validation.stress.controls.CONTROL_NAMES` had its condition met),
        ``tolerance`` and ``slippage`` (slippage guard; NaN when not evaluated), ``sigma_hat``
        (realised-volatility estimate), ``loss`` (mark-to-market loss at the start), ``shock`` (the
        price shock ``z_price``), ``stale_run``, ``abs_return`` (last quote change)
        and ``mid_end`` (mid after the step).
    side, quantity, s0
        The order.
    events
        Control name -> steps at which its condition was met.
    kill_step
        Step at which the kill switch flattened the order, or -1.
    cost
        Implementation shortfall of the path, completion included (currency).
    """

    path: int
    minutes: np.ndarray
    columns: dict[str, np.ndarray]
    side: float
    quantity: float
    s0: float
    events: dict[str, np.ndarray]
    kill_step: int
    cost: float

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]


@dataclass
class SimulationResult:
    """Per-path results of :func:`~validation.stress.engine.simulate`.

    Every path ends flat: what the algorithm did not fill, the backstop completed.

    Attributes
    ----------
    cost
        Implementation shortfall per path (currency; positive = cost), the sum of
        ``execution_cost`` (the algorithm's fills vs arrival, ``side * sum n (P - S0)``) and
        ``completion_cost`` (the backstop's fill of the remainder vs arrival).
    filled, overrun, completed
        Shares filled by the algorithm (``overrun`` of them after the schedule's horizon) and
        completed by the backstop at the close or when the kill switch flattened, per path.
    avg_price, mark
        Average price of the whole order, completion included, and the mid when it ended.
    interval_vwap
        VWAP of the order's interval: market volume at the mid, our fills and the completion
        (NaN when market volume is unknown).
    slippage
        Realised slippage against the interval VWAP, ``side (avg_price - vwap) / vwap``.
    impact_cost
        Market impact cost, ``side sum n (P - M_before) / sum n M_before`` over every fill,
        completion included (fraction): what the fills paid over the mid just before them.
    max_participation, max_requested_participation
        Largest rolling 5-minute (``participation_window_minutes``) participation, ours over
        market plus ours: realised, and as the schedule requested it before any control (NaN
        when market volume is unknown).
    fill_var, fill_var_ref
        Fill-weighted variance of the algorithm's fill prices and its expected value under the
        pre-trade ("historical") volatility with no impact and no spread, for the same fill
        times and sizes: ``(sigma_ref S0)^2 (sum w_k t_k - sum_jk w_j w_k min(t_j, t_k))``.
    leak_moments
        Per-path sums (count, x, y, x^2, y^2, xy) of participation ``x`` and adverse mid move
        ``y`` over live steps, for the information-leakage correlation.
    control_counts, first_fire
        Steps at which each control bound, and the first such step (-1 never), columns in
        :data:`validation.stress.controls.CONTROL_NAMES` order.
    kill_step
        Step at which the kill switch flattened the order (-1 never).
    max_loss_bps
        The order's loss budget, the kill switch's level, in bps of its notional.
    half_spread
        Half the quoted spread at arrival, as a fraction of the price.
    """

    cost: np.ndarray
    execution_cost: np.ndarray
    completion_cost: np.ndarray
    filled: np.ndarray
    completed: np.ndarray
    overrun: np.ndarray
    avg_price: np.ndarray
    mark: np.ndarray
    interval_vwap: np.ndarray
    slippage: np.ndarray
    impact_cost: np.ndarray
    max_participation: np.ndarray
    max_requested_participation: np.ndarray
    fill_var: np.ndarray
    fill_var_ref: np.ndarray
    leak_moments: np.ndarray
    control_counts: np.ndarray
    first_fire: np.ndarray
    kill_step: np.ndarray
    max_loss_bps: float
    half_spread: float
    side: float
    quantity: float
    s0: float
    n_steps: int
    tau: float
    trace: PathTrace | None = None
    raw: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_paths(self) -> int:
        """Number of simulated paths."""
        return int(self.cost.shape[0])

    @property
    def notional(self) -> float:
        """Order notional at arrival, ``X S0``."""
        return self.quantity * self.s0

    @property
    def cost_bps(self) -> np.ndarray:
        """Implementation shortfall per path in basis points of the notional."""
        return self.cost / self.notional * 1e4

    @property
    def slippage_beyond_half_spread(self) -> np.ndarray:
        """Realised slippage against the interval VWAP beyond half the arrival spread."""
        return self.slippage - self.half_spread

    @property
    def impact_beyond_half_spread(self) -> np.ndarray:
        """Market impact cost beyond half the arrival spread, per path (fraction)."""
        return self.impact_cost - self.half_spread

    @property
    def completion_share(self) -> np.ndarray:
        """Share of the order its schedule left for completion (overrun plus backstop)."""
        return (self.overrun + self.completed) / self.quantity

    @property
    def fill_std_ratio(self) -> np.ndarray:
        """Standard deviation of fill prices over its historical (no-impact) level."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(
                self.fill_var_ref > 0, np.sqrt(self.fill_var / self.fill_var_ref), np.nan
            )

    def control_rates(self) -> dict[str, float]:
        """Fraction of paths on which each control fired at least once."""
        fired = (self.control_counts > 0).mean(axis=0)
        return {name: float(v) for name, v in zip(CONTROL_NAMES, fired, strict=True)}
