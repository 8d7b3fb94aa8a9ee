"""The registry as a view of the audit log: aliases, lifecycle and approvals tags.

Every lifecycle action first records its decisions in the log, then sets the registry
from the log with :func:`sync_view`; ``govern audit reconcile`` calls the same function to
put back a view that was edited in the MLflow UI or left half-set by a crash. One
function, so that what an action leaves and what a repair leaves cannot differ.
"""

from __future__ import annotations

import json
from typing import Any

from mlflow.exceptions import MlflowException

from governance.ledger.replay import ModelHistory
from governance.stores.handle import Stores
from governance.stores.registry import registered_versions
from vocabulary import Tag

__all__ = ["sync_view"]


def sync_view(stores: Stores, model: str, history: ModelHistory) -> list[dict[str, Any]]:
    """Set ``model``'s aliases, lifecycle and approvals tags to what the log says.

    Parameters
    ----------
    stores, model
        Where, and which registered model.
    history
        The model's verified history
        (:func:`~governance.lifecycle.version_state.verified_history`), so that an event
        that does not check out is never copied into the registry.

    Returns
    -------
    list of dict
        One ``{"subject", "was", "now"}`` per change; empty when the registry agreed.
    """
    try:
        stores.client.get_registered_model(model)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        return []  # nothing registered yet (a first retrain stopped before it): no view
    return _sync_aliases(stores, model, history) + _sync_tags(stores, model, history)


def _sync_aliases(stores: Stores, model: str, history: ModelHistory) -> list[dict[str, Any]]:
    client = stores.client
    registered = {a: str(v) for a, v in client.get_registered_model(model).aliases.items()}
    versions = registered_versions(client, model)
    changes = []
    for alias in sorted(set(registered) | set(history.aliases)):
        want, have = history.aliases.get(alias), registered.get(alias)
        if want not in versions:  # deleted from the registry: no alias can point there
            want = None
        if want == have:
            continue
        if want is None:
            client.delete_registered_model_alias(model, alias)
        else:
            client.set_registered_model_alias(model, alias, want)
        changes.append({"subject": f"{model}@{alias}", "was": have, "now": want})
    return changes


def _sync_tags(stores: Stores, model: str, history: ModelHistory) -> list[dict[str, Any]]:
    client = stores.client
    changes = []
    for mv in registered_versions(client, model).values():
        version = str(mv.version)
        state = history.state(version)
        if state is None:
            continue
        approvals = [{"by": a.by, "at": a.at, "comment": a.comment} for a in state.approvals]
        tagged = json.loads(mv.tags.get(Tag.APPROVALS, "[]"))
        wanted = {Tag.LIFECYCLE: state.lifecycle}
        if sorted(a.get("by") for a in tagged) != sorted(a["by"] for a in approvals):
            wanted[Tag.APPROVALS] = json.dumps(approvals)
        for tag, value in wanted.items():
            if mv.tags.get(tag) != value:
                client.set_model_version_tag(model, version, tag, value)
                changes.append(
                    {"subject": f"{model} v{version} {tag}", "was": mv.tags.get(tag), "now": value}
                )
    return changes
