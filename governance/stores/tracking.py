"""MLflow tracking: one run per candidate, holding everything a validator reviews.

Every function takes an explicit ``run_id`` so that tasks on different threads or
workers can log to the same run without relying on MLflow's active-run state.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from mlflow.tracking import MlflowClient

from governance.stores.handle import Stores, fluent_mlflow

if TYPE_CHECKING:
    from models import ModelFamily

__all__ = [
    "CANDIDATE_DATA",
    "PIP_REQUIREMENTS",
    "start_candidate_run",
    "log_report",
    "log_dataset",
    "log_metrics",
    "log_figure",
    "log_candidate_model",
    "finish_run",
]

#: Name of the candidate's directory inside the logged model (MLflow puts it under ``data/``).
CANDIDATE_DATA = "candidate"
#: Passed to ``log_model`` so MLflow does not infer requirements (about 10 s per call).
PIP_REQUIREMENTS = [
    "lightgbm>=4.7,<4.8",
    "numpy>=2.0,<2.5",
    "pandas>=2.2",
    "scikit-learn>=1.6",
    "scipy>=1.13",
]


def start_candidate_run(
    client: MlflowClient,
    experiment_id: str,
    model_name: str,
    author: str,
    params: Mapping[str, Any],
    tags: Mapping[str, str],
) -> str:
    """Open the candidate's run, record its author and configuration, return its id."""
    run = client.create_run(
        experiment_id,
        tags={"mlflow.user": author, "governance.model": model_name, **tags},
        run_name=f"{model_name}-candidate",
    )
    log_params(client, run.info.run_id, params)
    return run.info.run_id


def log_params(client: MlflowClient, run_id: str, params: Mapping[str, Any]) -> None:
    """Log parameters; lists and dicts are stored as JSON text."""
    for key, value in params.items():
        text = json.dumps(value) if isinstance(value, list | dict | tuple) else str(value)
        client.log_param(run_id, key, text[:6000])


def log_report(
    client: MlflowClient, run_id: str, name: str, summary: Mapping[str, Any], html: str | None
) -> None:
    """Log a stage report as ``reports/<name>.json`` (and ``.html`` when given)."""
    client.log_dict(run_id, dict(summary), f"reports/{name}.json")
    if html is not None:
        client.log_text(run_id, html, f"reports/{name}.html")


def log_dataset(
    stores: Stores,
    run_id: str,
    frame: pd.DataFrame,
    source_uri: str,
    sha256: str,
    name: str,
    target: str,
) -> None:
    """Record the training table as an MLflow dataset input: URI, schema, SHA-256 digest.

    The table is referenced, not copied or profiled (a profile of 200,000 rows cost 3 s):
    a ``MetaDataset`` carries the source URI, the schema of the columns and the digest.
    MLflow's digest column holds 36 characters; the full hash is in the version tags.
    """
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset
    from mlflow.models import infer_signature

    with _mlflow_internal_warnings_silenced():
        dataset = MetaDataset(
            source=resolve_dataset_source(source_uri),
            name=name,
            digest=sha256[:32],
            schema=infer_signature(frame.head(100)).inputs,
        )
        with _resumed(stores, run_id):
            mlflow.log_input(
                dataset,
                context="training",
                tags={"sha256": sha256, "rows": str(len(frame)), "target": target},
            )


def log_metrics(client: MlflowClient, run_id: str, metrics: Mapping[str, float]) -> None:
    """Log a flat mapping of metrics."""
    for key, value in metrics.items():
        client.log_metric(run_id, key, float(value))


def log_figure(client: MlflowClient, run_id: str, figure: Figure, path: str) -> None:
    """Log a matplotlib figure as a PNG artifact and close it."""
    import matplotlib.pyplot as plt

    client.log_figure(run_id, figure, path)
    plt.close(figure)


def log_candidate_model(
    stores: Stores, run_id: str, family: ModelFamily, model: Any, example: pd.DataFrame
) -> str:
    """Log a candidate in its family's own format as a pyfunc model; return its URI.

    The directory :meth:`models.ModelFamily.save_model` writes is the model's data, and the
    family's ``pyfunc_loader_module`` reads it: ``mlflow.pyfunc.load_model`` then predicts
    what the candidate predicts, and nothing is pickled.
    """
    from mlflow.models import infer_signature

    signature = infer_signature(example, np.asarray(model.predict(example)))
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / CANDIDATE_DATA
        family.save_model(model, data)
        with _resumed(stores, run_id), _mlflow_internal_warnings_silenced():
            info = mlflow.pyfunc.log_model(
                name="model",
                loader_module=family.pyfunc_loader_module,
                data_path=str(data),
                signature=signature,
                input_example=example.head(3),
                pip_requirements=PIP_REQUIREMENTS,
            )
    return info.model_uri


@contextmanager
def _resumed(stores: Stores, run_id: str) -> Iterator[None]:
    """Make ``run_id`` MLflow's active run for fluent calls, and leave it running.

    Leaving ``mlflow.start_run`` marks the run FINISHED, which would claim the
    candidate's validation complete before its gates ran.
    """
    with fluent_mlflow(stores), mlflow.start_run(run_id=run_id):
        yield
    stores.client.update_run(run_id, status="RUNNING")


@contextmanager
def _mlflow_internal_warnings_silenced() -> Iterator[None]:
    """Hide warnings MLflow raises about its own pandas calls and source resolution.

    ``from_pandas`` reads tz-aware columns through a deprecated pandas accessor, a
    ``file://`` source matches two identical resolvers, and the input-example writer
    compares columns with a ``range``; none of them concerns what we log.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=pd.errors.Pandas4Warning)
        warnings.filterwarnings("ignore", message="The specified dataset source can be interpreted")
        yield


def finish_run(client: MlflowClient, run_id: str, status: str, outcome: str) -> None:
    """Close the run with ``status`` (FINISHED or FAILED) and tag its governance outcome."""
    client.set_tag(run_id, "governance.outcome", outcome)
    client.set_terminated(run_id, status=status)
