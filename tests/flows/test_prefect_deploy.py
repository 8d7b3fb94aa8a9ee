"""``infra/prefect.yaml`` deployed on a real Prefect server, with the README's commands."""

import os
import subprocess
import sys
from pathlib import Path

import anyio
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL

ROOT = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))
DEPLOYMENTS = {"nightly", "await-signoff", "rollback", "promote", "decommission"}


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


def test_the_readme_commands_deploy_every_flow_with_its_schedule(prefect_server, small_data_dir):
    env = {
        **os.environ,
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "GOVERN_PROJECT_DIR": str(ROOT),
        "GOVERN_DATA_DIR": str(small_data_dir),
    }
    _prefect("work-pool", "create", "governance", "--type", "process", env=env)
    _prefect("deploy", "--all", "--prefect-file", "infra/prefect.yaml", env=env)
    listed = _prefect("deployment", "ls", env=env)  # the call that answered 422 before
    assert "nightly" in listed.stdout

    deployed = anyio.run(_deployments)
    assert DEPLOYMENTS <= set(deployed)
    nightly = deployed["nightly"]
    assert nightly.work_pool_name == "governance"
    (schedule,) = nightly.schedules
    assert schedule.schedule.cron == "30 22 * * 1-5" and schedule.schedule.timezone == "UTC"
    config = nightly.parameters["config"]
    assert config["data_dir"] == str(small_data_dir)
    assert config["author"] == "scheduled-retraining"
