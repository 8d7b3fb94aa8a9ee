"""Latency of a registered version's decisions on the production path, measured for its gate.

The production path is what an execution engine runs: load the verified version once,
compile its policy (:meth:`models.ModelFamily.compile`), then decide order by order in
process. The gate judges its CPU time (:func:`validation.latency.measure_latency`); the
MLflow pyfunc path (``family.decide`` on the pyfunc, schema checks included) is timed too and
reported beside it, for comparison.
"""

from __future__ import annotations

import mlflow
import pandas as pd

from governance.stores.artifacts import load_verified
from governance.stores.handle import Stores
from models import ModelFamily
from validation.latency import measure_latency

__all__ = ["decision_latency"]

#: The pyfunc path costs milliseconds per call: a small sample, reported, never judged.
_PYFUNC_SAMPLE = {"batches": 5, "calls_per_batch": 40, "warmup": 5, "attempts": 1}


def decision_latency(
    stores: Stores,
    model_name: str,
    version: str,
    family: ModelFamily,
    order: pd.DataFrame,
) -> dict[str, float]:
    """CPU time of one decision for the first order of ``order``, compiled and through pyfunc.

    Any registered version can be measured again at any time, e.g. when its gate recorded
    an inconclusive figure (a measurement the host's load disturbed).

    Parameters
    ----------
    stores : Stores
        Where the version and its audit record live.
    model_name, version : str
        The registered version; its artifacts are verified against the audit log first.
    family : ModelFamily
        The version's family (compiles its policy, reads its order columns).
    order : DataFrame
        Rows of the family's table; the first is decided.

    Returns
    -------
    dict
        :func:`validation.latency.measure_latency` of the compiled decision (what the gate
        judges), plus ``pyfunc_p50_ms``, ``pyfunc_p99_ms`` (CPU) and ``pyfunc_wall_p50_ms``
        of the same decision through the MLflow pyfunc.
    """
    # Measured on the artifacts that were registered, never on altered ones.
    verified = load_verified(stores, model_name, version)
    compiled = family.compile(verified.predictor)
    (arguments,) = compiled.arguments(order.head(1))
    latency = measure_latency(lambda: compiled.decide_one(*arguments))
    pyfunc = mlflow.pyfunc.load_model(str(verified.local_path))
    one = order.head(1)
    reported = measure_latency(lambda: family.decide(pyfunc, one), **_PYFUNC_SAMPLE)
    return {
        **latency,
        "pyfunc_p50_ms": reported["p50_ms"],
        "pyfunc_p99_ms": reported["p99_ms"],
        "pyfunc_wall_p50_ms": reported["wall_p50_ms"],
    }
