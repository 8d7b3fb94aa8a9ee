"""The records of a candidate's judgement: challenger, stress and gate reports, failures.

Judging happens in :mod:`validation`; these functions write down what was judged, on the
candidate's MLflow run, its registered version and the audit log (once per run).
"""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from governance.ledger.hashing import sha256_text
from governance.records import training_plots as plots
from governance.records.candidate import CandidateRun, audit_candidate
from governance.stores import tracking
from governance.stores.handle import Stores
from governance.stores.version_tags import gate_tags
from validation.comparison import ComparisonReport
from validation.gates import GateReport
from vocabulary import Action, Alias, IntegrityError, Lifecycle, Tag

__all__ = [
    "STRESS_BOOK_ARTIFACT",
    "record_comparison",
    "record_failure",
    "record_gates",
    "record_stress",
    "version_description",
]

#: Where a candidate's stress book (its orders with the schedules it chose) is kept in its run.
STRESS_BOOK_ARTIFACT = "reports/stress_book.csv"


def record_comparison(
    stores: Stores, run: CandidateRun, version: str, comparison: ComparisonReport
) -> None:
    """Log the challenger report and residual plots; audit the verdicts and calibration."""
    client = stores.client
    tracking.log_report(client, run.run_id, "challenger", comparison.summary(), None)
    client.log_text(run.run_id, comparison.to_markdown(), "reports/challenger.md")
    for name, c in comparison.comparisons.items():
        tracking.log_metrics(
            client,
            run.run_id,
            {
                f"challenge.{name}.loss_difference": c.loss_difference,
                f"challenge.{name}.ci_low": c.ci_low,
                f"challenge.{name}.ci_high": c.ci_high,
                f"challenge.{name}.margin": c.margin,
                f"challenge.{name}.reference_skill": c.skill,
            },
        )
    for name, c in comparison.calibration.items():
        tracking.log_metrics(
            client,
            run.run_id,
            {f"calibration.{name}.bias": c.bias, f"calibration.{name}.slope_error": c.slope_error},
        )
    tracking.log_figure(
        client, run.run_id, plots.residual_figure(comparison), "plots/challenger_residuals.png"
    )
    audit_candidate(
        stores,
        run,
        Action.CANDIDATE_COMPARED,
        {
            "run_id": run.run_id,
            "verdicts": {n: c.verdict for n, c in comparison.comparisons.items()},
            "comparisons": {n: c.as_dict() for n, c in comparison.comparisons.items()},
            "calibration": {n: c.as_dict() for n, c in comparison.calibration.items()},
        },
        version,
    )


def record_stress(
    stores: Stores,
    run: CandidateRun,
    version: str,
    report: dict[str, Any],
    table: pd.DataFrame,
    figures: dict[str, Figure],
    book: pd.DataFrame,
) -> None:
    """Log the stress report, its gate table, figures and the candidate's stress book.

    The audit event holds the per-scenario table, the book's SHA-256 and the scenario
    library's and the engine's, so that ``govern stress`` re-runs the very orders and
    schedules this version was judged on, or notices that they were altered, and says when
    the engine re-running them is not the one that judged them.
    """
    client = stores.client
    tracking.log_report(client, run.run_id, "stress", report, None)
    client.log_text(run.run_id, table.to_csv(index=False), "reports/stress_table.csv")
    book_csv = book.to_csv(index=False)
    client.log_text(run.run_id, book_csv, STRESS_BOOK_ARTIFACT)
    for path, figure in figures.items():
        tracking.log_figure(client, run.run_id, figure, path)
    candidate = table.loc[table["model"] == "candidate"]
    tracking.log_metrics(
        client,
        run.run_id,
        {f"stress.{r.scenario}.cvar95_bps": r.cvar95_shortfall_bps for r in candidate.itertuples()},
    )
    audit_candidate(
        stores,
        run,
        Action.CANDIDATE_STRESSED,
        {
            "run_id": run.run_id,
            "table": table.to_dict(orient="records"),
            "stress_book": STRESS_BOOK_ARTIFACT,
            "stress_book_sha256": hashlib.sha256(book_csv.encode("utf-8")).hexdigest(),
            "scenario_library_sha256": report.get("scenario_library_sha256"),
            "engine_sha256": report.get("engine_sha256"),
        },
        version,
    )


