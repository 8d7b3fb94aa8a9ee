"""Cost of attributing every decision: the compiled decision with and without its log.

One run: trains the candidate on generator data (seed 42), compiles its policy, then times
one order's decision (:func:`validation.latency.measure_latency`: CPU time per call, quiet
batches, the latency gate's statistic) without a log and with the governed loader's
:class:`~governance.loader.decisions.DecisionLog` (batches of 4,096 decisions, 1 s age
limit, Parquet files in a temporary folder), in turn, twice each, so that drift of the
machine shows, each after 8,192 untimed decisions (a running engine's steady state).
Then 100,000 decisions each way for the mean wall time per decision, the flushes included.
Goal: p99 of a logged decision within 2x of an unlogged one.

Usage: ``python bench/decisions.py [--orders 20000]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from governance.loader.decisions import DecisionLog
from models import get_family, out_of_time_split
from synthetic import SynthConfig, generate
from validation.latency import measure_latency

MODEL = "execution-impact"
GOAL_P99_RATIO = 2.0
STREAM = 100_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    args = parser.parse_args()
    load_before = os.getloadavg()
    family = get_family(MODEL)
    tables = generate(SynthConfig(orders=args.orders, seed=42)).as_dict()
    split = out_of_time_split(family.training_frame(tables), family.time_column, 0.2)
    policy = family.compile(family.fit(split.train, seed=0).candidate)
    orders = policy.arguments(split.holdout.head(1000).assign(start_minute=30.0))
    with tempfile.TemporaryDirectory() as folder:
        log = DecisionLog(Path(folder), MODEL, "1", policy.argument_names, policy.decision_names)
        counter = iter(range(10**9))

        def unlogged() -> object:
            return policy.decide_one(*orders[next(counter) % len(orders)])

        def logged() -> object:
            n = next(counter)
            fields = orders[n % len(orders)]
            decision = policy.decide_one(*fields)
            log.record(f"ord-{n}", fields, decision)
            return decision

        # A running engine's steady state: two files' worth of decisions before timing, so
        # that the allocator's arenas the buffer grows into are warm (a cold first batch
        # faults in fresh pages every few dozen decisions).
        warm = 2 * log.flush_every
        rows = [
            (name, measure_latency(call, warmup=warm))
            for name, call in [("unlogged", unlogged), ("logged", logged)] * 2
        ]
        stream = {
            name: _mean_wall_us(call) for name, call in [("unlogged", unlogged), ("logged", logged)]
        }
        log.close()
        files = len(list(Path(folder).rglob("*.parquet")))
    load_after = os.getloadavg()
    _report(rows, stream, files, load_before, load_after)


def _mean_wall_us(call: object) -> float:
    start = time.perf_counter()
    for _ in range(STREAM):
        call()  # type: ignore[operator]
    return 1e6 * (time.perf_counter() - start) / STREAM


def _report(rows, stream, files, load_before, load_after) -> None:
    print("# Attributing each decision (compiled policy, one order)\n")
    print(
        f"{os.cpu_count()} CPUs; load average (1/5/15 min) "
        f"{'/'.join(f'{x:.2f}' for x in load_before)} at the start, "
        f"{'/'.join(f'{x:.2f}' for x in load_after)} at the end.\n"
    )
    print("| run | path | CPU p50 us | CPU p99 us | wall p99 us | conclusive |")
    print("|---|---|---:|---:|---:|---|")
    for turn, (name, m) in enumerate(rows, 1):
        print(
            f"| {(turn + 1) // 2} | {name} | {1e3 * m['p50_ms']:.2f} | {1e3 * m['p99_ms']:.2f} "
            f"| {1e3 * m['wall_p99_ms']:.2f} | {'yes' if m['conclusive'] else 'no'} |"
        )
    ratios = [rows[i + 1][1]["p99_ms"] / rows[i][1]["p99_ms"] for i in (0, 2)]
    verdict = "met" if max(ratios) <= GOAL_P99_RATIO else "NOT met"
    print(
        f"\np99 logged / unlogged: {ratios[0]:.2f} and {ratios[1]:.2f} "
        f"(goal <= {GOAL_P99_RATIO:g}: {verdict}).\n"
        f"{STREAM:,} decisions in a row, wall time per decision, flushes included: "
        f"unlogged {stream['unlogged']:.2f} us, logged {stream['logged']:.2f} us "
        f"({stream['logged'] / stream['unlogged']:.2f}x); {files} Parquet files written."
    )


if __name__ == "__main__":
    main()
