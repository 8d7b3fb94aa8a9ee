"""Benchmark of the challenger comparison: real coverage of its interval, power, pass rate.

Simulates many out-of-time holdouts (12 trading days of about 3,300 orders each, the demo's
holdout) with the synthetic generator's own mechanism: its asset universe (held fixed, so
that every holdout is drawn from one market and the true loss difference is defined),
calm/volatile days, the shared intraday price path the timing noise is read from (market,
day and asset components), trailing volatility, urgency-driven horizons and jumps. Models
are fitted once on two independent 48-day training sets A and B of the same market:

* the reference (the champion) is the generator's cost law refitted on A
  (``tests/validation/cost_law.py``: three parameters by least squares on the
  market-adjusted shortfall; a good, ground-truth-based model with estimation noise);
* "honest retrain" is the same law refitted on B;
* the damaged candidates are the reference's predictions x0.5 and x1.5, the reference plus
  N(0, 10 bps) noise, and the law refitted on A with the day's volatility or the
  participation held at its training mean (a feature ignored);
* the family's own models, each retrained on B and judged against itself fitted on A: the
  square-root-law ridge baseline and, with ``--candidate``, the candidate (the fitted
  impact law plus its residual booster).

For each holdout the pipeline's comparison is run on the family's target, the
market-adjusted shortfall (:func:`validation.comparison.compare_paired`, margin from the
shipped policy, naive predictor = the holdout's mean, as the pipeline's) and, for contrast, the
former percentile day-block bootstrap interval. Two targets are covered:

* the true difference over the market's days, ``E[(c - mu)^2 - (r - mu)^2]`` with ``mu`` the
  ground-truth expected cost (:func:`synthetic.ground_truth.order_expected_cost_bps`; the
  noise has mean zero given the pre-trade features), estimated as the mean of the holdouts'
  noiseless differences;
* the expected difference on each holdout's own orders and days (its noiseless difference).

Two designs: ``generator`` draws the regimes as the generator does (a Markov chain whose
volatile spells last 5 days on average, so holdout days are not independent) and
``independent days`` draws each day's regime independently (the interval's assumption).

Usage (from the repository root)::

    python bench/comparison.py [--holdouts 400] [--orders-per-day 3300] [--candidate]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

# The tests are not installed: make the checkout's tests/ importable however this is started.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from governance.stores.settings import DEFAULT_POLICY  # noqa: E402
from models.impact import ImpactFamily  # noqa: E402
from synthetic import SynthConfig, trade  # noqa: E402
from synthetic.ground_truth import order_expected_cost_bps  # noqa: E402
from synthetic.market import Regimes, Universe, draw_regimes, draw_universe  # noqa: E402
from tests.validation.cost_law import fit_cost_law  # noqa: E402
from validation.comparison import VERDICTS, compare_paired  # noqa: E402
from validation.policy import parse_policy  # noqa: E402

HOLDOUT_DAYS = 12
TRAIN_DAYS = 48
LEVEL = 0.95
COVERAGE_GOAL = (0.93, 0.97)
MARGIN_FRACTION = (
    parse_policy(DEFAULT_POLICY.read_text()).for_model("execution-impact").non_inferiority_margin
)
FAMILY = ImpactFamily()
# Only the ridge baseline of this fit is used: one boosting round keeps the booster cheap.
RIDGE_FAMILY = ImpactFamily(max_boost_rounds=1)

Predict = Callable[[pd.DataFrame, np.random.Generator], np.ndarray]
Tables = tuple[pd.DataFrame, pd.DataFrame]


def _regimes(cfg: SynthConfig, rng: np.random.Generator, independent: bool) -> Regimes:
    """The generator's regimes, or the same with every day drawn independently."""
    regimes = draw_regimes(cfg, rng)
    if not independent:
        return regimes
    p = cfg.volatile_probability
    volatile = rng.random(cfg.days) < p
    history = rng.random(regimes.history_vol_multiplier.size) < p
    return dataclasses.replace(
        regimes,
        volatile=volatile,
        vol_multiplier=np.where(volatile, cfg.volatile_multiplier, 1.0),
        history_vol_multiplier=np.where(history, cfg.volatile_multiplier, 1.0),
    )


