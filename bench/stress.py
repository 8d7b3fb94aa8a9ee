"""Benchmark of the stress engine: numba vs the interpreter, thread scaling, the bare loop.

* One stress workload (a full-day VWAP sale under ``spread_blowout``, all controls on,
  geometric paths, power-law impact, U-shaped noisy volume, 390 one-minute steps) through the
  general kernel (:func:`validation.stress.kernels.simulate_chunks`) with 2 threads and with
  1 (the outputs must be identical), and through the same kernel's source run by the Python
  interpreter on a slice of the paths (``tests/validation/stress_interpreted.py``).
* The controls-off Almgren & Chriss (2000) case through the public entry point
  ``simulate(...)`` (which takes the schedule-only kernel) against a bare numba loop of the same
  dynamics on the same per-chunk generators, side by side in one run: path-steps per second.
* Per scenario, the example champion book with every control on and with none.
* The full scenario library (9 scenarios x 2 models), compiled and cached, and the first
  compile in a subprocess with an empty ``NUMBA_CACHE_DIR``.

Prints Markdown tables and the machine's load before and after.

Usage (from the repository root; the interpreted kernel lives with the tests)::

    python bench/stress.py [--paths 20000] [--bare-paths 100000] [--python-paths 200]
                           [--library-paths 10000] [--controls-paths 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np
import pandas as pd

# The tests are not installed: make the checkout's tests/ importable however this is started.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from numba import njit, prange, typed  # noqa: E402

import validation.stress.kernels as K  # noqa: E402
from tests.validation.almgren_chriss import AC  # noqa: E402
from tests.validation.stress_books import example_orders
from tests.validation.stress_interpreted import run_interpreted  # noqa: E402
from validation.stress import (  # noqa: E402
    Controls,
    MarketModel,
    StressConfig,
    load_scenarios,
    run_stress,
    simulate,
)
from validation.stress.engine import run_kernel  # noqa: E402
from validation.stress.inputs import KernelInputs, prepare_inputs  # noqa: E402
from validation.stress.metrics import cvar  # noqa: E402
from validation.stress.orders import schedule_holdings, validate_orders  # noqa: E402
from validation.stress.runner import order_market  # noqa: E402
from validation.stress.streams import make_generators  # noqa: E402
from vocabulary import SESSION_MINUTES  # noqa: E402

TARGETS = {"bare": 0.8, "python": 50.0, "threads": 1.6, "library_s": 10.0}


@njit(parallel=True)
def bare_loop(gens, n_paths, chunk, trades, s0, vol, eps, temp, perm, out):
    """Almgren & Chriss (2000) with no controls, the least a simulation of it must do."""
    n_chunks = (n_paths + chunk - 1) // chunk
    for c in prange(n_chunks):
        gen = gens[K.STREAMS_PER_CHUNK * c]
        for p in range(c * chunk, min((c + 1) * chunk, n_paths)):
            mid = s0
            value = 0.0
            for k in range(trades.size):
                n = trades[k]
                value += n * (mid - s0 * (eps + temp * n))
                mid += vol * gen.standard_normal() - s0 * perm * n
            out[p] = trades.sum() * s0 - value


def bare_loop_ratio(n_paths: int, repeats: int) -> tuple[float, float]:
    """Path-steps per second of the engine and of the bare loop on the controls-off AC case.

    The two are timed in turn, ``repeats`` times each, best of each kept, and must give the
    same cost on every path (same dynamics, same random numbers).
    """
    market = MarketModel(**AC)
    steps = 390
    holdings = np.linspace(1e6, 0.0, steps + 1)
    horizon = 5.0
    tau = horizon / steps
    trades = -np.diff(holdings)
    args = (market.s0, market.sigma * np.sqrt(tau), market.epsilon / market.s0)
    coefs = (market.eta / (tau * market.s0), market.gamma / market.s0)
    out = np.empty(n_paths)

    def bare() -> np.ndarray:
        gens = typed.List(make_generators(7, n_paths))
        bare_loop(gens, n_paths, K.CHUNK_SIZE, trades, *args, *coefs, out)
        return out

    def engine() -> np.ndarray:
        return simulate(market, holdings, horizon, n_paths, 7).cost

    np.testing.assert_allclose(engine(), bare(), rtol=1e-9, atol=1e-6 * trades.sum())
    t_bare = t_engine = float("inf")
    for _ in range(repeats):
        t_bare = min(t_bare, best_of(bare, 1)[0])
        t_engine = min(t_engine, best_of(engine, 1)[0])
    return n_paths * steps / t_engine, n_paths * steps / t_bare


def workload(n_paths: int) -> KernelInputs:
    """The benchmark order: 1M shares sold over the whole session, VWAP, spread blow-out."""
    cfg = StressConfig()
    orders = (
        example_orders("champion")
        .iloc[[2]]
        .assign(horizon_minutes=float(SESSION_MINUTES), style="vwap", participation=np.nan)
    )
    book = validate_orders(orders)
    order = book.iloc[0]
    holdings, pov = schedule_holdings(order)
    return prepare_inputs(
        order_market(order, cfg),
        holdings,
        horizon=1.0,
        n_paths=n_paths,
        seed=1,
        side="sell",
        pov_rate=pov,
        controls=cfg.controls,
        scenario=load_scenarios()["spread_blowout"],
        stream="bench",
    )


def best_of(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Smallest wall time of ``repeats`` calls and the last result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def with_inputs(inputs: KernelInputs, n_paths: int) -> KernelInputs:
    """Same workload with another number of paths."""
    return KernelInputs(**{**inputs.__dict__, "n_paths": n_paths})


def cold_compile_seconds() -> dict[str, float]:
    """Import, first call (compile) and second call times in a fresh process and cache."""
    code = textwrap.dedent(
        """
        import time
        t0 = time.perf_counter()
        import numpy as np
        from validation.stress import MarketModel, simulate
        t1 = time.perf_counter()
        m = MarketModel(s0=50.0, sigma=0.95, eta=2.5e-6, gamma=2.5e-7, epsilon=0.0625)
        simulate(m, np.linspace(1e6, 0, 6), 5.0, 100, 7)
        t2 = time.perf_counter()
        simulate(m, np.linspace(1e6, 0, 6), 5.0, 100, 7)
        t3 = time.perf_counter()
        print(t1 - t0, t2 - t1, t3 - t2)
        """
    )
    results = {}
    with tempfile.TemporaryDirectory() as cache:
        for label in ("cold", "cached"):
            env = {**os.environ, "NUMBA_CACHE_DIR": cache}
            out = subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            ).stdout.split()
            imp, first, second = (float(v) for v in out)
            results[f"{label}_import_s"] = imp
            results[f"{label}_first_call_s"] = first
            results[f"{label}_second_call_s"] = second
    return results


def controls_table(n_paths: int) -> pd.DataFrame:
    """Per scenario, the example champion book with every control on and with none."""
    book = example_orders("champion")
    rows = []
    for label, controls in (("on", Controls()), ("off", Controls.none())):
        cfg = StressConfig(n_paths=n_paths, seed=7, controls=controls)
        report = run_stress({"champion": book}, config=cfg)
        for scenario in report.scenarios:
            m = report[scenario, "champion"].metrics
            row = {
                "scenario": scenario,
                "controls": label,
                "mean (bps)": m.shortfall_bps.mean,
                "CVaR95 (bps)": m.shortfall_bps.cvar95,
                "left for completion": m.completion_share.mean,
            }
            row |= {name: rate for name, rate in m.control_rates.items()}
            rows.append(row)
    return pd.DataFrame(rows).sort_values(["scenario", "controls"], ascending=[True, False])


#: The switches of :class:`Controls`, each left out of the full stack in turn.
SWITCHES = (
    "kill_switch",
    "participation_cap",
    "slippage_guard",
    "risk_monitor",
    "feed_guard",
    "price_collar",
)


def _book_costs(controls: Controls, n_paths: int) -> dict[str, np.ndarray]:
    """Per scenario, the example champion book's cost per path (bps, common random numbers)."""
    cfg = StressConfig(n_paths=n_paths, seed=7, controls=controls)
    report = run_stress({"champion": example_orders("champion")}, config=cfg)
    return {s: report[s, "champion"].book_cost_bps for s in report.scenarios}


