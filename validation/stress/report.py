"""What a stress run found: per-order simulations, metrics per scenario and model, the report.

:class:`StressReport` is what :func:`~validation.stress.runner.run_stress` returns: every
scenario for every model, a tidy :meth:`~StressReport.summary`, a wide table of
``metric/statistic`` columns (:meth:`~StressReport.wide`, what the gates read), paired
differences on common random numbers (:meth:`~StressReport.paired`) and a JSON-ready
:meth:`~StressReport.to_dict` that names the scenario library by its SHA-256.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from validation.stress.config import StressConfig
from validation.stress.errors import StressInputError
from validation.stress.metrics import DISTRIBUTION_UNITS, Distribution, ScenarioMetrics, json_ready
from validation.stress.provenance import engine_sha256
from validation.stress.results import SimulationResult

__all__ = ["OrderResult", "ScenarioResult", "StressReport"]


@dataclass
class OrderResult:
    """One order's simulation under a scenario."""

    order_id: str
    side: float
    quantity: float
    arrival_price: float
    predicted_cost_bps: float
    sim: SimulationResult


@dataclass
class ScenarioResult:
    """A model's book of orders under one scenario.

    Attributes
    ----------
    scenario, model
        Names.
    orders
        Per-order simulations.
    metrics
        :class:`~validation.stress.metrics.ScenarioMetrics` (JSON-ready via ``to_dict``).
    book_cost, book_cost_bps, book_completion
        Book-level shortfall per path (currency, bps of notional) and the share of the book's
        notional the backstop completed.
    """

    scenario: str
    model: str
    orders: list[OrderResult]
    metrics: ScenarioMetrics
    book_cost: np.ndarray
    book_cost_bps: np.ndarray
    book_completion: np.ndarray

    def orders_frame(self) -> pd.DataFrame:
        """Per-order table: predicted vs realised cost, completion, kill-switch flattening."""
        rows = []
        for o in self.orders:
            s = o.sim
            rows.append(
                {
                    "scenario": self.scenario,
                    "model": self.model,
                    "order_id": o.order_id,
                    "predicted_cost_bps": o.predicted_cost_bps,
                    "realised_mean_bps": float(s.cost_bps.mean()),
                    "realised_p95_bps": float(np.percentile(s.cost_bps, 95)),
                    "cost_error_bps": float(s.cost_bps.mean()) - o.predicted_cost_bps,
                    "completion_mean_share": float(s.completion_share.mean()),
                    "killed_fraction": float(np.mean(s.kill_step >= 0)),
                }
            )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready metrics of this scenario and model."""
        return self.metrics.to_dict()


@dataclass
class StressReport:
    """Results of :func:`~validation.stress.runner.run_stress`: every scenario for every model.

    Attributes
    ----------
    results
        ``results[scenario][model]`` -> :class:`ScenarioResult`.
    config
        The configuration used.
    scenario_library_sha256
        SHA-256 of the scenario library file the scenarios came from
        (:attr:`~validation.stress.scenarios.ScenarioLibrary.sha256`); ``None`` when they
        were passed as :class:`~validation.stress.scenarios.Scenario` objects of no library.
    """

    results: dict[str, dict[str, ScenarioResult]]
    config: StressConfig
    scenario_library_sha256: str | None = None

    @classmethod
    def merge(cls, reports: Sequence[StressReport]) -> StressReport:
        """One report of several run on disjoint scenarios (e.g. one per worker).

        Raises
        ------
        StressInputError
            If there is no report, or they disagree on configuration or scenario library.
        """
        if not reports:
            raise StressInputError("merge needs at least one stress report, got none")
        first = reports[0]
        for other in reports[1:]:
            if (other.config, other.scenario_library_sha256) != (
                first.config,
                first.scenario_library_sha256,
            ):
                raise StressInputError(
                    "stress reports to merge must share configuration and scenario library, "
                    f"got {other.config!r} / {other.scenario_library_sha256} against "
                    f"{first.config!r} / {first.scenario_library_sha256}"
                )
        results = {name: by_model for r in reports for name, by_model in r.results.items()}
        return cls(results, first.config, first.scenario_library_sha256)

    @property
    def scenarios(self) -> list[str]:
        """Scenario names in run order."""
        return list(self.results)

    @property
    def models(self) -> list[str]:
        """Model names in run order."""
        first = next(iter(self.results.values()))
        return list(first)

    def __getitem__(self, key: tuple[str, str]) -> ScenarioResult:
        scenario, model = key
        return self.results[scenario][model]

    def summary(self) -> pd.DataFrame:
        """Tidy summary: one row per scenario, model, metric and statistic.

        Returns
        -------
        pandas.DataFrame
            Columns ``scenario, model, metric, statistic, unit, value``.
        """
        rows: list[dict[str, Any]] = []
        for scenario, by_model in self.results.items():
            for model, res in by_model.items():
                m = res.metrics
                items: list[tuple[str, str, str, float]] = []
                for metric, unit in DISTRIBUTION_UNITS.items():
                    dist: Distribution = getattr(m, metric)
                    for stat in ("mean", "p50", "p95", "cvar95"):
                        items.append((metric, stat, unit, getattr(dist, stat)))
                items.append(
                    ("paths_with_completion", "fraction", "fraction", m.paths_with_completion)
                )
                items.append(("shortfall_bps", "loss_budget", "bps", m.loss_budget_bps))
                items.append(("shortfall_bps", "cvar95_over_budget", "ratio", m.cvar95_over_budget))
                for name, risk in m.risk_metrics.items():
                    items += [
                        (f"risk/{name}", "value", "value", risk.value),
                        (f"risk/{name}", "alert_rate", "fraction", risk.alert_rate),
                        (f"risk/{name}", "action_rate", "fraction", risk.action_rate),
                    ]
                items += [("control_rate", n, "fraction", v) for n, v in m.control_rates.items()]
                items += [("control_steps", n, "steps", v) for n, v in m.control_steps.items()]
                items += [
                    ("control_step_share", n, "fraction", v)
                    for n, v in m.control_step_share.items()
                ]
                items.append(("cost_error", "mean", "bps", m.cost_error_mean_bps))
                items.append(("cost_error", "mae", "bps", m.cost_error_mae_bps))
                items.append(("information_leakage", "score", "score", m.information_leakage))
                rows += [
                    {
                        "scenario": scenario,
                        "model": model,
                        "metric": metric,
                        "statistic": stat,
                        "unit": unit,
                        "value": float(value),
                    }
                    for metric, stat, unit, value in items
                ]
        return pd.DataFrame(rows)

    def wide(self) -> pd.DataFrame:
        """One row per scenario and model, one column per ``metric/statistic``."""
        tidy = self.summary()
        tidy["column"] = tidy["metric"] + "/" + tidy["statistic"]
        return tidy.pivot_table(
            index=["scenario", "model"], columns="column", values="value", sort=False
        )

    def paired(self, base: str | None = None, other: str | None = None) -> pd.DataFrame:
        """Paired difference ``other - base`` of book shortfall (bps) per scenario.

        Both models are run on the same random numbers, so the difference per path removes
        the common market noise. Reports the mean difference, its paired standard error and
        95% interval, the correlation of the two shortfalls and the standard error an unpaired
        comparison would have had.

        Parameters
        ----------
        base, other
            Model names; default the first and second model.

        Returns
        -------
        pandas.DataFrame
            One row per scenario.
        """
        models = self.models
        if len(models) < 2 and (base is None or other is None):
            raise StressInputError(f"paired() needs two models, got {models}")
        base = base or models[0]
        other = other or models[1]
        rows = []
        for scenario, by_model in self.results.items():
            a = by_model[base].book_cost_bps
            b = by_model[other].book_cost_bps
            d = b - a
            n = d.size
            se = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
            se_unpaired = (
                float(math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / n)) if n > 1 else math.nan
            )
            corr = float(np.corrcoef(a, b)[0, 1]) if n > 1 and a.std() > 0 and b.std() > 0 else 0.0
            rows.append(
                {
                    "scenario": scenario,
                    "base": base,
                    "other": other,
                    "mean_diff_bps": float(d.mean()),
                    "se_bps": se,
                    "ci95_low_bps": float(d.mean() - 1.96 * se),
                    "ci95_high_bps": float(d.mean() + 1.96 * se),
                    "correlation": corr,
                    "se_unpaired_bps": se_unpaired,
                }
            )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready report: config, library and engine hashes, metrics, pairing."""
        out: dict[str, Any] = {
            "config": self.config.model_dump(mode="json"),
            "scenario_library_sha256": self.scenario_library_sha256,
            "engine_sha256": engine_sha256(),
            "scenarios": {
                s: {m: r.metrics.to_dict() for m, r in by_model.items()}
                for s, by_model in self.results.items()
            },
        }
        if len(self.models) >= 2:
            out["paired"] = json_ready(self.paired().to_dict(orient="records"))
        return out
