"""Holdout evaluation of a candidate and its baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models import FittedModels, ModelFamily
from validation.comparison import loss_metrics

__all__ = ["holdout_metrics"]


def holdout_metrics(
    family: ModelFamily, fitted: FittedModels, holdout: pd.DataFrame
) -> dict[str, dict[str, float]]:
    """Return ``{model: metrics}`` on the out-of-time holdout; the candidate is ``candidate``.

    The metrics are those of :func:`validation.comparison.loss_metrics` (MSE, the judged
    loss, first).
    """
    features, target = family.features(holdout), family.target(holdout)
    models = {"candidate": fitted.candidate, **fitted.baselines}
    return {
        name: loss_metrics(target, np.asarray(model.predict(features)))
        for name, model in models.items()
    }
