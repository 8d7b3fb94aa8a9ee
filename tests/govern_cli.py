"""Run the ``govern`` command in-process, the way the tests need it."""

import contextlib
import io
from dataclasses import dataclass


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_govern(args: list[str]) -> CliResult:
    """Run ``govern ARGS`` in-process and return its exit code and output.

    Unlike click's CliRunner, the streams handed to the command are never closed:
    Prefect's log handler keeps the stream it first saw, and must not find it closed
    in a later test.
    """
    from cli import app

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            app(args, prog_name="govern")
            code = 0
        except SystemExit as exc:  # standalone mode ends every command with sys.exit
            code = exc.code if isinstance(exc.code, int) else 1
    return CliResult(code, out.getvalue(), err.getvalue())


def retrain(data_dir, workdir, *extra: str, author: str = "maker") -> CliResult:
    """``govern retrain`` with the small stress book the tests use."""
    return run_govern(
        [
            "retrain",
            "--data",
            str(data_dir),
            "--workdir",
            str(workdir),
            "--as",
            author,
            "--stress-paths",
            "500",
            *extra,
        ]
    )
