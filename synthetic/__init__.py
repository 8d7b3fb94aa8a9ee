"""Seeded synthetic execution data with a documented ground truth.

No market data ships with the product, so this generator makes the three tables
the pipeline consumes, from equations the tests can check a model against:

* ``executions`` - parent orders; realised shortfall follows Almgren, Thum,
  Hauptmann & Li (2005), see :mod:`synthetic.ground_truth` (eta=0.142, beta=0.6,
  gamma=0.314, delta=0.25, with ``Theta`` exported as ``shares_outstanding``), plus half
  the spread, timing noise read from the bar path and order-specific Laplace jumps.
  ``daily_vol`` is the desk's pre-trade estimate (previous days' trailing estimate scaled
  by what the whole tape showed of the day's regime before the order starts); the true
  same-day volatility is ``true_daily_vol``, ground truth for tests.
  Horizons follow an observable ``urgency`` (confounded with the day's true volatility)
  except for a documented exploration share drawn at random; see
  :mod:`synthetic.executions`.
* ``market_bars`` - per-asset mid prices from a factor model (market-wide and asset
  parts, each intraday and as a drift of the day) plus the orders' own footprint (their
  permanent impact; see :mod:`synthetic.market`) sampled on bars, a U-shaped intraday
  volume curve, bid/ask around the mid and displayed depth. Days are calm or volatile
  (volatility x2, spread and volume x sqrt 2) by a two-state Markov chain. An order's
  temporary impact depends on the volume its window traded.
* ``rfq`` - dealer quotes with a logistic fill model, see :mod:`synthetic.rfq`.

``shift_after_day`` injects a regime shift (impact and volatility scaled from that
day on) for drift tests; ``corruption`` injects named defects for contract tests.
Everything is drawn from one ``SeedSequence``: the same config gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synthetic.config import CORRUPTION_KINDS, SynthConfig
from synthetic.corruption import inject
from synthetic.executions import draw_orders, footprint, make_executions
from synthetic.market import (
    Regimes,
    Universe,
    draw_news,
    draw_regimes,
    draw_universe,
    make_market,
)
from synthetic.rfq import make_rfq

__all__ = ["SynthConfig", "SyntheticData", "CORRUPTION_KINDS", "generate", "trade", "write"]

TABLES = ("executions", "market_bars", "rfq")


@dataclass(frozen=True)
class SyntheticData:
    """The three generated tables."""

    executions: pd.DataFrame
    market_bars: pd.DataFrame
    rfq: pd.DataFrame

    def as_dict(self) -> dict[str, pd.DataFrame]:
        """Return the tables by file stem."""
        return {name: getattr(self, name) for name in TABLES}


def trade(
    cfg: SynthConfig,
    universe: Universe,
    regimes: Regimes,
    market_rng: np.random.Generator,
    order_rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The orders of ``cfg`` traded in the market: the executions and market bars tables.

    The news comes first, the orders are decided on what traders knew of it, their
    footprint joins the news in the bars, and each order is priced on those bars.
    """
    news = draw_news(cfg, universe, regimes, market_rng)
    orders = draw_orders(cfg, universe, regimes, news, order_rng)
    moved = footprint(cfg, universe, regimes, orders)
    market = make_market(cfg, universe, regimes, news, moved, market_rng)
    return make_executions(cfg, universe, regimes, market, orders, order_rng), market.bars


def generate(cfg: SynthConfig) -> SyntheticData:
    """Generate the tables for ``cfg``; deterministic in ``cfg``."""
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(cfg.seed).spawn(5)]
    universe = draw_universe(cfg, streams[0])
    regimes = draw_regimes(cfg, streams[1])
    executions, market_bars = trade(cfg, universe, regimes, streams[2], streams[3])
    tables = {
        "executions": executions,
        "market_bars": market_bars,
        "rfq": make_rfq(cfg, universe, regimes, streams[4]),
    }
    if cfg.corruption:
        corrupt_rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 99]))
        tables = inject(tables, cfg.corruption, corrupt_rng, cfg.corruption_rows)
    return SyntheticData(**tables)


def write(data: SyntheticData, out_dir: Path) -> dict[str, Path]:
    """Write each table to ``out_dir/<name>.parquet`` and return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame in data.as_dict().items():
        paths[name] = out_dir / f"{name}.parquet"
        frame.to_parquet(paths[name], index=False)
    return paths
