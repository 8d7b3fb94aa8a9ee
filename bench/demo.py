"""Time ``govern demo`` end to end in a fresh work directory, and ``govern --help``.

Usage: ``python bench/demo.py [--orders N]``. Prints the wall time of the whole demo
(two governed retrains, two sign-offs), the stage table of each retrain as the CLI
reports it, and the start-up cost of the CLI itself.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOVERN = str(Path(sys.executable).with_name("govern"))


def _timed(args: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(
            f"{' '.join(args)} failed with exit code {done.returncode}:\n{done.stderr[-3000:]}"
        )
    return elapsed, done.stdout


def _stage_tables(stdout: str) -> list[str]:
    return ["Stage timings" + part.split("\n\n")[0] for part in stdout.split("Stage timings")[1:]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=200_000)
    args = parser.parse_args()
    help_times = [_timed([GOVERN, "--help"])[0] for _ in range(5)]
    with tempfile.TemporaryDirectory() as tmp:
        wall, stdout = _timed(
            [GOVERN, "demo", "--workdir", str(Path(tmp) / "w"), "--orders", str(args.orders)]
        )
    print(f"govern --help: best {min(help_times):.2f} s of 5")
    print(f"govern demo --orders {args.orders}: {wall:.1f} s wall (two retrains + sign-offs)")
    for day, table in enumerate(_stage_tables(stdout), start=1):
        print(f"\nretrain {day}\n{table}")


if __name__ == "__main__":
    main()
