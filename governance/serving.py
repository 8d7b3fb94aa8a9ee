"""The production call path of a registered model, used to measure inference latency."""

from __future__ import annotations

import mlflow
import pandas as pd

from governance.loading import load_verified
from governance.stores import Stores
from models import ModelFamily
from validation.latency import measure_latency

__all__ = ["decision_latency"]


def decision_latency(
    stores: Stores,
    model_name: str,
    version: str,
    family: ModelFamily,
    order: pd.DataFrame,
    n_calls: int = 500,
) -> dict:
    """p50/p99 latency of one pre-trade decision through the MLflow pyfunc of ``version``.

    A production caller loads ``models:/<name>/<version>`` as a pyfunc and asks the
    family's policy for one order's schedule, which scores every horizon of the grid in
    one ``predict`` call; that whole call is timed, schema checks included.
    """
    # The latency is measured on the artifacts that were registered, never on altered ones.
    verified = load_verified(stores, stores.client.get_model_version(model_name, version))
    predictor = mlflow.pyfunc.load_model(str(verified.local_path))
    one = order.head(1)
    return measure_latency(lambda: family.decide(predictor, one), n_calls=n_calls)
