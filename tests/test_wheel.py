"""The built wheel works on its own: installed into a fresh environment, run outside the checkout.

Package data (the default policy, the scenario library, the report stylesheet) must be found
through ``importlib.resources``, never relative to the source tree.
"""

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from processes import processes_with_env

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """Build the wheel and install it into a new virtualenv that borrows the dependencies.

    The dependencies are this environment's, added to the new one's path (a ``.pth`` line
    is not a site directory, so this environment's editable install of the checkout is not
    carried over); ``pip check`` then proves the wheel's declared requirements are met
    there. Downloading them again would test the package index, not the package.
    """
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("*.whl")
    env_dir = tmp_path_factory.mktemp("venv")
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    own_site = _site_packages(python)
    (own_site / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    for step in (["install", "--quiet", "--no-deps", str(wheel)], ["check"]):
        done = subprocess.run(
            [str(python), "-m", "pip", *step], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
    return env_dir / "bin"


def _site_packages(python: Path) -> Path:
    where = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(where.stdout.strip())


def _outside_the_checkout(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GOVERN_HOME")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    return {"cwd": tmp_path, "env": env, "capture_output": True, "text": True}


def test_the_wheel_carries_its_package_data(installed, tmp_path):
    probe = (
        "import governance.stores.settings as s, validation.stress.scenarios as sc, "
        "importlib.resources as r\n"
        "assert s.DEFAULT_POLICY.is_file(), s.DEFAULT_POLICY\n"
        "assert 'site-packages' in str(s.DEFAULT_POLICY), s.DEFAULT_POLICY\n"
        "lib = sc.load_scenarios()\n"
        "assert 'baseline' in lib.names and len(lib.sha256) == 64\n"
        "assert r.files('lineage').joinpath('report.css').is_file()\n"
    )
    done = subprocess.run(
        [str(installed / "python"), "-c", probe], **_outside_the_checkout(tmp_path)
    )
    assert done.returncode == 0, done.stderr


def test_the_installed_demo_runs_from_an_empty_directory(installed, tmp_path):
    run = _outside_the_checkout(tmp_path)
    done = subprocess.run(
        [str(installed / "govern"), "demo", "--orders", "5000", "--stress-paths", "500"],
        **run,
        timeout=900,
    )
    # Packaging is under test, not the model: on 5,000 orders the gates may reject the
    # candidate (exit 4), which proves the policy and the scenario library were found and
    # every stage ran; any other outcome is a failure.
    output = done.stdout[-3000:] + done.stderr[-3000:]
    assert done.returncode in (0, 4), output
    # One line per stage, and none of Prefect's own chatter; nothing outlives the command.
    for stage in ("day-1: synthesising", "execution-impact: data contracts", "stress backtests"):
        assert stage in done.stderr, output
    assert "Finished in state" not in done.stdout + done.stderr
    assert "Starting temporary server" not in done.stdout + done.stderr
    assert not processes_with_env(f"PREFECT_HOME={run['env']['PREFECT_HOME']}")
    if done.returncode == 4:
        assert "failed its gates" in done.stderr, output
    else:
        assert "Where to look" in done.stdout
    report = tmp_path / "v1.html"
    lineage = subprocess.run(
        [str(installed / "govern"), "lineage", "execution-impact", "1", "-o", str(report)], **run
    )
    assert lineage.returncode == 0, lineage.stderr
    assert "<style>" in report.read_text() and "execution-impact" in report.read_text()
