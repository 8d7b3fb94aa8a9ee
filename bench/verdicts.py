"""Operating characteristic of the retrain's verdict: how often it passes what it should not.

For each seed the generator draws one desk's market over 120 trading days. The champion is
the impact family's candidate fitted on the first 48 of them (the 60-day snapshot before,
its own holdout left out); the candidate comes from the next 60-day snapshot, its training
days damaged (or not) the way real defects arise, and is judged exactly as ``govern
retrain`` judges it (:mod:`validation.judging`: comparison with the champion and the
baseline, the stress book scheduled by both policies, the stress library on common random
numbers, the paired decisions, every gate, the compiled decision's latency). Only the
orchestration and the data contracts are skipped.

Kinds of candidate (damage applied to the *training* rows only; the holdout is the desk's
real data):

========================  ===================================================================
honest                    no damage: fresh data of the same market
cost x1.5 / x0.67         ``shortfall_bps`` recorded 1.5 or 0.67 times too large
fees +6 / rebates -6 bps  a fixed 6 bps added to (or taken from) every recorded shortfall
noise 25 bps              N(0, 25 bps) added to every recorded shortfall
volatility unusable       ``daily_vol`` shuffled across the training rows (a broken join)
older regime              impact and volatility shift up (the generator's knob, x1.6 impact,
                          x1.5 volatility) halfway through the training days
stale                     the same shift on the first holdout day: a model trained before it
========================  ===================================================================

Ground truth (the generator's own expected cost ``mu`` of each holdout order, its day's
impact multiplier included) decides which candidates are *materially worse*: their true
squared error exceeds the champion's by more than the policy's margin (a share of the
champion's true skill over the holdout's mean cost), or their decisions' true objective
(expected cost plus the policy's risk penalty at the horizons they choose, on the
holdout's orders of the stress book's sizes) exceeds the champion's by more than the
decision margin, or their true mean bias exceeds 20 % of the true mean cost (twice the
policy's calibration limit: the gate refuses only a bias shown beyond 10 %). The
rates printed are the share of honest candidates rejected and the share of materially worse
candidates passed, with Wilson 95 % intervals, which checks decided each rejection and
whether the same check fails the champion's own schedule on the same book, and how often
the comparison's 95 % interval covers the honest candidate's true squared-error difference:
on the holdout's own orders, and over the market's long run (480 days of the same assets,
regimes as the generator draws them).

Usage (from the repository root)::

    python bench/verdicts.py [--seeds 20] [--first-seed 1000] [--orders 400000]
                             [--paths 4000] [--kinds honest stale ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from governance.stores.settings import DEFAULT_POLICY  # noqa: E402
from models import get_family  # noqa: E402
from models.impact.family import minute_of_session  # noqa: E402
from models.split import out_of_time_split  # noqa: E402
from synthetic import SynthConfig, generate  # noqa: E402
from synthetic.ground_truth import order_expected_cost_bps  # noqa: E402
from validation import judging  # noqa: E402
from validation.gates import GateCheck, stress_checks  # noqa: E402
from validation.latency import measure_latency  # noqa: E402
from validation.policy import parse_policy  # noqa: E402
from validation.stress import load_scenarios, run_stress  # noqa: E402
from validation.stress.catalogue import gate_table  # noqa: E402
from vocabulary import SESSION_MINUTES  # noqa: E402

MODEL = "execution-impact"
FAMILY = get_family(MODEL)
POLICY_FILE = parse_policy(DEFAULT_POLICY.read_text())
POLICY = POLICY_FILE.for_model(MODEL)
LIBRARY = load_scenarios()
DAYS, SNAPSHOT_DAYS, HOLDOUT_FRACTION = 120, 60, 0.2
SHIFT_IMPACT, SHIFT_VOL = 1.6, 1.5
LONG_RUN_ORDERS = 1_000_000

Damage = Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame]


def _scaled(factor: float) -> Damage:
    return lambda frame, rng: frame.assign(shortfall_bps=frame["shortfall_bps"] * factor)


def _shifted(bps: float) -> Damage:
    return lambda frame, rng: frame.assign(shortfall_bps=frame["shortfall_bps"] + bps)


def _noisy(bps: float) -> Damage:
    return lambda frame, rng: frame.assign(
        shortfall_bps=frame["shortfall_bps"] + rng.normal(0.0, bps, len(frame))
    )


def _shuffled(column: str) -> Damage:
    return lambda frame, rng: frame.assign(**{column: rng.permutation(frame[column].to_numpy())})


def _untouched(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return frame


@dataclasses.dataclass(frozen=True)
class Kind:
    """A kind of candidate: the damage to its training rows and where its market shifts."""

    name: str
    damage: Damage
    #: Day (of the 120) from which impact and volatility shift up; None: no shift.
    shift_day: int | None = None


_HOLDOUT_START = SNAPSHOT_DAYS + int(round(SNAPSHOT_DAYS * (1 - HOLDOUT_FRACTION)))
KINDS = {
    k.name: k
    for k in (
        Kind("honest", _untouched),
        Kind("cost x1.5", _scaled(1.5)),
        Kind("cost x0.67", _scaled(0.67)),
        Kind("fees +6 bps", _shifted(6.0)),
        Kind("rebates -6 bps", _shifted(-6.0)),
        Kind("noise 25 bps", _noisy(25.0)),
        Kind("volatility unusable", _shuffled("daily_vol")),
        Kind("older regime", _untouched, shift_day=SNAPSHOT_DAYS + 24),
        Kind("stale", _untouched, shift_day=_HOLDOUT_START),
    )
}


@dataclasses.dataclass
class Outcome:
    """One candidate's verdict next to the truth."""

    seed: int
    kind: str
    passed: bool
    failed: list[str]
    failed_reference_too: list[str]
    excused: list[str]
    true_mse_excess: float
    mse_margin: float
    true_decision_excess: float
    decision_margin: float
    true_bias_share: float
    ci: tuple[float, float]
    measured_bias: tuple[float, float, float]
    truth_worse: list[str]
    seconds: float
    long_run_mse_excess: float = math.nan
    reported_breaches: list[str] = dataclasses.field(default_factory=list)


