"""Benchmark the data contracts: rows/s on 1,000,000 executions plus bars and RFQs.

Run from the repository root::

    GX_ANALYTICS_ENABLED=false PYTHONPATH=. .venv/bin/python bench/contracts.py [--orders N]

"Cold" is each table's first run in the process: for the first table it includes
creating the ephemeral GX context, and for every table building and registering its
suite (the Great Expectations import is timed separately). "Warm" is the best and the
median of the following runs. The target is >= 1,000,000 rows/s on executions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from synthetic import SynthConfig, generate  # noqa: E402
from validation.data_contracts import run_contracts  # noqa: E402

TARGET_ROWS_PER_S = 1_000_000


def _timed_run(tables: dict, name: str) -> tuple[float, float, float, bool]:
    start = time.perf_counter()
    report = run_contracts(tables, [name])
    wall = time.perf_counter() - start
    run = report.tables[0]
    return wall, run.prepare_seconds, run.validate_seconds, report.passed


def _bench_table(tables: dict, name: str, repeats: int) -> None:
    rows = len(tables[name])
    cold, prep, gx_s, passed = _timed_run(tables, name)
    warm = [_timed_run(tables, name) for _ in range(repeats)]
    walls = [w[0] for w in warm]
    best, median = min(walls), statistics.median(walls)
    best_run = warm[walls.index(best)]
    print(
        f"{name:12s} {rows:>9,d} rows  passed={passed}\n"
        f"  cold  {cold:7.3f} s  {rows / cold:>12,.0f} rows/s"
        f"  (derive {prep:.3f} s, GX {gx_s:.3f} s)\n"
        f"  warm  {best:7.3f} s  {rows / best:>12,.0f} rows/s best"
        f"  (derive {best_run[1]:.3f} s, GX {best_run[2]:.3f} s);"
        f"  median {median:.3f} s = {rows / median:,.0f} rows/s"
    )


def main() -> None:
    """Generate the data, then time each table's contract cold and warm."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    start = time.perf_counter()
    data = generate(SynthConfig(orders=args.orders, seed=7))
    tables = data.as_dict()
    sizes = ", ".join(f"{k}={len(v):,d}" for k, v in tables.items())
    print(f"generated in {time.perf_counter() - start:.2f} s: {sizes}")

    start = time.perf_counter()
    import great_expectations  # noqa: F401

    print(f"import great_expectations: {time.perf_counter() - start:.2f} s")
    for name in ("executions", "market_bars", "rfq"):
        _bench_table(tables, name, args.repeats)
    print(f"target: >= {TARGET_ROWS_PER_S:,d} rows/s on executions")


if __name__ == "__main__":
    main()
