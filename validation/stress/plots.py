"""Plots of stress results (matplotlib, object-oriented API with the Agg canvas; no pyplot state).

Each function returns a :class:`matplotlib.figure.Figure` and, given ``path``, also writes it
as a PNG. Import this module directly (``from validation.stress.plots import ...``):
:mod:`validation.stress` does not, so that running stress tests never imports matplotlib.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from validation.stress.controls import CONTROL_NAMES
from validation.stress.report import StressReport
from validation.stress.results import PathTrace

__all__ = ["plot_shortfall_distributions", "plot_path_trace", "save_figure"]

_MARKERS = {
    "kill_switch": ("X", "tab:red"),
    "feed_guard": ("s", "tab:purple"),
    "price_collar": ("^", "tab:orange"),
    "slippage_guard": ("o", "tab:olive"),
    "participation_cap": ("|", "tab:gray"),
    "slippage_pause": ("o", "tab:brown"),
    "participation_halt": ("D", "tab:red"),
    "dispersion_review": ("*", "tab:cyan"),
    "leakage_reroute": ("P", "tab:pink"),
}


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 120) -> Path:
    """Write ``fig`` as a PNG at ``path`` (parent directories are created).

    Parameters
    ----------
    fig
        The figure.
    path
        Destination file.
    dpi
        Resolution.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fig.canvas is None or not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.savefig(out, dpi=dpi, format="png")
    return out


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def plot_shortfall_distributions(
    report: StressReport,
    *,
    models: list[str] | None = None,
    bins: int = 60,
    path: str | Path | None = None,
) -> Figure:
    """Histogram of book shortfall (bps) per scenario, models overlaid (champion vs challenger).

    The x-range is the central 99% of all models' paths; dashed lines mark each model's mean,
    dotted lines its CVaR95 (computed on all paths).

    Parameters
    ----------
    report
        Output of :func:`~validation.stress.runner.run_stress`.
    models
        Models to draw; all by default.
    bins
        Histogram bins (shared by the models of a scenario).
    path
        Optional PNG destination.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per scenario.
    """
    models = models or report.models
    scenarios = report.scenarios
    ncols = min(3, len(scenarios))
    nrows = math.ceil(len(scenarios) / ncols)
    fig = _new_figure(4.6 * ncols, 3.2 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]
    for i, scenario in enumerate(scenarios):
        ax = axes[i // ncols][i % ncols]
        data = [report[scenario, m].book_cost_bps for m in models]
        finite = np.concatenate([d[np.isfinite(d)] for d in data])
        lo, hi = np.percentile(finite, [0.5, 99.5]) if finite.size else (0.0, 1.0)
        if hi <= lo:
            hi = lo + 1.0
        edges = np.linspace(lo, hi, bins + 1)
        for j, (model, d) in enumerate(zip(models, data, strict=True)):
            color = colors[j % len(colors)]
            ax.hist(d, bins=edges, histtype="step", color=color, lw=1.4, label=model)
            met = report[scenario, model].metrics.shortfall_bps
            ax.axvline(met.mean, color=color, ls="--", lw=1)
            ax.axvline(met.cvar95, color=color, ls=":", lw=1)
        ax.set_title(scenario, fontsize=10)
        ax.set_xlabel("implementation shortfall (bps)")
        ax.set_ylabel("paths")
        ax.legend(fontsize=8)
    for i in range(len(scenarios), nrows * ncols):
        axes[i // ncols][i % ncols].set_visible(False)
    fig.suptitle(
        "Book implementation shortfall per scenario (central 99%; dashed: mean, dotted: CVaR95)",
        fontsize=11,
    )
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_path_trace(
    trace: PathTrace,
    *,
    title: str | None = None,
    path: str | Path | None = None,
) -> Figure:
    """One path: true mid, observed quote and fills; inventory vs target; where controls fired.

    Parameters
    ----------
    trace
        From :func:`~validation.stress.runner.trace_order` or ``simulate(..., trace_path=i)``.
    title
        Figure title.
    path
        Optional PNG destination.

    Returns
    -------
    matplotlib.figure.Figure
        Three stacked panels sharing the time axis (minutes since the order's start).
    """
    t = trace.minutes
    fig = _new_figure(9.0, 7.5)
    ax_p, ax_x, ax_c = fig.subplots(3, 1, sharex=True, height_ratios=[3, 2, 1.4])
    ax_p.plot(t, trace["mid"], color="black", lw=1.2, label="true mid")
    ax_p.plot(t, trace["quote"], color="tab:blue", lw=0.9, ls="--", label="quote seen by controls")
    traded = trace["trade"] > 0
    ax_p.scatter(t[traded], trace["price"][traded], s=6, color="tab:green", label="fills", zorder=3)
    ax_p.axhline(trace.s0, color="gray", lw=0.8, ls=":", label="arrival")
    for name in CONTROL_NAMES:
        steps = trace.events[name]
        if steps.size:
            marker, color = _MARKERS[name]
            ax_p.scatter(
                t[steps],
                trace["quote"][steps],
                marker=marker,
                color=color,
                s=30,
                label=name,
                zorder=4,
            )
    if trace.kill_step >= 0:
        for ax in (ax_p, ax_x, ax_c):
            ax.axvline(t[trace.kill_step], color="tab:red", lw=1.2, alpha=0.7)
    ax_p.set_ylabel("price")
    ax_p.legend(fontsize=7, ncol=3, loc="best")

    qty = trace.quantity
    ax_x.plot(t, trace["remaining"] / qty * 100, color="tab:green", lw=1.4, label="remaining")
    target_left = (qty - trace["target_filled"]) / qty * 100
    ax_x.plot(t, target_left, color="gray", ls="--", lw=1, label="schedule target (end of step)")
    ax_x.set_ylabel("inventory left (%)")
    ax_x.set_ylim(-2, 102)
    ax_x.legend(fontsize=7, loc="best")

    for row, name in enumerate(CONTROL_NAMES):
        steps = trace.events[name]
        marker, color = _MARKERS[name]
        ax_c.scatter(t[steps], np.full(steps.size, row), marker=marker, color=color, s=18)
    ax_c.set_yticks(range(len(CONTROL_NAMES)), CONTROL_NAMES, fontsize=7)
    ax_c.set_ylim(-0.7, len(CONTROL_NAMES) - 0.3)
    ax_c.set_xlabel("minutes since start")
    ax_c.set_title("control conditions met", fontsize=8)
    halt = (
        f", flattened by the kill switch at minute {t[trace.kill_step]:g}"
        if trace.kill_step >= 0
        else ""
    )
    fig.suptitle(title or f"path {trace.path}: shortfall {trace.cost:,.0f}{halt}", fontsize=11)
    if path is not None:
        save_figure(fig, path)
    return fig