def market(seed: int, orders: int, shift_day: int | None) -> tuple[pd.DataFrame, np.ndarray]:
    """The 120 days of one desk, with each order's day index (the training frame)."""
    config = SynthConfig(
        seed=seed,
        days=DAYS,
        orders=orders,
        shift_after_day=shift_day,
        shift_impact_multiplier=SHIFT_IMPACT,
        shift_vol_multiplier=SHIFT_VOL,
    )
    frame = FAMILY.training_frame(generate(config).as_dict())
    return frame, day_index(frame)


def day_index(frame: pd.DataFrame) -> np.ndarray:
    """Index of each order's trading day among the market's 120."""
    days = pd.bdate_range(SynthConfig().start_date, periods=DAYS, tz="UTC").date
    return np.searchsorted(days, frame["start_ts"].dt.date.to_numpy())


def true_cost(holdout: pd.DataFrame, day: np.ndarray, shift_day: int | None, **horizon):
    """The generator's expected cost of each holdout order (its day's multiplier applied)."""
    multiplier = (
        np.ones(len(day)) if shift_day is None else np.where(day >= shift_day, SHIFT_IMPACT, 1.0)
    )
    return order_expected_cost_bps(holdout, impact_multiplier=multiplier, **horizon)


def true_objective(model, orders, day, shift_day) -> np.ndarray:
    """Expected cost plus the policy's risk penalty at the horizons ``model`` chooses.

    ``orders`` carry their ``start_minute``, so that every horizon ends by the close.
    """
    decided = FAMILY.decide(model, orders)
    horizon = decided["horizon_minutes"].to_numpy()
    cost = true_cost(orders, day, shift_day, horizon_minutes=horizon)
    sigma = orders["true_daily_vol"].to_numpy()
    risk = 1e4 * sigma * np.sqrt(horizon / SESSION_MINUTES / 3.0)
    return cost + FAMILY.risk_aversion * risk


