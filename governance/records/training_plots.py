"""Figures logged with a candidate's run (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from validation.comparison import ComparisonReport  # noqa: E402
from validation.stress import ScenarioLibrary, StressReport, trace_order  # noqa: E402
from validation.stress.plots import plot_path_trace, plot_shortfall_distributions  # noqa: E402

__all__ = ["feature_contribution_figure", "residual_figure", "stress_figures"]


def feature_contribution_figure(
    contributions: pd.DataFrame, features: pd.DataFrame, drivers: Mapping[str, str]
) -> Figure:
    """Mean |contribution| per part of the prediction, and the two largest against a feature.

    ``drivers`` names, for each column of ``contributions`` but ``bias``, the column of
    ``features`` it is drawn against.
    """
    names = [c for c in contributions.columns if c != "bias"]
    importance = contributions[names].abs().mean().sort_values()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    axes[0].barh(importance.index, importance.to_numpy(), color="#3b6ea5")
    axes[0].set_xlabel("mean |contribution| (bps)")
    axes[0].set_title("Parts of the predicted cost")
    for ax, name in zip(axes[1:], importance.index[::-1][:2], strict=False):
        x = features[drivers[name]]
        ax.scatter(x, contributions[name], s=3, alpha=0.3, color="#3b6ea5")
        ax.set_xscale("log" if np.all(x > 0) else "linear")
        ax.set_xlabel(drivers[name])
        ax.set_ylabel("contribution (bps)")
        ax.set_title(name)
    fig.tight_layout()
    return fig


def residual_figure(comparison: ComparisonReport) -> Figure:
    """Residual distributions and predicted-vs-realised cost, candidate against references.

    The champion is drawn when there is one, else every baseline; the title carries each
    comparison's verdict, squared-error difference, its 95 % interval and the margin.
    """
    actual = comparison.actual
    names = ["candidate"] + (
        ["champion"] if "champion" in comparison.predictions else list(comparison.comparisons)
    )
    colours = dict(zip(names, ("#3b6ea5", "#c0504d", "#9bbb59", "#8064a2"), strict=False))
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    residuals = {name: actual - comparison.predictions[name] for name in names}
    bins = np.linspace(*np.percentile(residuals["candidate"], [1, 99]), 80)
    for name, residual in residuals.items():
        axes[0].hist(
            residual,
            bins=bins,
            histtype="step",
            lw=1.6,
            color=colours[name],
            label=f"{name} (MSE {np.mean(residual**2):.0f}, MAE {np.abs(residual).mean():.1f})",
        )
    axes[0].set_xlabel("realised - predicted cost (bps)")
    axes[0].set_ylabel("orders")
    axes[0].set_title("Residuals on the out-of-time holdout")
    axes[0].legend()
    edges = np.unique(np.percentile(comparison.predictions["candidate"], np.linspace(0, 100, 21)))
    for name in names:
        pred = comparison.predictions[name]
        bucket = np.clip(np.digitize(pred, edges) - 1, 0, len(edges) - 2)
        frame = pd.DataFrame({"bucket": bucket, "pred": pred, "actual": actual})
        means = frame.groupby("bucket")[["pred", "actual"]].mean()
        axes[1].plot(means["pred"], means["actual"], "o-", color=colours[name], label=name)
    lims = axes[1].get_xlim()
    axes[1].plot(lims, lims, ":", color="grey", label="perfect calibration")
    axes[1].set_xlabel("predicted cost (bps), bucket mean")
    axes[1].set_ylabel("realised cost (bps), bucket mean")
    axes[1].set_title("Predicted vs realised cost")
    axes[1].legend()
    fig.suptitle(
        "\n".join(
            f"vs {name}: {c.verdict}, MSE difference {c.loss_difference:+.1f} bps² "
            f"[{c.ci_low:+.1f}, {c.ci_high:+.1f}], margin {c.margin:.1f} bps²"
            for name, c in comparison.comparisons.items()
        ),
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def stress_figures(
    report: StressReport, candidate_book: pd.DataFrame, library: ScenarioLibrary
) -> dict[str, Figure]:
    """Shortfall distributions per scenario, and one path of the largest order in vol_spike.

    ``library`` is the scenario library the report was run from (loaded once per run).

    Returns
    -------
    dict
        Artifact path -> figure.
    """
    figures = {"plots/stress_shortfall_distributions.png": plot_shortfall_distributions(report)}
    if "vol_spike" in report.results:
        largest = candidate_book.loc[candidate_book["quantity"].idxmax(), "order_id"]
        trace = trace_order(
            candidate_book, "vol_spike", report.config, order_id=largest, library=library
        )
        figures["plots/stress_vol_spike_path.png"] = plot_path_trace(
            trace, title=f"vol_spike: candidate's schedule for {largest}, path 0"
        )
    return figures
