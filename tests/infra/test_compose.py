"""The wiring of ``infra/compose.yaml``, checked without a container engine.

Services, ports, variables and the URLs that join them agree with each other; the images
are pinned; every command a service runs exists in the installed packages with the
options the file gives it.
"""

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

INFRA = Path(__file__).resolve().parents[2] / "infra"
COMPOSE = yaml.safe_load((INFRA / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
BIN = Path(sys.executable).parent
WORKER_ENV = SERVICES["prefect-worker"]["environment"]


def _variables(text: str) -> set[str]:
    return set(re.findall(r"\$\{(\w+)\}", text))


def _option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_every_part_of_the_pipeline_has_a_service():
    assert set(SERVICES) == {
        "postgres",
        "minio",
        "minio-bucket",
        "mlflow",
        "prefect-server",
        "prefect-worker",
        "dask-scheduler",
        "dask-worker",
    }
    for name, service in SERVICES.items():
        assert set(service.get("depends_on", [])) <= set(SERVICES), name


def test_variables_are_exactly_those_of_the_example_env_file():
    example = (INFRA / "compose.env.example").read_text()
    defined = {line.split("=", 1)[0] for line in example.splitlines() if re.match(r"^\w+=", line)}
    assert _variables((INFRA / "compose.yaml").read_text()) == defined


def test_images_are_pinned_and_host_ports_unique():
    for name, service in SERVICES.items():
        if "image" in service:
            image, _, tag = service["image"].partition(":")
            assert tag and tag != "latest", name
        else:
            assert service["build"]["dockerfile"] == "infra/Dockerfile", name
    published = [p.split(":")[0] for s in SERVICES.values() for p in s.get("ports", [])]
    assert len(published) == len(set(published))


def test_the_urls_the_services_use_point_at_each_other():
    mlflow = SERVICES["mlflow"]["command"]
    tracking = urlsplit(WORKER_ENV["MLFLOW_TRACKING_URI"])
    assert (tracking.hostname, str(tracking.port)) == ("mlflow", _option(mlflow, "--port"))
    api = urlsplit(WORKER_ENV["PREFECT_API_URL"])
    prefect = SERVICES["prefect-server"]["command"]
    assert (api.hostname, str(api.port)) == ("prefect-server", _option(prefect, "--port"))
    scheduler = urlsplit(SERVICES["dask-worker"]["command"][2])
    port = _option(SERVICES["dask-scheduler"]["command"], "--port")
    assert (scheduler.hostname, str(scheduler.port)) == ("dask-scheduler", port)
    # The audit log shares MLflow's backend database, which the init script creates.
    backend = urlsplit(_option(mlflow, "--backend-store-uri"))
    audit = urlsplit(WORKER_ENV["GOVERN_AUDIT_DB_URL"])
    assert (
        (audit.hostname, audit.path) == (backend.hostname, backend.path) == ("postgres", "/mlflow")
    )
    prefect_db = urlsplit(
        SERVICES["prefect-server"]["environment"]["PREFECT_API_DATABASE_CONNECTION_URL"]
    )
    created = re.findall(r"CREATE DATABASE (\w+);", (INFRA / "postgres-init.sql").read_text())
    assert {backend.path[1:], prefect_db.path[1:]} == set(created)
    bucket = urlsplit(_option(mlflow, "--artifacts-destination")).netloc
    assert f"store/{bucket}" in SERVICES["minio-bucket"]["command"][0]
    # The worker is the governance service: deployments' data and keys are where it reads.
    assert WORKER_ENV["GOVERN_DATA_DIR"].startswith("/data/")
    mounts = {v.split(":")[1] for v in SERVICES["prefect-worker"]["volumes"]}
    assert {"/data", WORKER_ENV["GOVERN_KEYS_DIR"], WORKER_ENV["GOVERN_HOME"]} <= mounts


def test_the_image_installs_extras_the_package_declares():
    dockerfile = (INFRA / "Dockerfile").read_text()
    (extras,) = re.findall(r'pip install --no-cache-dir "\.\[([\w,]+)\]"', dockerfile)
    pyproject = tomllib.loads((INFRA.parent / "pyproject.toml").read_text())
    assert set(extras.split(",")) <= set(pyproject["project"]["optional-dependencies"])


@pytest.mark.parametrize(
    "name", ["mlflow", "prefect-server", "prefect-worker", "dask-scheduler", "dask-worker"]
)
def test_each_command_exists_with_the_options_it_is_given(name):
    command = SERVICES[name]["command"]
    words = [w for w in command if not w.startswith("-") and "://" not in w and not w.isdigit()]
    executable, subcommands = words[0], words[1:2] if words[0] != "prefect" else words[1:3]
    done = subprocess.run(
        [str(BIN / executable), *subcommands, "--help"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    for option in (w for w in command if w.startswith("--")):
        assert option in done.stdout, (name, option)
