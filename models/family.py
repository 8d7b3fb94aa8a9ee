"""The interface every execution-model family implements.

A family knows how to turn a raw table into features and a target, how to split it
out of time, which candidate and baselines to fit, the *policy* that turns the
model's predictions into an execution decision, and the *stress book*: which orders of
the holdout the stress engine executes, and the schedule the policy gives each. Flows,
validation and governance only talk to this interface, so a second family (RFQ dealer
selection) plugs in without touching them. :meth:`ModelFamily.compile` turns a fitted model
into the :class:`CompiledPolicy` an execution engine asks for one decision at a time.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

__all__ = ["CompiledPolicy", "Predictor", "ModelFamily", "Split", "FittedModels"]


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


class CompiledPolicy(ABC):
    """A model's policy compiled for one order at a time, in process: what an engine calls.

    Loaded once, then asked per order; it decides exactly as :meth:`ModelFamily.decide`
    does with the model it was compiled from.
    """

    #: Names of :meth:`decide_one`'s arguments, in order (the last may be optional).
    argument_names: tuple[str, ...]
    #: Names of the values :meth:`decide_one` returns, in order.
    decision_names: tuple[str, ...]

    @abstractmethod
    def decide_one(self, *order: float) -> tuple[float, ...]:
        """The decision for one order, given as the family's scalar fields."""

    @abstractmethod
    def arguments(self, orders: pd.DataFrame) -> list[tuple[float, ...]]:
        """The :meth:`decide_one` arguments of each row of ``orders`` (the family's table).

        Lets code that does not know the family's columns (the latency gate) ask for
        decisions on rows of the family's data.
        """


class ModelFamily(ABC):
    """A family of execution models: data in, predictions and decisions out."""

    #: Name of the registered model in MLflow.
    registered_name: str
    #: Weight of a cost's standard deviation in the policy's objective (0: risk-neutral);
    #: decisions are judged by the same objective (:mod:`validation.decisions`).
    risk_aversion: float
    #: Module with MLflow's ``_load_pyfunc(data_path)`` for a :meth:`save_model` directory:
    #: the registry logs candidates as ``python_function`` models loaded by it.
    pyfunc_loader_module: str
    #: Name of the table (``<name>.parquet``) the family trains on.
    table: str
    #: Column with the time an observation became known, used for out-of-time splits.
    time_column: str
    #: Column of :attr:`table` holding what the model predicts (realised, post-trade).
    target_column: str
    #: Tables a snapshot must hold for the family to train and be judged.
    required_tables: tuple[str, ...]
    #: Columns of :attr:`table` the family holds to be known before the order starts.
    #: The data contracts check this claim against the table contract's own ``pre_trade``
    #: declaration (the authority), so a family cannot promote a post-trade column.
    pre_trade_columns: tuple[str, ...]
    #: For each column :meth:`features` returns, the columns of :attr:`table` it is
    #: computed from; every one must be in :attr:`pre_trade_columns`. The data contracts
    #: also compute the features from these columns alone, so an undeclared read fails.
    feature_inputs: Mapping[str, tuple[str, ...]]

    def training_frame(self, tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
        """The rows the family trains and is judged on, built from a snapshot's tables.

        By default :attr:`table` as it is; a family whose target needs another table (a
        benchmark read off the market bars) adds the columns here.

        Raises
        ------
        ValueError
            If the tables cannot give every row what it needs; the message names the
            table, the column and the check.
        """
        return tables[self.table]

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

    @abstractmethod
    def compile(self, model: Predictor) -> CompiledPolicy:
        """Compile ``model``'s policy for single-order decisions (the production path).

        Raises
        ------
        TypeError
            If the family cannot compile this kind of model.
        """

    @abstractmethod
    def save_model(self, model: Predictor, directory: Path) -> None:
        """Write a fitted candidate into ``directory`` in the family's own format.

        The registry stores the directory as it is; :meth:`load_model` reads it back.

        Raises
        ------
        TypeError
            If ``model`` is not a candidate of this family.
        """

    @abstractmethod
    def load_model(self, directory: Path) -> Predictor:
        """Read a candidate :meth:`save_model` wrote.

        Raises
        ------
        ValueError
            If ``directory`` does not hold one.
        """

    @abstractmethod
    def stress_book(self, holdout: pd.DataFrame) -> pd.DataFrame:
        """Pick the orders of ``holdout`` that the stress engine will execute.

        Parameters
        ----------
        holdout : DataFrame
            The family's table (:attr:`table`), the part held out of training.

        Returns
        -------
        DataFrame
            One row per stress order with a unique ``order_id`` and whatever columns
            :meth:`schedule_book` needs; only the family reads them.
        """

    @abstractmethod
    def schedule_book(self, model: Predictor, book: pd.DataFrame) -> pd.DataFrame:
        """Let ``model``'s policy schedule each order of ``book``; return the engine's orders.

        Every model scheduling the same ``book`` must keep its ``order_id`` and
        ``start_minute``: the stress engine keys each order's random market paths on them,
        so two models are compared on the same paths (common random numbers).

        Parameters
        ----------
        model : Predictor
            The model whose policy chooses the schedules.
        book : DataFrame
            Output of :meth:`stress_book`.

        Returns
        -------
        DataFrame
            The orders table of :func:`validation.stress.run_stress`, one row per order:

            ``order_id`` (str), ``side`` (``"buy"``/``"sell"``), ``quantity`` (shares),
            ``arrival_price`` (mid at arrival), ``adv`` (shares per day), ``daily_vol``
            (fraction), ``spread_bps``, ``horizon_minutes`` and ``predicted_cost_bps`` (the
            policy's choice and its predicted cost), and optionally ``start_minute``
            (session minute, default 0), ``style`` (``"twap"``, ``"vwap"`` or ``"pov"``),
            ``participation``, ``urgency`` and ``shares_outstanding``.
        """
