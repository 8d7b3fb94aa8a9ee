"""The impact candidate: the fitted cost law plus a LightGBM booster on its residual.

The law (:mod:`models.impact.law`) carries how cost depends on the horizon; the booster
corrects the level of each order's cost from what the law leaves out (its features are
:data:`RESIDUAL_FEATURES`, none of which depends on the horizon). So the policy's choice
of horizon follows the structural law, which is what can be identified from orders that
were each traded at one horizon, and the booster cannot make a longer horizon look dearer
where the law says it is cheaper. The booster is monotone non-decreasing in size, volatility
and spread, like the law, and the prediction is floored at zero: an expected cost is not
negative.

On disk (what the registry stores): ``law.json`` (the law's parameters) and
``booster.txt`` (LightGBM's native text format), both readable without this package. The
registry logs the directory as an MLflow ``python_function`` model whose loader module is
this one (:func:`_load_pyfunc`), so ``mlflow.pyfunc.load_model`` predicts what
:meth:`LawResidualModel.predict` predicts, without unpickling anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd

from models.impact.law import ImpactLaw

if TYPE_CHECKING:
    import lightgbm as lgb

__all__ = [
    "LAW_INPUTS",
    "MONOTONE_RESIDUAL",
    "RESIDUAL_FEATURES",
    "LawResidualModel",
    "law_cost_bps",
]

#: Features the law reads, in the order of :meth:`ImpactLaw.cost_bps`.
LAW_INPUTS = ("participation", "size_over_adv", "daily_vol", "spread_bps", "turnover_inverse")

#: Features of the residual booster: the order's own, none varies with the horizon.
RESIDUAL_FEATURES = ("size_over_adv", "daily_vol", "spread_bps", "log_adv", "turnover_inverse")
#: Directions the booster may move cost in as each feature rises (LightGBM's constraints).
MONOTONE_RESIDUAL: Mapping[str, int] = {"size_over_adv": 1, "daily_vol": 1, "spread_bps": 1}
_LAW_FILE, _BOOSTER_FILE = "law.json", "booster.txt"


def law_cost_bps(law: ImpactLaw, features: pd.DataFrame) -> np.ndarray:
    """``law``'s expected cost (bps) of each row of :func:`models.impact.impact_features`."""
    return law.cost_bps(*_law_inputs(features))


def _law_inputs(features: pd.DataFrame) -> list[np.ndarray]:
    return [features[name].to_numpy(dtype=float) for name in LAW_INPUTS]


@dataclass(frozen=True)
class LawResidualModel:
    """Expected cost (bps) = max(law + booster correction, 0) for a frame of impact features."""

    law: ImpactLaw
    booster: lgb.Booster

    #: For each column of :meth:`contributions`, the feature it is plotted against.
    contribution_drivers: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "law: spread": "spread_bps",
            "law: temporary impact": "participation",
            "law: permanent impact": "size_over_adv",
            **{f"correction: {f}": f for f in RESIDUAL_FEATURES},
        }
    )

    def correction(self, features: pd.DataFrame) -> np.ndarray:
        """The booster's part of the prediction, per row."""
        return np.asarray(self.booster.predict(features[list(RESIDUAL_FEATURES)]), dtype=float)

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Expected cost (bps) of each row of :func:`models.impact.impact_features`."""
        return np.maximum(law_cost_bps(self.law, features) + self.correction(features), 0.0)

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Additive parts of each prediction (before the floor at zero), in bps.

        Returns
        -------
        DataFrame
            ``law: spread``, ``law: temporary impact``, ``law: permanent impact``, one
            ``correction: <feature>`` column per residual feature (LightGBM's
            ``pred_contrib``) and ``bias`` (the law's intercept plus the booster's);
            each row sums to the unfloored prediction.
        """
        law = self.law
        spread, temporary, permanent = law.terms(*_law_inputs(features))
        booster = self.booster.predict(features[list(RESIDUAL_FEATURES)], pred_contrib=True)
        return pd.DataFrame(
            {
                "law: spread": law.spread_coef * spread,
                "law: temporary impact": law.temporary_coef * temporary,
                "law: permanent impact": law.permanent_coef * permanent,
                **{f"correction: {f}": booster[:, i] for i, f in enumerate(RESIDUAL_FEATURES)},
                "bias": law.intercept + booster[:, -1],
            },
            index=features.index,
        )

    def save(self, directory: Path) -> None:
        """Write ``law.json`` and ``booster.txt`` into ``directory`` (created if needed)."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / _LAW_FILE).write_text(json.dumps(self.law.as_dict(), indent=2) + "\n")
        self.booster.save_model(str(directory / _BOOSTER_FILE))

    @classmethod
    def load(cls, directory: Path) -> LawResidualModel:
        """Read a model :meth:`save` wrote.

        Raises
        ------
        ValueError
            If a file is missing or the law's parameters are not the expected ones.
        """
        law_file, booster_file = directory / _LAW_FILE, directory / _BOOSTER_FILE
        for path in (law_file, booster_file):
            if not path.is_file():
                raise ValueError(f"an impact model directory holds {path.name}; not in {directory}")
        parameters = json.loads(law_file.read_text())
        expected = set(ImpactLaw.__dataclass_fields__)
        if set(parameters) != expected:
            raise ValueError(
                f"{law_file}: expected the parameters {sorted(expected)}, found "
                f"{sorted(parameters)}"
            )
        import lightgbm as lgb

        return cls(ImpactLaw(**parameters), lgb.Booster(model_file=str(booster_file)))


def _load_pyfunc(data_path: str) -> LawResidualModel:
    """MLflow's entry point for a ``loader_module``: the candidate saved at ``data_path``."""
    return LawResidualModel.load(Path(data_path))
