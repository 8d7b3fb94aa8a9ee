"""Stress scenario library: market conditions as data, loaded from ``scenarios.yaml``.

A scenario says how the market departs from the order's own pre-trade picture (its daily
volatility, ADV and spread) while the order executes. New scenarios are added by editing the
data file; no code changes are needed.

File format
-----------
YAML or JSON (chosen by the file suffix; ``.json`` is parsed as JSON, anything else as YAML)::

    version: 1
    scenarios:
      <name>:                       # lower-case letters, digits and "_"
        description: <text>         # required
        volatility:                 # optional, piecewise-linear schedule
          unit: multiplier          #   "multiplier" of the order's daily volatility (default)
                                    #   or "annualised": an absolute annualised volatility
                                    #   (daily = annualised / sqrt(252)) replacing the order's
          knots: [[0, 1.0], [30, 2.0]]
        liquidity:                  # optional multiplier of market volume (> 0); 0.3 means 70%
          knots: [[0, 1.0], [20, 0.3]]          # of the volume withdrawn
        spread:                     # optional multiplier of the order's quoted spread (>= 0)
          knots: [[0, 1.0], [15, 8.0]]
        market_move:                # optional deterministic cumulative move of the mid
          knots: [[10, 0.0], [40, -0.15]]       # (fraction in (-1, 1), up > 0; -0.15 = a
                                    # 15% fall) on top of the noise, one direction for every
                                    # order: a fall hurts sales and helps purchases
        jumps:                      # optional; replaces the market model's jump parameters
          intensity_per_day: 4.0    # Poisson intensity (at most one jump per step)
          mean: -0.005              # mean jump of the mid (fraction, up > 0)
          std: 0.005                # jump-size standard deviation (fraction)
        feed:                       # optional corruption of the quotes the controls see;
          stale: [[20, 35]]         #   [start, end) minutes where the quote is frozen
          spikes: [[60, 0.08]]      #   [minute, relative size]: the quote is mid*(1+size)
          stale_probability: 0.0    #   per-step probability of a stale quote
          spike_probability: 0.0    #   per-step probability of a spiked quote ...
          spike_size: 0.05          #   ... of this relative size
        onset:                      # optional; the events begin, per path, at a session
          earliest: 30              #   minute drawn uniformly in [earliest, latest], and
          latest: 300               #   the knots above count minutes from it
        leakage:                    # optional; others trade ahead of a visible order
          strength: 3.0             #   adverse move per unit of excess participation, in
          threshold: 0.10           #   step sigmas, once ours / (market + ours) > threshold
        controls: desk              # optional; "desk" (default): the desk's controls act,
                                    #   "none": every control off, so the figures are the
                                    #   schedule's own footprint (what the risk metrics judge)

Every time in a schedule is in **minutes since the order starts executing**, or, for a
scenario with an ``onset``, minutes since the onset: a session minute drawn per path between
``earliest`` and ``latest``, so that the event meets each order at a different point of its
execution and each path at a different time of day. A schedule is
piecewise linear between its knots ``[minute, value]`` (minutes strictly increasing, >= 0)
and flat before the first and after the last knot. Multipliers are evaluated at the middle of
each simulation step; the market move is evaluated at step boundaries and its increments are
added to the mid.

The shipped library is package data, found with :mod:`importlib.resources`, so an installed
wheel finds it too. A loaded :class:`ScenarioLibrary` knows the SHA-256 of the bytes it was
read from (``library.sha256``), so a run can record exactly which library it used.

The parts of a scenario (schedules, jumps, feed corruption) are defined in
:mod:`validation.stress.conditions`. Models are frozen and refuse unknown fields.
:func:`load_scenarios` raises
:class:`~validation.stress.errors.ScenarioFileError` with one line per problem, naming the
field, what was expected and what was got, e.g.
``scenarios.vol_spike.volatility.unit must be 'multiplier' or 'annualised', got 'percent'``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from validation.stress._base import StrictModel
from validation.stress.conditions import (
    FeedCorruption,
    Jumps,
    Leakage,
    LiquiditySchedule,
    MoveSchedule,
    Onset,
    SpreadSchedule,
    VolatilitySchedule,
)
from validation.stress.errors import ScenarioFileError, format_validation_error

__all__ = [
    "SCENARIO_FILE",
    "REQUIRED_SCENARIOS",
    "TRADING_DAYS_PER_YEAR",
    "Scenario",
    "ScenarioLibrary",
    "load_scenarios",
]

#: The scenario library shipped with the package (package data, also inside a wheel).
SCENARIO_FILE: Traversable = files("validation.stress") / "scenarios.yaml"
#: Scenarios the shipped library must contain.
REQUIRED_SCENARIOS = (
    "baseline",
    "vol_spike",
    "liquidity_withdrawal",
    "spread_blowout",
    "flash_crash_recovery",
    "falling_market",
    "feed_corruption",
    "rts6_peak_load",
    "predatory_traders",
)
#: Annualisation of volatilities given with ``unit: annualised``.
TRADING_DAYS_PER_YEAR = 252
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class Scenario(StrictModel):
    """One stress scenario; all fields but ``name`` and ``description`` are optional.

    Attributes
    ----------
    name
        Identifier (lower-case letters, digits, ``_``).
    description
        What the scenario represents.
    volatility, liquidity, spread, market_move
        Schedules over minutes since the order's start (see the module docstring).
    jumps
        Jump process replacing the market model's.
    feed
        Corruption of the quote feed seen by the controls.
    leakage
        How other participants react to an order they can see (none when not set).
    onset
        Session minutes between which the scenario begins, drawn per path; its knots then
        count minutes from the onset. Without one they count from the order's start.
    controls
        ``"desk"``: each order runs under the desk's controls sized for it
        (:func:`validation.stress.runner.order_controls`); ``"none"``: every control off,
        the schedule's own footprint.
    """

    name: str
    description: str = Field(min_length=1)
    volatility: VolatilitySchedule | None = None
    liquidity: LiquiditySchedule | None = None
    spread: SpreadSchedule | None = None
    market_move: MoveSchedule | None = None
    jumps: Jumps | None = None
    feed: FeedCorruption | None = None
    leakage: Leakage | None = None
    onset: Onset | None = None
    controls: Literal["desk", "none"] = "desk"

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError(
                "name must be lower-case letters, digits and '_', starting with a letter"
            )
        return name

    # --- evaluation on a simulation grid --------------------------------------------------------
    def daily_volatility(self, minutes: np.ndarray, base: float) -> np.ndarray:
        """Relative daily volatility at ``minutes`` given the order's own ``base`` volatility."""
        minutes = np.asarray(minutes, dtype=float)
        if self.volatility is None:
            return np.full(minutes.shape, float(base))
        level = self.volatility.at(minutes)
        if self.volatility.unit == "annualised":
            return level / math.sqrt(TRADING_DAYS_PER_YEAR)
        return base * level

    def liquidity_at(self, minutes: np.ndarray) -> np.ndarray:
        """Market-volume multiplier at ``minutes`` (1 when not set)."""
        minutes = np.asarray(minutes, dtype=float)
        return np.ones(minutes.shape) if self.liquidity is None else self.liquidity.at(minutes)

    def spread_at(self, minutes: np.ndarray) -> np.ndarray:
        """Spread multiplier at ``minutes`` (1 when not set)."""
        minutes = np.asarray(minutes, dtype=float)
        return np.ones(minutes.shape) if self.spread is None else self.spread.at(minutes)

    def market_move_at(self, minutes: np.ndarray) -> np.ndarray:
        """Cumulative deterministic move of the mid at ``minutes`` (0 when not set)."""
        minutes = np.asarray(minutes, dtype=float)
        return np.zeros(minutes.shape) if self.market_move is None else self.market_move.at(minutes)