def _checks_failing_reference(checks: list[GateCheck], table: pd.DataFrame) -> list[str]:
    """Failed stress checks that the reference's own schedule fails too on the same book."""
    reference = table.loc[table["model"] != "candidate"].assign(model="candidate")
    failing = {(c.gate, c.subject) for c in stress_checks(POLICY, reference) if not c.passed}
    return [f"{c.gate} [{c.subject}]" for c in checks if (c.gate, c.subject) in failing]


def _reported_breaches(table: pd.DataFrame) -> list[str]:
    """Reported (not judged) limits the candidate breaches: what judging them would fail."""
    judged_all = POLICY.model_copy(update={"reported_limits": ()})
    failing = {(c.gate, c.subject) for c in stress_checks(POLICY, table) if not c.passed}
    return [
        f"{c.gate} [{c.subject}]"
        for c in stress_checks(judged_all, table)
        if not c.passed and (c.gate, c.subject) not in failing
    ]


def judge_candidate(seed, kind, split, day_holdout, champion, paths) -> Outcome:
    """Fit the candidate of ``kind`` and judge it as the retrain does."""
    started = time.perf_counter()
    rng = np.random.default_rng([seed, 7])
    train = kind.damage(split.train, rng)
    fitted = FAMILY.fit(train, seed)
    references = {"champion": champion, **fitted.baselines}
    comparison = judging.challenge(FAMILY, split.holdout, fitted.candidate, references, POLICY)
    books = judging.stress_books(FAMILY, split.holdout, fitted.candidate, "champion", champion)
    stress = run_stress(books, LIBRARY, judging.stress_config(POLICY, paths, seed), library=LIBRARY)
    compiled = FAMILY.compile(fitted.candidate)
    (arguments,) = compiled.arguments(split.holdout.head(1))
    latency = measure_latency(lambda: compiled.decide_one(*arguments))
    report = judging.judge(
        FAMILY, POLICY, "bench", comparison, stress, latency, seed, tuple(LIBRARY.names)
    )
    failed = [f"{c.gate} [{c.subject}]" for c in report.failures]
    also = _checks_failing_reference(report.failures, gate_table(stress))
    excused = [
        f"{c.gate} [{c.subject}]"
        for c in report.checks
        if c.status == "warn" and "fails it too on this book" in c.limit
    ]
    outcome = _with_truth(
        seed,
        kind,
        report.passed,
        failed,
        also,
        excused,
        comparison,
        fitted.candidate,
        champion,
        split.holdout,
        day_holdout,
        time.perf_counter() - started,
    )
    outcome.reported_breaches = _reported_breaches(gate_table(stress))
    if kind.name == "honest":
        outcome.long_run_mse_excess = long_run_mse_excess(seed, fitted.candidate, champion)
    return outcome


def long_run_mse_excess(seed: int, candidate, champion) -> float:
    """The true squared-error difference over the market's long run: 480 days of it.

    The same seed draws the same asset universe; its regimes, as the generator draws them
    (calm and volatile spells), over four times the snapshots' days.
    """
    config = SynthConfig(seed=seed, days=4 * DAYS, orders=LONG_RUN_ORDERS)
    orders = generate(config).executions
    mu = order_expected_cost_bps(orders)
    features = FAMILY.features(orders)
    ours = np.asarray(candidate.predict(features), dtype=float)
    theirs = np.asarray(champion.predict(features), dtype=float)
    return float(np.mean((ours - mu) ** 2 - (theirs - mu) ** 2))