def simulate(
    universe: Universe, days: int, orders: int, rng: np.random.Generator, independent: bool
) -> Tables:
    """``days`` trading days of the fixed market: the executions and market bars tables."""
    cfg = SynthConfig(days=days, orders=orders, assets=universe.names.size)
    regimes = _regimes(cfg, rng, independent)
    executions, bars = trade(cfg, universe, regimes, rng, rng)
    # The family's frame: with the market move its market-adjusted target subtracts.
    tables = {"executions": executions, "market_bars": bars}
    return FAMILY.training_frame(tables), bars


def _law(train: Tables, hold: tuple[str, ...] = ()) -> Predict:
    law = fit_cost_law(*train, hold=hold)
    return lambda frame, _: law.predict(frame)


def _family(train: pd.DataFrame, model: str) -> Predict:
    """The family's candidate (law plus residual booster) or its ridge baseline."""
    if model == "ridge":
        fitted = RIDGE_FAMILY.fit(train, seed=0).baselines["sqrt_law_ridge"]
    else:
        fitted = FAMILY.fit(train, seed=0).candidate
    return lambda frame, _: np.asarray(fitted.predict(FAMILY.features(frame)), dtype=float)


def fit_pairs(
    train_a: Tables, train_b: Tables, candidate: bool
) -> dict[str, tuple[Predict, Predict, str]]:
    """``{candidate: (candidate, reference, reference name)}``, every model fitted once."""
    law = _law(train_a)

    def noisy(frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
        return law(frame, rng) + rng.normal(0.0, 10.0, len(frame))

    pairs = {
        "honest retrain (law refitted on B)": (_law(train_b), law, "law"),
        "scale x0.5": (lambda f, rng: 0.5 * law(f, rng), law, "law"),
        "scale x1.5": (lambda f, rng: 1.5 * law(f, rng), law, "law"),
        "noise N(0, 10 bps)": (noisy, law, "law"),
        "volatility ignored": (_law(train_a, ("true_daily_vol",)), law, "law"),
        "participation ignored": (_law(train_a, ("participation",)), law, "law"),
        "ridge retrained on B": (
            _family(train_b[0], "ridge"),
            _family(train_a[0], "ridge"),
            "ridge",
        ),
    }
    if candidate:
        pairs["candidate retrained on B"] = (
            _family(train_b[0], "candidate"),
            _family(train_a[0], "candidate"),
            "candidate",
        )
    return pairs


def percentile_bootstrap(
    diff: np.ndarray, days: np.ndarray, rng: np.random.Generator
) -> tuple[float, float]:
    """The former interval: percentile bootstrap of whole days (codes 0..n-1), 2,000 draws."""
    n_days = days.max() + 1
    total = np.bincount(days, weights=diff, minlength=n_days)
    count = np.bincount(days, minlength=n_days).astype(float)
    draws = rng.multinomial(n_days, np.full(n_days, 1.0 / n_days), size=2_000)
    means = (draws @ total) / (draws @ count)
    low, high = np.quantile(means, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return float(low), float(high)


def _covered(low: pd.Series, high: pd.Series, truth: float | pd.Series) -> float:
    return float(((low <= truth) & (truth <= high)).mean())


def run_design(
    universe: Universe,
    pairs: dict[str, tuple[Predict, Predict, str]],
    holdouts: int,
    per_day: int,
    independent: bool,
    seed: int,
) -> pd.DataFrame:
    """Judge every pair on ``holdouts`` simulated holdouts; one row per pair."""
    orders = HOLDOUT_DAYS * per_day
    rng = np.random.default_rng(seed)
    records = []
    for _ in range(holdouts):
        frame, _ = simulate(universe, HOLDOUT_DAYS, orders, rng, independent)
        y, mu = FAMILY.target(frame), order_expected_cost_bps(frame)
        days, _ = pd.factorize(frame[FAMILY.time_column].dt.floor("D"))
        for name, (candidate, reference, _) in pairs.items():
            c, r = candidate(frame, rng), reference(frame, rng)
            judged = compare_paired("reference", y, c, r, days, MARGIN_FRACTION)
            low, high = percentile_bootstrap((c - y) ** 2 - (r - y) ** 2, days, rng)
            records.append(
                {
                    "candidate": name,
                    # What the comparison estimates without the outcome noise: the expected
                    # difference on this holdout's orders and days.
                    "noiseless": float(np.mean((c - mu) ** 2 - (r - mu) ** 2)),
                    "ci_low": judged.ci_low,
                    "ci_high": judged.ci_high,
                    "old_low": low,
                    "old_high": high,
                    "verdict": judged.verdict,
                    "skill": judged.skill,
                    "margin": judged.margin,
                }
            )
    rows = []
    for name, group in pd.DataFrame(records).groupby("candidate", sort=False):
        # The true difference over the market's days: the noiseless differences averaged over
        # every simulated holdout (each holdout weighs 1/holdouts in it).
        truth = group["noiseless"].mean()
        shares = group["verdict"].value_counts(normalize=True)
        rows.append(
            {
                "candidate": name,
                "reference": pairs[name][2],
                "true diff": truth,
                "diff / skill": truth / group["skill"].mean(),
                "coverage t": _covered(group["ci_low"], group["ci_high"], truth),
                "coverage old": _covered(group["old_low"], group["old_high"], truth),
                "coverage t, these days": _covered(
                    group["ci_low"], group["ci_high"], group["noiseless"]
                ),
                **{v: shares.get(v, 0.0) for v in VERDICTS},
                "skill": group["skill"].mean(),
                "margin": group["margin"].mean(),
            }
        )
    return pd.DataFrame(rows)


def _markdown(design: str, table: pd.DataFrame, holdouts: int) -> str:
    lines = [
        f"\n### {design}: {holdouts} holdouts of {HOLDOUT_DAYS} days\n",
        "| candidate | reference (skill, margin bps²) | true diff (bps²) | / skill "
        "| coverage, t (new) | coverage, percentile bootstrap (old) | coverage of these "
        "days' difference, t | better | non-inferior | worse | inconclusive |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table.to_dict(orient="records"):
        lines.append(
            f"| {r['candidate']} | {r['reference']} ({r['skill']:.0f}, {r['margin']:.1f}) "
            f"| {r['true diff']:+.1f} | {r['diff / skill']:+.2f} | {r['coverage t']:.1%} "
            f"| {r['coverage old']:.1%} | {r['coverage t, these days']:.1%} "
            f"| {r['better']:.0%} | {r['non-inferior']:.0%} "
            f"| {r['worse']:.0%} | {r['inconclusive']:.0%} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holdouts", type=int, default=400)
    parser.add_argument("--orders-per-day", type=int, default=3_300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--candidate", action="store_true", help="also judge the family's candidate, retrained"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(args.seed).spawn(3)]
    universe = draw_universe(SynthConfig(), streams[0])
    train_orders = TRAIN_DAYS * args.orders_per_day
    train_a, train_b = (
        simulate(universe, TRAIN_DAYS, train_orders, rng, independent=False) for rng in streams[1:]
    )
    pairs = fit_pairs(train_a, train_b, args.candidate)
    print(
        f"# Challenger comparison: {LEVEL:.0%} interval coverage and verdicts by simulation\n\n"
        f"Interval: t over trading days (cluster-robust, n_days - 1 dof); goal for coverage "
        f"{COVERAGE_GOAL[0]:.0%}-{COVERAGE_GOAL[1]:.0%}. Margin: {MARGIN_FRACTION:.0%} of the "
        f"reference's skill over the holdout-mean predictor. Gates pass better and "
        f"non-inferior only."
    )
    for offset, (design, independent) in enumerate(
        (("generator (Markov regimes)", False), ("independent days", True))
    ):
        table = run_design(
            universe,
            pairs,
            args.holdouts,
            args.orders_per_day,
            independent,
            args.seed + offset,
        )
        print(_markdown(design, table, args.holdouts), flush=True)
    print(f"\nwall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
