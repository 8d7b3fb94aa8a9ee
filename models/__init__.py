"""Execution model families: features, estimators and the policies they drive."""

import os

# LightGBM's OpenMP threads spin while they wait for each other (libgomp's default policy):
# with another process on one of two cores, a spinning thread takes the cycles its partner
# needs and training ran 50x slower (102 s instead of 1.9 s, issue 8). Under PASSIVE, waiting
# threads sleep: on a shared 2-CPU machine (load 2-5), 2 threads trained in 4.5-5.6 s instead
# of 32-57 s. libgomp reads the variable once, when the first import of lightgbm loads it;
# every path of the product to lightgbm (training, reading a candidate, MLflow's pyfunc
# loader module models.impact.model) goes through this package first. A value the user set
# is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from models.family import (  # noqa: E402
    CompiledPolicy,
    FittedModels,
    ModelFamily,
    Predictor,
    Split,
)
from models.metrics import regression_metrics  # noqa: E402
from models.split import out_of_time_split  # noqa: E402

__all__ = [
    "CompiledPolicy",
    "FittedModels",
    "ModelFamily",
    "Predictor",
    "Split",
    "family_names",
    "get_family",
    "out_of_time_split",
    "regression_metrics",
]


def _families() -> dict[str, type[ModelFamily]]:
    # Imported on use: a family module loads its estimators (LightGBM takes a while).
    from models.impact import ImpactFamily

    return {ImpactFamily.registered_name: ImpactFamily}


def family_names() -> list[str]:
    """Return the registered-model name of every known family, sorted."""
    return sorted(_families())


def get_family(registered_name: str) -> ModelFamily:
    """Return the family that trains the registered model ``registered_name``.

    Raises
    ------
    KeyError
        If no family is known under that name.
    """
    families = _families()
    if registered_name not in families:
        raise KeyError(
            f"unknown model family {registered_name!r}; expected one of {sorted(families)}"
        )
    return families[registered_name]()
