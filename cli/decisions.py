"""``govern decisions``: which version decided an order, and on what (RTS 6 Art 12)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.options import WorkdirOption, exit_codes

__all__ = ["decisions"]


def decisions(
    order: Annotated[str, typer.Option("--order", help="The order id the engine decided.")],
    model: Annotated[
        str | None, typer.Option("--model", help="Only this model's decisions.")
    ] = None,
    workdir: WorkdirOption = None,
) -> None:
    """Show each logged decision of ORDER: version, inputs, decision, time, process.

    Decisions are logged by the governed loader's decider
    (``load_champion(...).decider()``). Each is checked against the audit log: the
    version that decided must have been champion at that moment.

    Exit codes: 0 shown (and every decision by the champion of its moment), 2 no decision
    logged for ORDER, 6 a decision by a version that was not champion then.
    """
    with exit_codes():
        from datetime import datetime

        from cli.options import existing_stores
        from governance.lifecycle.version_state import verified_history
        from governance.loader.decisions import DECISIONS_FOLDER, read_decisions
        from lineage.at_moment import champion_at
        from vocabulary import IntegrityError, UsageError

        stores = existing_stores(workdir)
        folder = stores.settings.workdir / DECISIONS_FOLDER
        found = read_decisions(folder / model if model else folder, order)
        if found.empty:
            raise UsageError(f"no decision was logged for order {order!r} under {folder}")
        wrong = []
        # One verified history per model: verifying the log costs more than the rows.
        histories = {name: verified_history(stores, name) for name in set(found["model"])}
        for row in found.to_dict(orient="records"):
            history = histories[row["model"]]
            moment = datetime.fromisoformat(str(row["decided_at"]))
            champion = champion_at(history, row["model"], moment)["champion"]
            decided = {k: row[k] for k in row if k not in _FIXED}
            by_log = (
                "the champion by the audit log then"
                if champion == row["version"]
                else f"NOT the champion by the audit log then (that was {champion})"
            )
            typer.echo(
                f"{row['decided_at']}  order {row['order_id']}: {row['model']} "
                f"v{row['version']} ({by_log}), process {row['process']}\n"
                f"    {', '.join(f'{k}={v}' for k, v in decided.items())}\n"
                f"    inputs SHA-256 {row['inputs_sha256']}"
            )
            if champion != row["version"]:
                wrong.append(f"{row['model']} v{row['version']} at {row['decided_at']}")
        if wrong:
            raise IntegrityError(
                f"order {order} was decided by a version that was not champion: {'; '.join(wrong)}"
            )


_FIXED = frozenset({"order_id", "model", "version", "decided_at", "process", "inputs_sha256"})
