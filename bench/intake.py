"""Time a refused snapshot: ``govern retrain`` on 20,000 orders with an infinity in ``qty``.

The refusal (exit 3, one ``data.rejected`` event) happens before the workflow engine and
the data-contract engine start; goal (issue 8, item 8): under 3 s. Runs the command three
times in fresh work directories and prints each wall time and the load average.

Usage: ``python bench/intake.py [--orders 20000]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from synthetic import SynthConfig, generate, write

GOVERN = str(Path(sys.executable).with_name("govern"))
GOAL_SECONDS = 3.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        write(generate(SynthConfig(orders=args.orders, days=50, assets=6, seed=21)), data)
        executions = pd.read_parquet(data / "executions.parquet")
        executions.loc[executions.index[:3], "qty"] = np.inf
        executions.to_parquet(data / "executions.parquet")
        load = os.getloadavg()
        seconds = []
        for attempt in range(3):
            workdir = Path(tmp) / f"w{attempt}"
            started = time.perf_counter()
            done = subprocess.run(
                [GOVERN, "retrain", "--data", str(data), "--workdir", str(workdir)],
                capture_output=True,
                text=True,
                check=False,
            )
            seconds.append(time.perf_counter() - started)
            if done.returncode != 3:
                sys.exit(f"expected exit 3, got {done.returncode}:\n{done.stderr[-2000:]}")
    best, worst = min(seconds), max(seconds)
    print(
        f"refused {args.orders:,}-order snapshot (exit 3): "
        f"{', '.join(f'{s:.2f}' for s in seconds)} s; goal < {GOAL_SECONDS:g} s: "
        f"{'met' if worst < GOAL_SECONDS else 'NOT met'} (best {best:.2f} s). "
        f"Load average {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f} on {os.cpu_count()} CPUs."
    )


if __name__ == "__main__":
    main()
