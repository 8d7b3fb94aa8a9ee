"""The impact family's models against the generator's ground truth, over five seeds.

Usage: ``python bench/regret.py [--seeds 1 2 3 4 5]``. For each seed: the demo's data set
(200,000 orders, 60 days), an out-of-time split, the candidate and the baseline fitted, and
on the holdout (about 40,000 orders) each model's RMSE to the true expected cost and its
policy's mean regret on the horizon grid (how ``tests/models/ground_truth_scores.py``
defines them), with a cost-blind constant alongside; then the same regret at the desk's
production participation (10 %) on the holdout's blocks of 1 % of ADV or more.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# The tests are not installed: make the checkout's tests/ importable however this is started.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.models.ground_truth_scores import recovery_scores  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    scores = recovery_scores(args.seeds)
    elapsed = time.perf_counter() - start
    print(
        f"# Ground truth recovered: RMSE to the true cost / mean regret per order (bps)\n\n"
        f"{len(args.seeds)} seeds in {elapsed:.0f} s; load average {load:.2f} at the start, "
        f"{os.getloadavg()[0]:.2f} at the end, on {os.cpu_count()} CPUs.\n"
    )
    print("| seed | candidate (law + residual) | sqrt-law ridge baseline | constant (cost-blind) |")
    print("|---:|---|---|---|")
    for seed, row in scores.items():
        cells = [
            f"{row[m].rmse:.2f} / {row[m].regret:.3f}"
            for m in ("candidate", "baseline", "constant")
        ]
        print(f"| {seed} | " + " | ".join(cells) + " |")
    print(
        "\nAt the production participation (10 %), blocks of 1 % of ADV or more: mean regret "
        "per order (bps)\n\n| seed | candidate | baseline | constant (cost-blind) |\n"
        "|---:|---|---|---|"
    )
    for seed, row in scores.items():
        cells = [f"{row[m].block_regret:.3f}" for m in ("candidate", "baseline", "constant")]
        print(f"| {seed} | " + " | ".join(cells) + " |")
    wins = sum(r["candidate"].block_regret < r["constant"].block_regret for r in scores.values())
    print(
        f"\nCandidate below the cost-blind rule on blocks at 10 %: {wins} of {len(scores)} seeds."
    )
    better = all(
        r["candidate"].rmse <= r["baseline"].rmse and r["candidate"].regret <= r["baseline"].regret
        for r in scores.values()
    )
    print(f"\nCandidate at least as good as the baseline on both, on every seed: {better}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
