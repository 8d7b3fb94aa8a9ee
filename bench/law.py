"""The impact law the candidate fits, against the generator's, over five seeds.

Usage: ``python bench/law.py [--seeds 1 2 3 4 5] [--orders 200000]``. For each seed: the
demo's data set (60 days), the family's training frame and target, and
:func:`models.impact.law.fit_impact_law` fitted twice on all of it, once with the pre-trade
volatility estimate the family uses (``daily_vol``) and once with the true same-day
volatility (``true_daily_vol``, which no desk has). The fitted exponents are compared with
the Almgren et al. (2005) law the generator draws costs from (``beta`` 0.6, ``delta`` 0.25,
``eta`` 0.142, ``gamma`` 0.314, fitted as the coefficient ``gamma / 2`` of the
permanent term since an order pays half its own permanent move); the goal is both
exponents within 0.05 of the truth on at least four of five seeds with the pre-trade
estimate.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models import get_family  # noqa: E402
from models.impact.law import fit_impact_law  # noqa: E402
from models.impact.model import LAW_INPUTS  # noqa: E402
from synthetic import SynthConfig, generate  # noqa: E402
from synthetic.ground_truth import BETA, DELTA, ETA, GAMMA  # noqa: E402

TOLERANCE = 0.05


def fitted_laws(seed: int, orders: int) -> dict[str, dict[str, float]]:
    """The law fitted with the pre-trade and with the true volatility, on one seed."""
    family = get_family("execution-impact")
    frame = family.training_frame(generate(SynthConfig(seed=seed, orders=orders)).as_dict())
    x, y = family.features(frame), family.target(frame)
    true_vol = x.assign(daily_vol=frame["true_daily_vol"].to_numpy())
    return {
        source: fit_impact_law(y, **{n: inputs[n].to_numpy() for n in LAW_INPUTS}).as_dict()
        for source, inputs in (("pre-trade", x), ("true", true_vol))
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--orders", type=int, default=200_000)
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    print(
        f"# Fitted impact law against the generator's (beta {BETA}, delta {DELTA}, "
        f"eta {ETA}, gamma/2 {GAMMA / 2:g}: an order pays half its permanent move)\n\n"
        "| seed | volatility | beta | delta | eta | gamma/2 |\n|---:|---|---:|---:|---:|---:|"
    )
    within = 0
    for seed in args.seeds:
        laws = fitted_laws(seed, args.orders)
        for source, law in laws.items():
            print(
                f"| {seed} | {source} | {law['beta']:.2f} | {law['delta']:.2f} | "
                f"{law['temporary_coef']:.3f} | {law['permanent_coef']:.3f} |"
            )
        pre = laws["pre-trade"]
        within += (
            abs(pre["beta"] - BETA) <= TOLERANCE + 1e-9
            and abs(pre["delta"] - DELTA) <= TOLERANCE + 1e-9
        )
    print(
        f"\nBoth exponents within {TOLERANCE} of the truth with the pre-trade estimate: "
        f"{within} of {len(args.seeds)} seeds (goal: 4 of 5). {time.perf_counter() - start:.0f} s; "
        f"load average {load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end, on "
        f"{os.cpu_count()} CPUs."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