def leave_one_out_table(n_paths: int) -> pd.DataFrame:
    """What each control changes in the default stack: the stack with it minus without it.

    Each cell is the paired difference of the book's mean cost (bps) with its 95 % interval
    (all runs share their random numbers), and of its CVaR95: negative where the control
    lowers the cost. The price collar, off by default, is added to the stack instead.
    """
    default = Controls()
    stack = _book_costs(default, n_paths)
    rows = []
    for switch in SWITCHES:
        on = getattr(default, switch)
        flipped = _book_costs(default.model_copy(update={switch: not on}), n_paths)
        row = {"control": switch + ("" if on else " (added)")}
        for scenario, cost in stack.items():
            with_it, without = (cost, flipped[scenario]) if on else (flipped[scenario], cost)
            d = with_it - without
            half = 1.96 * d.std(ddof=1) / np.sqrt(d.size)
            tail = cvar(with_it) - cvar(without)
            row[scenario] = f"{d.mean():+.1f} ± {half:.1f} / {tail:+.1f}"
        rows.append(row)
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=20_000)
    parser.add_argument("--bare-paths", type=int, default=100_000)
    parser.add_argument("--python-paths", type=int, default=200)
    parser.add_argument("--library-paths", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--controls-paths", type=int, default=10_000)
    args = parser.parse_args(argv)

    max_threads = numba.config.NUMBA_NUM_THREADS
    load_before = _loadavg()
    print(
        f"numba {numba.__version__}, numpy {np.__version__}, threading layer "
        f"{numba.config.THREADING_LAYER}, {max_threads} threads available, "
        f"{os.cpu_count()} CPUs",
        flush=True,
    )
    inputs = workload(args.paths)
    steps = inputs.n_window
    run_kernel(with_inputs(inputs, 300))  # compile or load from cache

    rows = []
    numba.set_num_threads(min(2, max_threads))
    t2, (out2, fires2, *_rest) = best_of(lambda: run_kernel(inputs), args.repeats)
    rows.append(("numba kernel, 2 threads", args.paths, t2))
    numba.set_num_threads(1)
    t1, (out1, *_rest) = best_of(lambda: run_kernel(inputs), args.repeats)
    rows.append(("numba kernel, 1 thread", args.paths, t1))
    numba.set_num_threads(min(2, max_threads))
    assert np.array_equal(out1, out2, equal_nan=True), "thread count changed the results"

    py_paths = args.python_paths
    tp, (out_py, *_rest) = best_of(lambda: run_interpreted(with_inputs(inputs, py_paths)), 1)
    rows.append(("pure Python (the kernel's source, interpreted)", py_paths, tp))
    np.testing.assert_allclose(out_py, out2[:, :py_paths], rtol=1e-12, atol=1e-9, equal_nan=True)
    engine_rate, bare_rate = bare_loop_ratio(args.bare_paths, args.repeats)

    live = float(np.mean(out2[K.O_KILL] < 0))
    rate2 = args.paths * steps / t2
    table = pd.DataFrame(
        [
            {
                "implementation": name,
                "paths": n,
                "path-steps": n * steps,
                "seconds": t,
                "path-steps/s": n * steps / t,
                "numba (2 threads) is x faster": rate2 / (n * steps / t),
            }
            for name, n, t in rows
        ]
    )

    # --- full library ------------------------------------------------------------------------
    one = (
        example_orders("champion")
        .iloc[[0]]
        .assign(horizon_minutes=float(SESSION_MINUTES), start_minute=0.0, style="vwap", urgency=0.0)
    )
    one_ch = example_orders("challenger").iloc[[0]].assign(start_minute=0.0)
    cfg = StressConfig(n_paths=args.library_paths, seed=7)
    library = load_scenarios()
    run_stress(
        {"champion": one, "challenger": one_ch},
        config=cfg.model_copy(update={"n_paths": 300}),
        library=library,
    )
    lib_rows = []
    for label, models in (
        ("1 order per model", {"champion": one, "challenger": one_ch}),
        (
            "3-order example books",
            {"champion": example_orders("champion"), "challenger": example_orders("challenger")},
        ),
    ):
        t0 = time.perf_counter()
        report = run_stress(models, config=cfg, library=library)
        elapsed = time.perf_counter() - t0
        path_steps = sum(
            int(o.sim.n_paths * (SESSION_MINUTES - _start(models[m], o.order_id)))
            for s in report.results.values()
            for m, r in s.items()
            for o in r.orders
        )
        lib_rows.append(
            {
                "workload": f"{len(library)} scenarios x 2 models x {label}, "
                f"{args.library_paths:,} paths, {SESSION_MINUTES}-step session",
                "path-steps": path_steps,
                "seconds": elapsed,
                "path-steps/s": path_steps / elapsed,
            }
        )
    lib = pd.DataFrame(lib_rows)
    compile_t = cold_compile_seconds()

    load_after = _loadavg()
    fmt = {"seconds": "{:.3f}", "path-steps/s": "{:,.0f}", "path-steps": "{:,}"}
    print(
        f"\nSystem load average (1 min) before/after: {load_before:.2f} / {load_after:.2f} "
        f"on {os.cpu_count()} CPUs (other processes make the timings, and above all the "
        "thread speed-up, unreliable)."
    )
    print("\n### Stress kernel throughput (same workload, same random numbers)\n")
    print(
        f"Workload: {steps} one-minute steps, spread_blowout, all controls on, "
        f"{live:.0%} of paths never flattened by the kill switch; best of {args.repeats} for "
        "numba, one run otherwise.\n"
    )
    print(_markdown(table, {**fmt, "numba (2 threads) is x faster": "{:.1f}"}))
    ratios = {
        "engine / bare loop, controls-off Almgren-Chriss, 2 threads": engine_rate / bare_rate,
        "numba (2 threads) / pure Python": rate2 / (py_paths * steps / tp),
        "numba 2 threads / 1 thread": t1 / t2,
    }
    targets = {
        "engine / bare loop, controls-off Almgren-Chriss, 2 threads": TARGETS["bare"],
        "numba (2 threads) / pure Python": TARGETS["python"],
        "numba 2 threads / 1 thread": TARGETS["threads"],
    }
    print("\n| ratio | value | target | met |\n|---|---:|---:|:---:|")
    for name, value in ratios.items():
        target = targets[name]
        print(f"| {name} | {value:.2f}x | >= {target}x | {'yes' if value >= target else 'NO'} |")
    print("\n### Controls on and off, per scenario (example champion book, costs completed)\n")
    controls = controls_table(args.controls_paths)
    percent = {c: "{:.1%}" for c in controls.columns[4:]}
    print(
        _markdown(
            controls,
            {"mean (bps)": "{:.1f}", "CVaR95 (bps)": "{:.1f}", **percent},
        )
    )
    print(
        "\n### Each control's effect in the default stack (with it minus without it: mean "
        "± 95 % interval / CVaR95, bps of the book; negative = it lowers the cost)\n"
    )
    print(_markdown(leave_one_out_table(args.controls_paths), {}))
    print("\n### Full scenario library (compiled and cached)\n")
    print(_markdown(lib, fmt))
    single = lib.iloc[0]["seconds"]
    met = "yes" if single < TARGETS["library_s"] else "NO"
    print(f"\nTarget: < {TARGETS['library_s']:.0f} s for the 1-order library: {met}.")
    print("\n### Compilation (subprocess, fresh NUMBA_CACHE_DIR)\n")
    print("| | import | first call | second call |\n|---|---:|---:|---:|")
    for label in ("cold", "cached"):
        print(
            f"| {label} cache | {compile_t[label + '_import_s']:.2f} s | "
            f"{compile_t[label + '_first_call_s']:.2f} s | "
            f"{compile_t[label + '_second_call_s']:.3f} s |"
        )
    cold = compile_t["cold_first_call_s"] - compile_t["cold_second_call_s"]
    warm = compile_t["cached_first_call_s"] - compile_t["cached_second_call_s"]
    print(f"\nFirst compile costs {cold:.1f} s; loading the cached kernels costs {warm:.2f} s.")
    return 0


def _loadavg() -> float:
    try:
        with open("/proc/loadavg") as fh:
            return float(fh.read().split()[0])
    except OSError:
        return float("nan")


def _start(orders: pd.DataFrame, order_id: str) -> float:
    return float(orders.loc[orders["order_id"] == order_id, "start_minute"].iloc[0])


def _markdown(frame: pd.DataFrame, fmt: dict[str, str]) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for _, row in frame.iterrows():
        cells = [fmt.get(c, "{}").format(row[c]) for c in cols]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
