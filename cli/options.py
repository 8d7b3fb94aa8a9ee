"""What every command shares: the error boundary, common options, quiet local state.

Heavy libraries are imported inside commands, never here, so that ``govern --help``
answers at once.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.exit_codes import EXIT_UNEXPECTED, EXIT_USAGE, exit_code_for
from vocabulary.errors import GovernanceError

if TYPE_CHECKING:  # imported for annotations only: the CLI must start fast
    from governance.stores.handle import Stores
    from governance.trust.identity import Signer
    from governance.trust.policy_store import LoadedPolicy

__all__ = [
    "ActorOption",
    "ModelArg",
    "StressPathsOption",
    "VersionArg",
    "WorkdirOption",
    "acting",
    "exit_codes",
    "existing_stores",
    "model_policy",
    "quiet_network_and_local_state",
]

WorkdirOption = Annotated[
    Path | None,
    typer.Option(
        "--workdir",
        help="Work directory (MLflow database, artifacts, reports). "
        "Default: $GOVERN_HOME, else ./.govern",
    ),
]
ActorOption = Annotated[
    str,
    typer.Option(
        "--as",
        help="Who is acting: this process must hold their private key (GOVERN_KEYS_DIR, "
        "default <workdir>/keys) and the policy in force must list its public key.",
    ),
]
ModelArg = Annotated[str, typer.Argument(help="Registered model name, e.g. execution-impact.")]
VersionArg = Annotated[str, typer.Argument(help="Model version number.")]
StressPathsOption = Annotated[
    int, typer.Option(help="Monte Carlo paths per stress order, scenario and model.")
]


def _fail(message: str, code: int) -> None:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


@contextmanager
def exit_codes() -> Iterator[None]:
    """Map the product's errors (and bad parameters) to documented exit codes."""
    from pydantic import ValidationError

    # A command's output is its answer, not MLflow's download progress bars.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

    try:
        yield
    except GovernanceError as exc:
        _fail(str(exc), exit_code_for(exc))
    except ValidationError as exc:
        _fail(_validation_message(exc), EXIT_USAGE)
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:  # the CLI is the last line: report, never hang or dump silently
        if os.environ.get("GOVERN_DEBUG"):
            raise
        from governance.stores.handle import is_store_outage

        if is_store_outage(exc):
            _fail(_outage_message(exc), EXIT_UNEXPECTED)
        _fail(
            f"unexpected {type(exc).__name__}: {exc} (set GOVERN_DEBUG=1 for a traceback)",
            EXIT_UNEXPECTED,
        )


def _outage_message(exc: Exception) -> str:
    """Name the store that is out of reach, from what its client reported."""
    from mlflow.exceptions import MlflowException

    store = "MLflow" if isinstance(exc, MlflowException) else "a store (database or files)"
    detail = " ".join(str(exc).split())
    return (
        f"{store} is unreachable: {detail[:400]}; this command recorded nothing after the "
        f"failure; retry when the store is back"
    )


def _validation_message(exc: Exception) -> str:
    parts = []
    for err in exc.errors():  # type: ignore[attr-defined]
        where = ".".join(str(p) for p in err["loc"]) or "value"
        parts.append(f"{where}: {err['msg']} (got {err.get('input')!r})")
    return "invalid parameters: " + "; ".join(parts)


def quiet_network_and_local_state(workdir: Path) -> None:
    """Keep Prefect's and GX's state local, stop them phoning home, show one line per stage.

    Prefect's and MLflow's INFO chatter (every task's state, the temporary server, table
    creation) is off unless ``PREFECT_LOGGING_LEVEL`` or ``MLFLOW_LOGGING_LEVEL`` asks for
    it; the flows' own progress goes to stderr, one line per stage.
    """
    os.environ.setdefault("PREFECT_HOME", str(workdir / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    _show_progress()


class _StderrLines(logging.Handler):
    """Writes each record to the ``sys.stderr`` of the moment.

    An embedding caller may have redirected stderr since the handler was made.
    """

    def emit(self, record: logging.LogRecord) -> None:
        sys.stderr.write(self.format(record) + "\n")


def _show_progress() -> None:
    from flows.timing import progress

    if not any(isinstance(h, _StderrLines) for h in progress.handlers):
        handler = _StderrLines()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        progress.addHandler(handler)
    progress.setLevel(logging.INFO)
    progress.propagate = False


def existing_stores(workdir: Path | None) -> Stores:
    """The stores of a work directory that must already exist (every command but retrain)."""
    from governance.stores.handle import open_stores
    from governance.stores.settings import get_settings, require_existing

    return open_stores(require_existing(get_settings(workdir)))


def model_policy(stores: Stores, model: str) -> LoadedPolicy:
    """The policy entry of ``model`` in the policy file the stores' settings name."""
    from governance.trust.policy_store import load_model_policy

    return load_model_policy(stores.settings.policy_path, model)


def acting(stores: Stores, policy: LoadedPolicy, name: str) -> Signer:
    """The key of ``--as NAME``, held by this process and listed by the policy."""
    from governance.trust.policy_store import signer_for

    return signer_for(stores.settings.keys_dir, policy.file, name)
