"""OpenLineage run events of a retrain: one run per stage, under the retrain's own run.

Each stage of a retrain (data contracts, training, registration, comparison, stress,
gates) emits ``START`` when it begins and ``COMPLETE`` or ``FAIL`` when it ends, through
the ``openlineage-python`` client. Every event names its input and output datasets with
their SHA-256 (the snapshot's Parquet files, and the model artifacts once registered),
and the data-contracts stage attaches each table's contract results as OpenLineage's
``dataQualityAssertions`` facet. The stage runs name the retrain as their parent, whose
run id is the MLflow run's, so a lineage backend joins them to the registry.

Where events go: the client's own configuration when there is one (``OPENLINEAGE_URL``
for HTTP, ``OPENLINEAGE_CONFIG`` or ``OPENLINEAGE__TRANSPORT__*`` for any transport,
``OPENLINEAGE_DISABLED=true`` for none); without, one JSON line per event appended to
``<workdir>/openlineage/events.jsonl``. Emitting is bookkeeping: a lineage backend that
is down is logged and never fails a retrain.
"""

from __future__ import annotations

import logging
import os
import traceback
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

if TYPE_CHECKING:  # the client is imported where events are made, not at start-up
    from openlineage.client import OpenLineageClient

    from governance.records.candidate import RegisteredVersion
    from governance.stores.datasets import Snapshot
    from governance.stores.handle import Stores
    from validation.data_contracts import ContractReport

__all__ = [
    "DEFAULT_NAMESPACE",
    "LineageDataset",
    "RetrainLineage",
    "StageLineage",
    "events_file",
    "lineage_client",
]

DEFAULT_NAMESPACE = "execution-model-governance"
"""Job namespace unless ``OPENLINEAGE_NAMESPACE`` names another."""

_PRODUCER = "https://github.com/execution-model-governance/govern"
_CONFIGURED_BY = ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG", "OPENLINEAGE_DISABLED")
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LineageDataset:
    """A dataset as lineage names it: where it is and the SHA-256 of its content.

    ``namespace`` and ``name`` follow OpenLineage's naming: ``file`` and the absolute
    path for a local file; the MLflow tracking URI and the model URI for model artifacts.
    """

    namespace: str
    name: str
    sha256: str

    @classmethod
    def of_snapshot(cls, snapshot: Snapshot) -> list[LineageDataset]:
        """Each file of a snapshot, as its ``candidate.trained`` event hashed it."""
        root = urlparse(snapshot.uri).path
        return [
            cls("file", f"{root}/{name}", sha256)
            for name, sha256 in sorted(snapshot.file_sha256.items())
        ]

    @classmethod
    def of_version(cls, stores: Stores, registered: RegisteredVersion) -> LineageDataset:
        """A registered version's model artifacts, as its ``candidate.trained`` event names them."""
        return cls(stores.settings.tracking_uri, registered.model_uri, registered.model_sha256)


@dataclass
class StageLineage:
    """What a stage declares while it runs: datasets it produced, contract results."""

    outputs: list[LineageDataset] = field(default_factory=list)
    contracts: ContractReport | None = None

    def produced(self, dataset: LineageDataset) -> None:
        """Name a dataset the stage wrote (it is an input of the stages after it)."""
        self.outputs.append(dataset)

    def checked(self, report: ContractReport | None) -> None:
        """Attach the data contracts' results to the stage's input tables."""
        self.contracts = report


def events_file(workdir: Path) -> Path:
    """Where events go when the client is not configured otherwise."""
    return workdir / "openlineage" / "events.jsonl"


def lineage_client(workdir: Path) -> OpenLineageClient:
    """The client: configured by its own environment variables, else the work directory's file."""
    from openlineage.client import OpenLineageClient

    if any(os.environ.get(v) for v in _CONFIGURED_BY) or any(
        v.startswith("OPENLINEAGE__TRANSPORT") for v in os.environ
    ):
        return OpenLineageClient()
    from openlineage.client.transport.file import FileConfig, FileTransport

    path = events_file(workdir)
    path.parent.mkdir(parents=True, exist_ok=True)
    return OpenLineageClient(
        transport=FileTransport(FileConfig(log_file_path=str(path), append=True))
    )


