"""Holdout evaluation of a candidate and its baselines, and the candidate's explanation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models import FittedModels, ModelFamily, regression_metrics

__all__ = ["holdout_metrics", "feature_contributions"]


def holdout_metrics(
    family: ModelFamily, fitted: FittedModels, holdout: pd.DataFrame
) -> dict[str, dict[str, float]]:
    """Return ``{model: metrics}`` on the out-of-time holdout; the candidate is ``candidate``."""
    features, target = family.features(holdout), family.target(holdout)
    models = {"candidate": fitted.candidate, **fitted.baselines}
    return {
        name: regression_metrics(target, np.asarray(model.predict(features)))
        for name, model in models.items()
    }


def feature_contributions(booster: object, features: pd.DataFrame) -> pd.DataFrame:
    """Per-row additive contributions of each feature (LightGBM ``pred_contrib``).

    Returns
    -------
    DataFrame
        One column per feature plus ``bias``; rows sum to the prediction.
    """
    contrib = booster.predict(features, pred_contrib=True)
    return pd.DataFrame(contrib, columns=[*features.columns, "bias"], index=features.index)
