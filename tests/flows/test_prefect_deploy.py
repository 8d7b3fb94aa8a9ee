"""``infra/prefect.yaml`` on a real Prefect server and worker, with the commands of docs/servers.md.

The commands are the ones "Running at scale" lists: create the work pool, deploy, start
a worker, trigger ``nightly``. The worker runs the retrain in its own process under the
scheduled-retraining service's identity, and hands the version to a sign-off run that
suspends for a validator's decision.
"""

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from govern_cli import MODEL, OWNER, run_govern
from polling import wait_for
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
from prefect.settings import PREFECT_API_URL

from governance.ledger import open_audit_log
from governance.ledger.replay import replay
from governance.stores.settings import get_settings
from vocabulary import Lifecycle

ROOT = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))
DEPLOYMENTS = {"nightly", "await-signoff", "rollback", "promote", "decommission"}
SERVICE = "scheduled-retraining"


def _prefect(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [PREFECT, "--no-prompt", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


async def _deployments() -> dict[str, object]:
    async with get_client() as client:
        return {d.name: d for d in await client.read_deployments()}


def _flow_runs(deployment: str) -> list:
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[deployment]))
        )


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM a process and everything it started; SIGKILL what is left after 30 s."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def service_home(tmp_path_factory):
    """A work directory set up by ``govern init``, the nightly retrain's service an author."""
    home = tmp_path_factory.mktemp("desk")
    made = run_govern(
        [
            "init",
            "--owner", OWNER,
            "--author", SERVICE,
            "--validator", "validator",
            "--operator", "on-call",
            "--model", MODEL,
            "--workdir", str(home),
        ]
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    return home


@pytest.fixture(scope="module")
def desk_env(prefect_server, small_data_dir, service_home):
    """The environment docs/servers.md gives for deploying and for the worker."""
    return {
        **os.environ,
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "GOVERN_PROJECT_DIR": str(ROOT),
        "GOVERN_DATA_DIR": str(small_data_dir),
        "GOVERN_HOME": str(service_home),
    }


@pytest.fixture(scope="module")
def deployed(desk_env):
    _prefect("work-pool", "create", "governance", "--type", "process", env=desk_env)
    _prefect("deploy", "--all", "--prefect-file", "infra/prefect.yaml", env=desk_env)
    return desk_env


def test_the_readme_commands_deploy_every_flow_with_its_schedule(deployed, small_data_dir):
    listed = _prefect("deployment", "ls", env=deployed)  # the call that answered 422 before
    assert "nightly" in listed.stdout

    found = anyio.run(_deployments)
    assert DEPLOYMENTS <= set(found)
    nightly = found["nightly"]
    assert nightly.work_pool_name == "governance"
    (schedule,) = nightly.schedules
    assert schedule.schedule.cron == "30 22 * * 1-5" and schedule.schedule.timezone == "UTC"
    config = nightly.parameters["config"]
    assert config["data_dir"] == str(small_data_dir)
    assert config["author"] == SERVICE


def test_a_worker_runs_nightly_under_the_service_identity(deployed, service_home):
    # Poll every second rather than Prefect's default 10 s, to keep the test short.
    worker_env = {**deployed, "PREFECT_WORKER_QUERY_SECONDS": "1"}
    worker = subprocess.Popen(
        [PREFECT, "worker", "start", "--pool", "governance"],
        cwd=ROOT,
        env=worker_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its flow-run processes stop with it
    )
    try:
        _prefect("deployment", "run", "retrain/nightly", env=deployed)
        (nightly,) = wait_for(
            lambda: [r for r in _flow_runs("nightly") if r.state and r.state.is_final()],
            "the nightly retrain to finish on the worker",
            timeout=420,
        )
        assert nightly.state.is_completed(), nightly.state
        (signoff,) = wait_for(
            lambda: [r for r in _flow_runs("await-signoff") if r.state.name == "Suspended"],
            "the sign-off run it started to suspend for a decision",
            timeout=180,
        )
    finally:
        _stop_group(worker)

    assert signoff.parameters["model"] == MODEL and signoff.parameters["version"] == "1"
    with open_audit_log(get_settings(service_home).audit_db_url) as audit:
        events = audit.events(model=MODEL)
    trained = next(e for e in events if e.action == "candidate.trained")
    assert trained.actor == SERVICE
    assert trained.payload["signed"]["statement"]["signer"] == SERVICE
    assert replay(events)[MODEL].state("1").lifecycle == Lifecycle.PENDING_SIGNOFF
