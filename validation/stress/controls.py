"""Risk controls of the stress engine: which guards the kernel applies, and their limits.

The kernels evaluate them at every step on the quote the controls see (see "Step mechanics"
in :mod:`validation.stress.kernels`); this module only holds their switches and parameters.
"""

from __future__ import annotations

from pydantic import Field

from validation.stress._base import StrictModel

__all__ = ["CONTROL_NAMES", "Controls"]

#: Every control and risk-monitor action the kernels can take, in the order of their bits in
#: the kernels' flags (:mod:`validation.stress.kernels` numbers them ``C_KILL`` ...). Here,
#: not in the kernels' module, so that reading results and limits never imports numba.
CONTROL_NAMES = (
    "kill_switch",
    "feed_guard",
    "price_collar",
    "slippage_guard",
    "participation_cap",
    # The risk monitor's actions on the background essay's metrics (market impact's, "reduce
    # size", is the slippage guard's limit).
    "slippage_pause",
    "participation_halt",
    "dispersion_review",
    "leakage_reroute",
)


class Controls(StrictModel):
    """Risk controls applied inside the kernel, as a desk's would act; each can be switched off.

    Whatever a control leaves unfilled is completed at a cost (the engine's completion), so
    no control makes an order look cheaper by not finishing it.

    Attributes
    ----------
    kill_switch, max_loss_bps, max_loss_risk_multiple, budget_participation
        Stop the algorithm and hand the remainder to the backstop, which works it through
        the following minutes (the kernel's step 7), when its mark-to-market loss,
        ``side * (fills + remaining * last good quote - X S0)``, exceeds its maximum loss, in
        bps of the order's notional ``X S0``. In a stress run
        (:func:`~validation.stress.runner.run_scenario`) each order's maximum loss is its
        pre-trade budget (:func:`~validation.stress.runner.loss_budget_bps`): the desk's
        law's cost of the order at ``budget_participation`` plus ``max_loss_risk_multiple``
        times the timing risk of the rest of the session, never below ``max_loss_bps``; a
        loss that far outside the pre-trade picture means the market is not the one the
        order was planned for. Nothing in it comes from the model under test.
        :func:`~validation.stress.engine.simulate` uses ``max_loss_bps`` as given.
    price_collar, collar_bps, collar_risk_multiple
        Do not trade in a step where the observed quote is more than the collar away from the
        arrival price (resume when back inside). In a stress run each order's collar is
        ``collar_risk_multiple`` standard deviations of its price over the rest of the
        session, ``1e4 sigma sqrt(T_rest)``, never narrower than ``collar_bps``: a price the
        pre-trade picture gives odds of about 1 in 15,000 at 4 standard deviations is an
        extreme or erroneous one, while a fixed band would stop long orders in volatile
        names on ordinary days. **Off by default**: with the kill switch on, an adverse move
        reaches the loss budget long before the band, and a favourable one (a purchase in a
        falling market) is the one price the band would stop the order from taking; left
        out of the full stack one at a time, it changed no scenario's mean cost of the
        example book by more than 0.2 bps (``bench/stress.py``).
    participation_cap, max_participation
        Clip a step's trade so that ours / (market + ours) is at most ``max_participation``;
        20 % by default, below the 25 % action level of the 5-minute participation metric.
    slippage_guard, slippage_tolerance_bps, vol_halflife_minutes
        Send child orders as limits: the cost against the current quote beyond the order's
        arrival half spread (the spread's widening plus temporary impact) may not exceed a
        tolerance that contracts as realised volatility rises, ``tol * min(1, sigma_ref /
        sigma_hat)``, ``sigma_hat`` an EWMA (half-life ``vol_halflife_minutes``) of squared
        quote returns and ``sigma_ref`` the pre-trade volatility. A larger trade is cut to the
        size within it, or waits. 15 bps by default, the background essay's action level of
        market impact ("reduce size"), applied beyond the half spread; in a stress run each
        order's tolerance is at least the law's temporary impact at ``max_participation``
        (:func:`~validation.stress.runner.order_controls`): a fixed 15 bps would cut every
        step of a 5 %-of-ADV order in a 5 %-volatility name planned at 10 % participation
        (18 bps of impact) in a calm market, and judge the name, not the schedule.
    risk_monitor
        Watch the background essay's risk metrics while the order trades and take their
        actions at their action levels (the stress run's ``risk_levels``): pause the
        strategy (slippage), halt trading (participation), review (fill-price dispersion),
        re-route to the backstop (leakage); see the kernel's step 8.
    feed_guard, max_stale_steps, spike_bps
        Pause while the quote has not changed for ``max_stale_steps`` steps or its last
        change exceeds ``spike_bps``; resume when it is sound. Without it, child orders are
        priced off a bad quote (and picked off) and the kill switch marks at it.
    """

    kill_switch: bool = True
    max_loss_bps: float = Field(150.0, gt=0, allow_inf_nan=False)
    max_loss_risk_multiple: float = Field(3.0, ge=0, allow_inf_nan=False)
    budget_participation: float = Field(0.10, gt=0, le=1, allow_inf_nan=False)
    price_collar: bool = False
    collar_bps: float = Field(500.0, gt=0, allow_inf_nan=False)
    collar_risk_multiple: float = Field(4.0, ge=0, allow_inf_nan=False)
    participation_cap: bool = True
    max_participation: float = Field(0.20, gt=0, le=1)
    slippage_guard: bool = True
    slippage_tolerance_bps: float = Field(15.0, gt=0, allow_inf_nan=False)
    vol_halflife_minutes: float = Field(15.0, gt=0, allow_inf_nan=False)
    risk_monitor: bool = True
    feed_guard: bool = True
    max_stale_steps: int = Field(5, ge=1)
    spike_bps: float = Field(300.0, gt=0, allow_inf_nan=False)

    @classmethod
    def none(cls) -> Controls:
        """Return controls with every control switched off."""
        return cls(
            kill_switch=False,
            price_collar=False,
            participation_cap=False,
            slippage_guard=False,
            risk_monitor=False,
            feed_guard=False,
        )
