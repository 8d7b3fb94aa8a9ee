"""Admitting a data snapshot before any orchestration, and recording a refusal.

Refused data must cost seconds, not the start-up of a workflow engine, and must never end
in a crash: :func:`admit_snapshot` reads and hashes the tables, runs the data contracts and
the family's admission checks (:mod:`validation.intake`) with no Prefect and no MLflow, and
on refusal appends one ``data.rejected`` event (the decision is part of the record) and
writes the contract report beside the work directory's other reports; the event is
checkpointed with the author's key, so that deleting it is caught. Nothing is registered
and no run is opened.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from governance.ledger import open_audit_log
from governance.stores.datasets import Snapshot, SnapshotRefused, load_snapshot
from governance.stores.settings import Settings
from governance.trust.checkpoints import Recorder
from governance.trust.identity import Signer
from models import ModelFamily
from validation.intake import Intake, check_intake
from vocabulary import Action, DataRejected

__all__ = ["admit_snapshot", "refusal_payload", "refuse"]


def admit_snapshot(
    settings: Settings,
    data_dir: Path,
    family: ModelFamily,
    holdout_fraction: float,
    min_holdout_days: int,
    author: str,
    signer: Signer | None,
) -> Intake:
    """Read the snapshot and admit it, or record its refusal and raise.

    The refusal is appended as ``author`` and, when the process holds their key
    (``signer``), checkpointed with it, in the checkpoint file only (no MLflow is touched).
    An author without a key still learns what is wrong with the data first; the retrain
    refuses them next.

    Raises
    ------
    DataRejected
        If a file is unreadable, a table the family needs is missing, a contract or an
        admission check failed; one ``data.rejected`` event was appended.
    """
    try:
        snapshot = load_snapshot(data_dir)
    except SnapshotRefused as refused:
        _refuse_in(
            settings, author, signer, family, refused.uri, refused.file_sha256, str(refused), None
        )
    intake = check_intake(
        snapshot.tables, family, holdout_fraction, min_holdout_days, pd.Timestamp.now(tz="UTC")
    )
    if not intake.passed:
        report_path = settings.reports_dir / f"data-contracts-refused-{snapshot.sha256[:16]}.html"
        files = snapshot.file_sha256
        _refuse_in(settings, author, signer, family, snapshot.uri, files, intake, report_path)
    return intake


def _refuse_in(
    settings: Settings,
    author: str,
    signer: Signer | None,
    family: ModelFamily,
    uri: str,
    files: Mapping[str, str],
    refusal: Intake | str,
    report_path: Path | None,
) -> None:
    settings.workdir.mkdir(parents=True, exist_ok=True)
    audit = open_audit_log(settings.audit_db_url)
    try:
        recorder = Recorder(audit, settings.checkpoint_path, None, signer)
        refuse(recorder, family.registered_name, uri, files, refusal, report_path, None, author)
    finally:
        audit.close()


def refusal_payload(
    uri: str, files: Mapping[str, str], refusal: Intake | str, run_id: str | None
) -> dict[str, Any]:
    """What a ``data.rejected`` (or ``data.validated``) event records about the snapshot."""
    intake = refusal if isinstance(refusal, Intake) else None
    return {
        "run_id": run_id,
        "dataset_uri": uri,
        "dataset_sha256": Snapshot.digest_of(files),
        "files": dict(files),
        "summary": intake.report.summary() if intake and intake.report else None,
        "reason": intake.refusal if intake else str(refusal),
    }


def refuse(
    recorder: Recorder,
    model_name: str,
    uri: str,
    files: Mapping[str, str],
    refusal: Intake | str,
    report_path: Path | None,
    run_id: str | None,
    author: str,
) -> None:
    """Append ``data.rejected`` as ``author``, write the contract report if any, and raise.

    The recorder checkpoints the event when it holds the author's key.

    Raises
    ------
    DataRejected
        Always, with the refusal's reasons and where the report is.
    """
    payload = refusal_payload(uri, files, refusal, run_id)
    key = f"{run_id}:{Action.DATA_REJECTED}" if run_id else None
    recorder.record(Action.DATA_REJECTED, payload, model=model_name, key=key, actor=author)
    intake = refusal if isinstance(refusal, Intake) else None
    where = ""
    if report_path is not None and intake is not None and intake.report is not None:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(intake.report.to_html(), encoding="utf-8")
        where = f" (report: {report_path})"
    raise DataRejected(f"input data rejected{where}:\n{payload['reason']}")