class ScenarioLibrary(StrictModel):
    """A validated set of scenarios, keyed by name, in file order.

    Attributes
    ----------
    version
        Format version of the file (1).
    scenarios
        Scenario name -> :class:`Scenario`.
    sha256
        SHA-256 (hex) of the file bytes the library was loaded from, set by
        :func:`load_scenarios` (a file may not declare it); ``None`` for a library built in
        code. A field, so that it survives pickling and JSON round trips with the library.
    """

    version: Literal[1]
    scenarios: dict[str, Scenario] = Field(min_length=1)
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")

    @model_validator(mode="before")
    @classmethod
    def _inject_names(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("scenarios"), dict):
            scenarios = {}
            for key, body in data["scenarios"].items():
                if isinstance(body, dict) and "name" not in body:
                    body = {"name": key, **body}
                scenarios[key] = body
            data = {**data, "scenarios": scenarios}
        return data

    @model_validator(mode="after")
    def _check_keys(self) -> ScenarioLibrary:
        for key, scenario in self.scenarios.items():
            if scenario.name != key:
                raise ValueError(f"scenario {key!r} has a different name field {scenario.name!r}")
        return self

    def __getitem__(self, name: str) -> Scenario:
        try:
            return self.scenarios[name]
        except KeyError:
            raise KeyError(
                f"unknown scenario {name!r}; expected one of {', '.join(self.scenarios)}"
            ) from None

    def __len__(self) -> int:
        return len(self.scenarios)

    @property
    def names(self) -> list[str]:
        """Scenario names in file order."""
        return list(self.scenarios)

    @property
    def in_order(self) -> list[Scenario]:
        """The scenarios in file order.

        A method, not ``__iter__``: iterating a pydantic model yields its fields, which
        tools such as Prefect rely on when they walk a task's parameters.
        """
        return list(self.scenarios.values())

    def select(self, names: list[str]) -> ScenarioLibrary:
        """Return a library with only ``names``, in that order, from the same file."""
        return ScenarioLibrary(version=1, scenarios={n: self[n] for n in names}, sha256=self.sha256)