def _with_truth(
    seed,
    kind,
    passed,
    failed,
    also,
    excused,
    comparison,
    candidate,
    champion,
    holdout,
    day,
    seconds,
) -> Outcome:
    mu = true_cost(holdout, day, kind.shift_day)
    features = FAMILY.features(holdout)
    ours = np.asarray(candidate.predict(features), dtype=float)
    theirs = np.asarray(champion.predict(features), dtype=float)
    excess = float(np.mean((ours - mu) ** 2 - (theirs - mu) ** 2))
    skill = float(np.mean((mu.mean() - mu) ** 2) - np.mean((theirs - mu) ** 2))
    mse_margin = POLICY.non_inferiority_margin * max(skill, 0.0)
    size = (holdout["qty"] / holdout["adv"]).to_numpy()
    large = size >= np.median(size)
    # Minutes since the open from the whole holdout's days, as the stress book reads them.
    book = holdout.assign(start_minute=minute_of_session(holdout)).loc[large]
    ours_obj = true_objective(candidate, book, day[large], kind.shift_day)
    theirs_obj = true_objective(champion, book, day[large], kind.shift_day)
    decision_excess = float(ours_obj.mean() - theirs_obj.mean())
    decision_margin = POLICY.decision_margin * float(theirs_obj.mean())
    bias_share = float((ours - mu).mean() / mu.mean())
    worse = []
    if excess > mse_margin:
        worse.append("squared error")
    if decision_excess > decision_margin:
        worse.append("decisions")
    if abs(bias_share) > TRUE_BIAS_LIMIT:
        worse.append("bias")
    c = comparison.comparisons["champion"]
    cal = comparison.calibration["candidate"]
    return Outcome(
        seed,
        kind.name,
        passed,
        failed,
        also,
        excused,
        excess,
        mse_margin,
        decision_excess,
        decision_margin,
        bias_share,
        (c.ci_low, c.ci_high),
        (cal.bias_share, cal.bias_low / cal.mean_actual, cal.bias_high / cal.mean_actual),
        worse,
        seconds,
    )


#: Share of the true mean cost a forecast may be off on average before the truth calls it
#: materially miscalibrated. Twice the policy's limit (10 %), deliberately: the gate fails
#: only when the whole interval lies beyond 10 %, so a candidate between the two may go
#: either way, and one beyond 20 % is the damage the check exists to catch.
TRUE_BIAS_LIMIT = 0.20


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson 95 % interval of a binomial proportion."""
    if n == 0:
        return (math.nan, math.nan)
    z, p = 1.96, k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def _rate(k: int, n: int) -> str:
    low, high = wilson(k, n)
    return f"{k}/{n} = {k / n:.0%} [{low:.0%}, {high:.0%}]" if n else "-"


def run_seed(seed: int, kinds: list[Kind], orders: int, paths: int) -> list[Outcome]:
    """Every kind of candidate on one desk's market, against one champion."""
    outcomes = []
    frames = {}
    champion = None
    for kind in kinds:
        if kind.shift_day not in frames:
            frames[kind.shift_day] = market(seed, orders, kind.shift_day)
        frame, day = frames[kind.shift_day]
        if champion is None:
            # Days before any shift are the same in every draw of this seed's market.
            older = frame.loc[day < SNAPSHOT_DAYS]
            champion = FAMILY.fit(out_of_time_split(older, FAMILY.time_column, 0.2).train, seed)
            champion = champion.candidate
        recent = day >= SNAPSHOT_DAYS
        split = out_of_time_split(frame.loc[recent], FAMILY.time_column, HOLDOUT_FRACTION)
        outcome = judge_candidate(seed, kind, split, day_index(split.holdout), champion, paths)
        outcomes.append(outcome)
        verdict = "pass" if outcome.passed else "REJECT"
        print(
            f"seed {seed} {kind.name:<20} {verdict:<6} truth: "
            f"{', '.join(outcome.truth_worse) or 'not materially worse':<32} "
            f"mse {outcome.true_mse_excess:+7.1f} (margin {outcome.mse_margin:5.1f}) "
            f"decisions {outcome.true_decision_excess:+6.2f} (margin "
            f"{outcome.decision_margin:4.2f}) bias {outcome.true_bias_share:+.0%} (measured "
            f"{outcome.measured_bias[0]:+.0%} [{outcome.measured_bias[1]:+.0%}, "
            f"{outcome.measured_bias[2]:+.0%}]) "
            f"{outcome.seconds:4.0f} s; failed: {'; '.join(outcome.failed) or '-'}"
            + (
                f"; reference fails too: {'; '.join(outcome.failed_reference_too)}"
                if outcome.failed_reference_too
                else ""
            )
            + (f"; excused: {'; '.join(outcome.excused)}" if outcome.excused else "")
            + (
                f"; reported limits breached: {'; '.join(outcome.reported_breaches)}"
                if outcome.reported_breaches
                else ""
            ),
            flush=True,
        )
    return outcomes