class RetrainLineage:
    """The OpenLineage runs of one retrain: the retrain itself and each of its stages.

    Parameters
    ----------
    client
        Where events go (:func:`lineage_client`).
    model
        The registered model; jobs are ``<model>.retrain`` and ``<model>.retrain.<stage>``.
    run_id
        The retrain's MLflow run id (32 hex digits), used as the parent run's id.
    snapshot
        The snapshot's files, every stage's input.
    """

    def __init__(
        self,
        client: OpenLineageClient,
        model: str,
        run_id: str,
        snapshot: Sequence[LineageDataset],
    ) -> None:
        self.client = client
        self.namespace = os.environ.get("OPENLINEAGE_NAMESPACE") or DEFAULT_NAMESPACE
        self.job = f"{model}.retrain"
        self.run_id = str(uuid.UUID(hex=run_id))
        self.snapshot = list(snapshot)
        self.produced: list[LineageDataset] = []

    def start(self) -> None:
        """The retrain's own run begins."""
        self._emit("START", self.job, self.run_id, self.snapshot, [], {})

    def finish(self, error: BaseException | None = None) -> None:
        """The retrain's own run ends: ``COMPLETE``, or ``FAIL`` with ``error``."""
        state = "COMPLETE" if error is None else "FAIL"
        errors = _error_facets(error)
        self._emit(state, self.job, self.run_id, self.snapshot, self.produced, errors)

    @contextmanager
    def stage(self, name: str) -> Iterator[StageLineage]:
        """Emit ``START`` now and ``COMPLETE`` or ``FAIL`` when the block ends."""
        from openlineage.client.uuid import generate_new_uuid

        job, run_id = f"{self.job}.{name.replace(' ', '-')}", str(generate_new_uuid())
        inputs = self.snapshot + self.produced
        parent = self._parent_facet()
        self._emit("START", job, run_id, inputs, [], parent)
        stage = StageLineage()
        try:
            yield stage
        except BaseException as error:
            self._end_stage("FAIL", job, run_id, inputs, stage, {**parent, **_error_facets(error)})
            raise
        self._end_stage("COMPLETE", job, run_id, inputs, stage, parent)
        self.produced += [d for d in stage.outputs if d not in self.produced]

    def _end_stage(
        self,
        state: str,
        job: str,
        run_id: str,
        inputs: list[LineageDataset],
        stage: StageLineage,
        run_facets: Mapping[str, object],
    ) -> None:
        assertions = _assertions_by_file(stage.contracts) if stage.contracts else {}
        self._emit(state, job, run_id, inputs, stage.outputs, run_facets, assertions)

    def _parent_facet(self) -> dict[str, object]:
        from openlineage.client.facet_v2 import parent_run

        return {
            "parent": parent_run.ParentRunFacet(
                run=parent_run.Run(runId=self.run_id),
                job=parent_run.Job(namespace=self.namespace, name=self.job),
            )
        }

    def _emit(
        self,
        state: str,
        job: str,
        run_id: str,
        inputs: Sequence[LineageDataset],
        outputs: Sequence[LineageDataset],
        run_facets: Mapping[str, object],
        assertions: Mapping[str, list[object]] | None = None,
    ) -> None:
        from openlineage.client.event_v2 import (
            InputDataset,
            Job,
            OutputDataset,
            Run,
            RunEvent,
            RunState,
        )

        assertions = assertions or {}
        event = RunEvent(
            eventType=RunState[state],
            eventTime=datetime.now(UTC).isoformat(),
            run=Run(runId=run_id, facets=dict(run_facets)),
            job=Job(namespace=self.namespace, name=job),
            producer=_PRODUCER,
            inputs=[
                InputDataset(
                    namespace=d.namespace,
                    name=d.name,
                    facets=_version_facet(d),
                    inputFacets=_assertions_facet(assertions.get(Path(d.name).name)),
                )
                for d in inputs
            ],
            outputs=[
                OutputDataset(namespace=d.namespace, name=d.name, facets=_version_facet(d))
                for d in outputs
            ],
        )
        try:
            self.client.emit(event)
        except Exception as exc:  # a lineage backend that is down must not fail a retrain
            _log.warning("OpenLineage event %s %s not delivered: %s", job, state, exc)


def _version_facet(dataset: LineageDataset) -> dict[str, object]:
    from openlineage.client.facet_v2 import dataset_version_dataset

    version = dataset_version_dataset.DatasetVersionDatasetFacet(
        datasetVersion=f"sha256:{dataset.sha256}"
    )
    return {"version": version}


def _assertions_facet(assertions: list[object] | None) -> dict[str, object]:
    if not assertions:
        return {}
    from openlineage.client.facet_v2 import data_quality_assertions_dataset as dq

    return {"dataQualityAssertions": dq.DataQualityAssertionsDatasetFacet(assertions=assertions)}


def _assertions_by_file(report: ContractReport) -> dict[str, list[object]]:
    """Each table's contract results as OpenLineage assertions, by its file's name."""
    from openlineage.client.facet_v2 import data_quality_assertions_dataset as dq

    by_file: dict[str, list[object]] = {}
    for check in report.checks:
        if check.status == "skipped":
            continue  # not evaluated: the failing presence check of its column says why
        by_file.setdefault(f"{check.table}.parquet", []).append(
            dq.Assertion(
                assertion=check.check,
                success=check.success,
                column=check.columns[0] if len(check.columns) == 1 else None,
                severity=check.severity,
                description=check.description,
            )
        )
    return by_file


def _error_facets(error: BaseException | None) -> dict[str, object]:
    if error is None:
        return {}
    from openlineage.client.facet_v2 import error_message_run

    return {
        "errorMessage": error_message_run.ErrorMessageRunFacet(
            message=str(error) or type(error).__name__,
            programmingLanguage="python",
            stackTrace="".join(traceback.format_exception(error))[-4000:],
        )
    }