def _allowed_fields() -> dict[str, list[str]]:
    """Fields a scenario file may set, by model (the library's hash is not one of them)."""
    models = (ScenarioLibrary, Scenario, VolatilitySchedule, Jumps, FeedCorruption)
    fields = {m.__name__: list(m.model_fields) for m in models}
    fields[ScenarioLibrary.__name__].remove("sha256")
    return fields


def _read(file: Path | Traversable) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        raise ScenarioFileError(
            f"scenario file {file} cannot be read: expected a readable YAML or JSON file, "
            f"got {type(exc).__name__}: {exc.strerror or exc}"
        ) from None


def _parse(content: bytes, file: Path | Traversable) -> dict[str, Any]:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioFileError(f"scenario file {file} is not UTF-8 text: {exc}") from None
    try:
        data = json.loads(text) if file.name.lower().endswith(".json") else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise ScenarioFileError(f"scenario file {file} is not valid YAML/JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioFileError(
            f"scenario file {file} must hold a mapping with 'version' and 'scenarios', "
            f"got {type(data).__name__}"
        )
    return data


def load_scenarios(
    path: str | Path | None = None, *, require: tuple[str, ...] = ()
) -> ScenarioLibrary:
    """Load and validate a scenario library.

    Parameters
    ----------
    path
        YAML or JSON file; the shipped :data:`SCENARIO_FILE` when ``None``.
    require
        Scenario names that must be present. With the shipped file the
        :data:`REQUIRED_SCENARIOS` are always required.

    Returns
    -------
    ScenarioLibrary
        The validated, frozen library, with the SHA-256 of the file's bytes as ``sha256``.

    Raises
    ------
    ScenarioFileError
        When the file is missing, unreadable, not YAML/JSON, or fails validation.
    """
    file = SCENARIO_FILE if path is None else Path(path)
    if path is None:
        require = tuple(dict.fromkeys((*REQUIRED_SCENARIOS, *require)))
    content = _read(file)
    data = _parse(content, file)
    if "sha256" in data:
        raise ScenarioFileError(
            f"scenario file {file} must not set sha256 (it is the hash of the file's bytes, "
            f"computed on load), got {data['sha256']!r}"
        )
    try:
        library = ScenarioLibrary.model_validate(
            {**data, "sha256": hashlib.sha256(content).hexdigest()}
        )
    except ValidationError as exc:
        raise ScenarioFileError(
            format_validation_error(
                exc.errors(), title=f"scenario file {file}", allowed=_allowed_fields()
            )
        ) from None
    missing = [name for name in require if name not in library.scenarios]
    if missing:
        raise ScenarioFileError(
            f"scenario file {file} must define scenarios {', '.join(missing)}; "
            f"got {', '.join(library.names)}"
        )
    return library
