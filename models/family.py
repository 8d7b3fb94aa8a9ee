"""The interface every execution-model family implements.

A family knows how to turn a raw table into features and a target, how to split it
out of time, which candidate and baselines to fit, and the *policy* that turns the
model's predictions into an execution decision. Flows and governance only talk to
this interface, so a second family (RFQ dealer selection) plugs in without touching
them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

__all__ = ["Predictor", "ModelFamily", "Split", "FittedModels"]


class Predictor(Protocol):
    """Anything with ``predict(features) -> ndarray`` (LightGBM boosters, sklearn pipelines)."""

    def predict(self, data: Any) -> Any:  # noqa: D102
        ...


@dataclass(frozen=True)
class Split:
    """An out-of-time split: train strictly before ``boundary``, holdout from it on."""

    train: pd.DataFrame
    holdout: pd.DataFrame
    boundary: pd.Timestamp


@dataclass(frozen=True)
class FittedModels:
    """The candidate, the baselines it is compared with, and the training parameters."""

    candidate: Predictor
    baselines: dict[str, Predictor]
    params: dict[str, Any]


class ModelFamily(ABC):
    """A family of execution models: data in, predictions and decisions out."""

    #: Name of the registered model in MLflow.
    registered_name: str
    #: Name of the table (``<name>.parquet``) the family trains on.
    table: str
    #: Column with the time an observation became known, used for out-of-time splits.
    time_column: str

    @abstractmethod
    def features(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return the model's feature matrix (one row per input row)."""

    @abstractmethod
    def target(self, frame: pd.DataFrame) -> np.ndarray:
        """Return the quantity the model predicts."""

    @abstractmethod
    def fit(self, train: pd.DataFrame, seed: int) -> FittedModels:
        """Fit the candidate and the baselines on ``train``."""

    @abstractmethod
    def decide(self, model: Predictor, orders: pd.DataFrame) -> pd.DataFrame:
        """Turn predictions into an execution decision per order (the family's policy)."""
