"""Run the ``govern`` command in-process, the way the tests need it."""

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

#: The people of the tests: each gets a key pair, the policy lists their public keys and
#: roles (the shipped ones) and head-of-model-risk adopts it, as a desk sets itself up once,
#: before its first retrain. The intern is a member with no role.
OWNER = "head-of-model-risk"
MODEL = "execution-impact"


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
    in a later test. A ``retrain`` into a work directory that has no keys yet first sets
    up the test's people there (:func:`trust`).
    """
    from cli import app

    if args and args[0] == "retrain" and "--workdir" in args:
        workdir = Path(args[args.index("--workdir") + 1])
        if not (workdir / "keys" / "maker.pem").is_file():
            trust(workdir)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            app(args, prog_name="govern")
            code = 0
        except SystemExit as exc:  # standalone mode ends every command with sys.exit
            code = exc.code if isinstance(exc.code, int) else 1
    return CliResult(code, out.getvalue(), err.getvalue())


def trust(workdir: Path) -> Path:
    """Give the tests' people keys in ``workdir``, write its policy listing them, adopt it."""
    from governance.ledger import open_audit_log
    from governance.lifecycle.personas import Team, set_up_personas
    from governance.stores.settings import DEFAULT_POLICY, ensure_workdir, get_settings

    team = Team(
        owner=OWNER,
        authors=("maker", "intern"),
        validators=("validator", "risk-officer", OWNER),
        operators=("on-call",),
    )
    settings = ensure_workdir(get_settings(workdir))
    with open_audit_log(settings.audit_db_url) as audit:
        set_up_personas(settings, audit, DEFAULT_POLICY, team, MODEL)
    return workdir / "policy.yaml"


def adopt(workdir: Path, text: str) -> Path:
    """Write ``text`` as the work directory's policy and have the owner adopt it."""
    path = Path(workdir) / "policy.yaml"
    path.write_text(text)
    done = run_govern(["policy", "adopt", str(path), "--as", OWNER, "--workdir", str(workdir)])
    assert done.exit_code == 0, done.output
    return path


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
