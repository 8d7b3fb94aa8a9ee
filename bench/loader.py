"""Time the governed loader as an execution engine meets it: import, load, first decision.

Each repeat is a fresh Python process that imports ``governance.load_champion``, loads the
champion of a work directory (chain, signatures, checkpoints, artifact hashes and the
release bundle verified) and makes its first decision on two orders; it prints the three
times and whether numba, the stress engine, the lineage reports or Prefect were imported.
Without ``--workdir`` a small ``govern demo`` makes one first. Goal (issue 18, item 4):
import plus first decision under 0.5 s on this machine.

Usage: ``python bench/loader.py [--workdir W] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

GOVERN = str(Path(sys.executable).with_name("govern"))
GOAL_SECONDS = 0.5
MODEL = "execution-impact"

_PROBE = """
import json, sys, time
started = time.perf_counter()
from governance import load_champion
import governance.loader.champion
imported = time.perf_counter()
champion = load_champion(sys.argv[1], workdir=sys.argv[2])
loaded = time.perf_counter()
import pandas as pd
orders = pd.DataFrame({"qty": [1e3, 5e5], "adv": 5e6, "daily_vol": 0.02, "spread_bps": 4.0,
                       "shares_outstanding": 5e8})
champion.decide(orders)
decided = time.perf_counter()
heavy = ["numba", "validation.stress.kernels", "validation.stress.engine",
         "lineage", "matplotlib", "prefect"]
print(json.dumps({"import": imported - started, "load": loaded - imported,
                  "decide": decided - loaded,
                  "heavy": [m for m in heavy if m in sys.modules],
                  "modules": len(sys.modules)}))
"""


def _demo_workdir(root: Path) -> Path:
    workdir = root / "w"
    subprocess.run(
        [GOVERN, "demo", "--orders", "20000", "--stress-paths", "500", "--workdir", str(workdir)],
        check=True,
        capture_output=True,
        env={**os.environ, "PREFECT_HOME": str(root / "prefect")},
    )
    return workdir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or _demo_workdir(Path(tmp))
        load = os.getloadavg()
        runs = []
        for _ in range(args.repeats):
            done = subprocess.run(
                [sys.executable, "-c", _PROBE, MODEL, str(workdir)],
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    median = {k: statistics.median(r[k] for r in runs) for k in ("import", "load", "decide")}
    first_decision = median["import"] + median["decide"]
    for i, run in enumerate(runs, 1):
        print(
            f"run {i}: import {run['import']:.3f} s, load {run['load']:.3f} s, first decision "
            f"{run['decide'] * 1e3:.1f} ms, {run['modules']} modules, heavy imported: "
            f"{run['heavy'] or 'none'}"
        )
    print(
        f"median: import {median['import']:.3f} s, load and verify {median['load']:.3f} s, "
        f"first decision {median['decide'] * 1e3:.1f} ms; import plus first decision "
        f"{first_decision:.3f} s, goal < {GOAL_SECONDS} s: "
        f"{'met' if first_decision < GOAL_SECONDS else 'NOT met'}. "
        f"Load average {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f} on {os.cpu_count()} CPUs."
    )


if __name__ == "__main__":
    main()
