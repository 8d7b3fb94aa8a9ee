"""Figures logged with a candidate's run (matplotlib, no display needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

__all__ = ["feature_contribution_figure"]


def feature_contribution_figure(contributions: pd.DataFrame, features: pd.DataFrame) -> Figure:
    """Mean |contribution| per feature, and each feature's contribution against its value."""
    names = [c for c in contributions.columns if c != "bias"]
    importance = contributions[names].abs().mean().sort_values()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    axes[0].barh(importance.index, importance.to_numpy(), color="#3b6ea5")
    axes[0].set_xlabel("mean |contribution| (bps)")
    axes[0].set_title("Feature contributions (LightGBM pred_contrib)")
    for ax, name in zip(axes[1:], importance.index[::-1][:2], strict=False):
        ax.scatter(features[name], contributions[name], s=3, alpha=0.3, color="#3b6ea5")
        ax.set_xscale("log" if np.all(features[name] > 0) else "linear")
        ax.set_xlabel(name)
        ax.set_ylabel("contribution (bps)")
        ax.set_title(f"Contribution of {name}")
    fig.tight_layout()
    return fig
