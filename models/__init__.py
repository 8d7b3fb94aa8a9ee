"""Execution model families: features, estimators and the policies they drive."""

from models.family import FittedModels, ModelFamily, Predictor, Split
from models.metrics import regression_metrics
from models.split import out_of_time_split

__all__ = [
    "FittedModels",
    "ModelFamily",
    "Predictor",
    "Split",
    "get_family",
    "out_of_time_split",
    "regression_metrics",
]


def get_family(registered_name: str) -> ModelFamily:
    """Return the family that trains the registered model ``registered_name``.

    Raises
    ------
    KeyError
        If no family is known under that name.
    """
    from models.impact import ImpactFamily

    families = {ImpactFamily.registered_name: ImpactFamily}
    if registered_name not in families:
        raise KeyError(
            f"unknown model family {registered_name!r}; expected one of {sorted(families)}"
        )
    return families[registered_name]()
