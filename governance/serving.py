"""The production call path of a registered model, used to measure inference latency."""

from __future__ import annotations

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient

from governance.loading import load_verified
from governance.registry import model_uri
from models import ModelFamily
from validation.latency import measure_latency

__all__ = ["decision_latency"]


def decision_latency(
    model_name: str, version: str, family: ModelFamily, order: pd.DataFrame, n_calls: int = 500
) -> dict:
    """p50/p99 latency of one pre-trade decision through the MLflow pyfunc of ``version``.

    A production caller loads ``models:/<name>/<version>`` as a pyfunc and asks the
    family's policy for one order's schedule, which scores every horizon of the grid in
    one ``predict`` call; that whole call is timed, schema checks included.
    """
    client = MlflowClient()
    # The latency is measured on the artifacts that were registered, never on altered ones.
    load_verified(client, client.get_model_version(model_name, version))
    predictor = mlflow.pyfunc.load_model(model_uri(model_name, version))
    one = order.head(1)
    return measure_latency(lambda: family.decide(predictor, one), n_calls=n_calls)
