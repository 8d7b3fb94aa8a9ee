"""What a validator sees before signing off: the evidence of a version, from the log.

The Prefect-UI sign-off form shows this, so that a validator deciding there sees what
``govern signoff list`` and the MLflow UI show: the gate verdict, the challenger verdicts,
the worst stress scenario, and where the run and the lineage report are.
"""

from __future__ import annotations

from governance.lifecycle.version_state import verified_events
from governance.stores.handle import Stores
from lineage import describe_event
from vocabulary import Action

__all__ = ["signoff_evidence"]


def signoff_evidence(stores: Stores, model: str, version: str) -> str:
    """A Markdown summary of ``model`` ``version``'s evidence, read from its audit events."""
    # Only what checks out: evidence a database writer appended after the author's signed
    # verdict must not be what a validator reads before signing.
    events = {
        e.action: e
        for e in verified_events(stores)
        if (e.model, e.version) == (model, str(version))
    }
    lines = [f"Sign-off of **{model} version {version}**."]
    for action, label in (
        (Action.CANDIDATE_GATED, "Gates"),
        (Action.CANDIDATE_COMPARED, "Challenger"),
        (Action.CANDIDATE_STRESSED, "Stress"),
    ):
        event = events.get(action)
        if event is not None:
            lines.append(f"* **{label}**: {describe_event(action, event.payload)}")
    stressed = events.get(Action.CANDIDATE_STRESSED)
    rows = [
        r
        for r in (stressed.payload.get("table", []) if stressed else [])
        if r.get("model") == "candidate"
    ]
    if rows:
        worst = max(rows, key=lambda r: r["cvar95_shortfall_bps"])
        lines.append(
            f"* **Worst stress scenario**: {worst['scenario']}, CVaR95 "
            f"{worst['cvar95_shortfall_bps']:.0f} bps"
        )
    trained = events.get(Action.CANDIDATE_TRAINED)
    if trained is not None:
        run_id = trained.payload["run_id"]
        experiment = stores.client.get_run(run_id).info.experiment_id
        lines.append(
            f"* **MLflow run**: `<mlflow ui>/#/experiments/{experiment}/runs/{run_id}` "
            f"(data, challenger, stress and gate reports)"
        )
    lines.append(
        f"* **Lineage report**: `govern lineage {model} {version} --format html -o "
        f"lineage.html --workdir {stores.settings.workdir}`"
    )
    lines.append(
        f"To decide, sign on your own machine: `govern signoff sign {model} {version} --as "
        f"YOU --decision approve|reject --comment TEXT` and paste its output as the "
        f"signature below, with the same decision and comment. The rules of the policy apply "
        f"as for `govern signoff approve`: validators only, never the author's key, gates "
        f"must have passed."
    )
    return "\n".join(lines)