def report(outcomes: list[Outcome], elapsed: float, load: tuple[float, float], args) -> None:
    """The operating-characteristic table and the goals."""
    print(
        f"\n# Verdicts against ground truth\n\n{len({o.seed for o in outcomes})} seeds "
        f"({args.first_seed}...), {args.orders:,} orders over {DAYS} days per seed, "
        f"{args.paths:,} stress paths; {elapsed / 60:.0f} min; load average {load[0]:.2f} at "
        f"the start, {load[1]:.2f} at the end, on {os.cpu_count()} CPUs.\n"
    )
    print("| kind | passed | materially worse by truth | rejected by (most often) |")
    print("|---|---|---|---|")
    for name in dict.fromkeys(o.kind for o in outcomes):
        rows = [o for o in outcomes if o.kind == name]
        passed = sum(o.passed for o in rows)
        truth = Counter(reason for o in rows for reason in o.truth_worse)
        worse = sum(bool(o.truth_worse) for o in rows)
        deciding = Counter(f.split(" [")[0] for o in rows for f in o.failed)
        print(
            f"| {name} | {_rate(passed, len(rows))} | {worse}/{len(rows)}"
            f"{' (' + ', '.join(f'{k} {v}' for k, v in truth.items()) + ')' if truth else ''} "
            f"| {', '.join(f'{k} {v}' for k, v in deciding.most_common(3)) or '-'} |"
        )
    print("\n| check (gate) | failed honest | failed materially worse | failed other damaged |")
    print("|---|---|---|---|")
    gates = Counter(f.split(" [")[0] for o in outcomes for f in o.failed)
    for gate, _ in gates.most_common():
        counts = [
            sum(any(f.startswith(gate + " [") for f in o.failed) for o in group)
            for group in (
                [o for o in outcomes if o.kind == "honest"],
                [o for o in outcomes if o.truth_worse],
                [o for o in outcomes if o.kind != "honest" and not o.truth_worse],
            )
        ]
        print(f"| {gate} | " + " | ".join(str(c) for c in counts) + " |")
    honest = [o for o in outcomes if o.kind == "honest"]
    bad = [o for o in outcomes if o.truth_worse]
    rejected_honest = sum(not o.passed for o in honest)
    passed_bad = sum(o.passed for o in bad)
    also = sum(bool(o.failed_reference_too) for o in outcomes if not o.passed)
    excused = Counter(e.split(" [")[0] for o in outcomes for e in o.excused)
    reported = Counter(r for o in outcomes for r in o.reported_breaches)
    covered = sum(o.ci[0] <= o.true_mse_excess <= o.ci[1] for o in honest)
    long_run = sum(o.ci[0] <= o.long_run_mse_excess <= o.ci[1] for o in honest)
    print(
        f"\nHonest candidates rejected: {_rate(rejected_honest, len(honest))} (goal <= 5 %).\n"
        f"Materially worse candidates passed: {_rate(passed_bad, len(bad))} (goal <= 5 %).\n"
        f"Rejections decided by a check the champion's own schedule also fails: {also}.\n"
        f"Breaches excused because the champion's schedule breaches the same limit on the "
        f"same book (warnings): {dict(excused) or 'none'}.\n"
        f"Reported limits the candidates breached (judging them would have failed them): "
        f"{dict(reported) or 'none'} over {len(outcomes)} candidates.\n"
        f"Comparison interval covering the true squared-error difference on the holdout's "
        f"orders (honest candidates): {_rate(covered, len(honest))}; the true long-run "
        f"difference over 480 days of the same market: {_rate(long_run, len(honest))} (goal "
        f"93-97 %)."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--orders", type=int, default=400_000)
    parser.add_argument("--paths", type=int, default=4_000)
    parser.add_argument("--kinds", nargs="+", choices=list(KINDS), default=list(KINDS))
    args = parser.parse_args(argv)
    start_load = os.getloadavg()[0]
    started = time.perf_counter()
    kinds = [KINDS[k] for k in args.kinds]
    outcomes = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        outcomes += run_seed(seed, kinds, args.orders, args.paths)
    report(outcomes, time.perf_counter() - started, (start_load, os.getloadavg()[0]), args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