def record_gates(
    stores: Stores,
    run: CandidateRun,
    version: str,
    gates: GateReport,
    latency: dict[str, float],
    description: str,
) -> str:
    """Record the gate verdict on the version and close the run.

    A passed version moves to ``pending-signoff`` and takes the ``candidate`` alias; a
    failed one becomes ``rejected`` for good.

    Returns
    -------
    str
        The lifecycle state the version ends in.

    Raises
    ------
    IntegrityError
        If the log already closed the version as failed (``govern audit reconcile`` took
        this retrain for dead): a closed version is never reopened.
    """
    _refuse_if_closed(stores, run.model_name, version)
    client = stores.client
    tracking.log_report(client, run.run_id, "gates", gates.summary(), None)
    client.log_text(run.run_id, gates.to_markdown(), "reports/gates.md")
    tracking.log_metrics(client, run.run_id, {f"latency.{k}": v for k, v in latency.items()})
    lifecycle = Lifecycle.PENDING_SIGNOFF if gates.passed else Lifecycle.REJECTED
    tags = {**gate_tags(gates.summary()), Tag.LIFECYCLE: lifecycle}
    for key, value in tags.items():
        client.set_model_version_tag(run.model_name, version, key, value)
    client.update_model_version(run.model_name, version, description=description)
    if gates.passed:
        client.set_registered_model_alias(run.model_name, Alias.CANDIDATE, version)
    audit_candidate(
        stores,
        run,
        Action.CANDIDATE_GATED,
        {
            "run_id": run.run_id,
            "lifecycle": lifecycle,
            "gates": gates.summary(),
            # The description summarises this verdict; audit verify compares it with this.
            "description_sha256": sha256_text(description),
        },
        version,
    )
    tracking.finish_run(client, run.run_id, "FINISHED", lifecycle)
    return lifecycle


def _refuse_if_closed(stores: Stores, model: str, version: str) -> None:
    failed = [
        e
        for e in stores.audit.events(model=model, version=version)
        if e.action == Action.CANDIDATE_FAILED
    ]
    if failed:
        raise IntegrityError(
            f"{model} version {version} was closed as failed by {failed[0].actor} (event seq "
            f"{failed[0].seq}: {failed[0].payload.get('error')}); its gates are not recorded"
        )


def record_failure(
    stores: Stores, run: CandidateRun, version: str | None, error: BaseException
) -> None:
    """Close the run as FAILED and retire a half-validated version for good.

    Called when a step fails after the run was opened. A version still ``validating``
    becomes ``failed`` (it can never be signed off) with a ``candidate.failed`` event.
    """
    client = stores.client
    message = f"{type(error).__name__}: {error}"[:2000]
    if client.get_run(run.run_id).info.status == "RUNNING":
        tracking.finish_run(client, run.run_id, "FAILED", "failed")
    if version is None:
        return
    tags = client.get_model_version(run.model_name, version).tags
    if tags.get(Tag.LIFECYCLE) != Lifecycle.VALIDATING:
        return
    client.set_model_version_tag(run.model_name, version, Tag.LIFECYCLE, Lifecycle.FAILED)
    client.set_model_version_tag(run.model_name, version, Tag.FAILURE_REASON, message[:500])
    audit_candidate(
        stores, run, Action.CANDIDATE_FAILED, {"run_id": run.run_id, "error": message}, version
    )


def version_description(
    comparison: ComparisonReport,
    stress: pd.DataFrame,
    gates: GateReport,
    latency: dict[str, float],
) -> str:
    """A summary a validator reads on the model version page before opening the run."""
    verdicts = "\n".join(
        f"  vs {name}: {c.verdict} (squared-error difference {c.loss_difference:+.1f} bps², "
        f"95% CI [{c.ci_low:+.1f}, {c.ci_high:+.1f}]). {c.explanation}"
        for name, c in comparison.comparisons.items()
    )
    decisions = "\n".join(
        f"  {c.subject}: {c.value} ({c.status})" for c in gates.checks if c.gate == "decisions"
    )
    cand = stress.loc[stress["model"] == "candidate"]
    worst = cand.loc[cand["cvar95_shortfall_bps"].idxmax()]
    counts = gates.summary()["counts"]
    lines = [
        f"Gates {'PASSED' if gates.passed else 'FAILED'}: {counts['pass']} pass, "
        f"{counts['warn']} warn, {counts['fail']} fail (policy sha256 {gates.policy_sha256[:12]}).",
        f"Challenger (only better and non-inferior pass):\n{verdicts}",
        f"Decisions (the stress book executed on both models' schedules):\n{decisions}",
        f"Stress: {len(cand)} scenarios; worst CVaR95 {worst['cvar95_shortfall_bps']:.0f} bps "
        f"in {worst['scenario']}.",
        f"Latency of one decision (CPU time, compiled policy): p50 "
        f"{latency['p50_ms'] * 1e3:.1f} us, p99 {latency['p99_ms'] * 1e3:.1f} us.",
    ]
    if not gates.passed:
        lines.append("Failed checks:\n" + gates.failure_message())
    reports = "Reports: run artifacts reports/*.json|md|html, plots/*.png."
    return _within_limit("\n".join(lines), reports)


#: MLflow stores a version's description in a column of 5,000 characters (PostgreSQL and
#: MySQL refuse longer ones; SQLite does not check).
DESCRIPTION_LIMIT = 5000


def _within_limit(summary: str, footer: str) -> str:
    """``summary`` and ``footer``, whole lines of the summary dropped to fit the limit."""
    text = f"{summary}\n{footer}"
    if len(text) <= DESCRIPTION_LIMIT:
        return text
    note = "... (cut to fit the registry; the gate report has every check)"
    room = DESCRIPTION_LIMIT - len(footer) - len(note) - 2
    kept = summary[:room].rsplit("\n", 1)[0]
    return f"{kept}\n{note}\n{footer}"
