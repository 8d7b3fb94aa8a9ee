"""Every decision a champion serves, attributed to its version (MiFID II RTS 6 Art 12).

:class:`DecisionLog` keeps, for each order the execution engine asks about, the order id,
the model and version that decided, the inputs it decided on (and their SHA-256), the
decision (the horizon and the predicted cost), when and in which process. Off the hot
path: a decision appends one row to memory; every ``flush_every`` decisions (on the
deciding call), or when the oldest unwritten one is ``max_age_seconds`` old (by a
background timer, so an idle engine's last decisions are written too), the buffer is
written as one new Parquet file, the inputs' SHA-256 computed then. Files are only
ever added, never rewritten:
``<workdir>/decisions/<model>/<YYYY-MM-DD>/v<version>-<host>-<pid>-<n>.parquet``.

What a crash can lose: the decisions not yet flushed, at most ``flush_every`` of them or
``max_age_seconds`` worth. :func:`read_decisions` reads them back for
``govern decisions --order ID``.
"""

from __future__ import annotations

import atexit
import hashlib
import math
import os
import socket
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from models import CompiledPolicy

if TYPE_CHECKING:  # Arrow loads on the first write, not with the governed loader
    import pyarrow as pa

__all__ = ["DECISIONS_FOLDER", "AttributedDecider", "DecisionLog", "read_decisions"]

#: Where the decisions of a work directory are kept, one folder per model below it.
DECISIONS_FOLDER = "decisions"


class DecisionLog:
    """An append-only, buffered log of one version's decisions.

    Parameters
    ----------
    folder
        The model's folder (``<workdir>/decisions/<model>``).
    model, version
        Who decides.
    argument_names, decision_names
        Names of the inputs and of the decision's values, in the order given.
    flush_every
        Decisions per Parquet file at most.
    max_age_seconds
        Longest a decision waits in memory before it is written.
    """

    def __init__(
        self,
        folder: Path,
        model: str,
        version: str,
        argument_names: Sequence[str],
        decision_names: Sequence[str],
        *,
        flush_every: int = 4096,
        max_age_seconds: float = 1.0,
    ) -> None:
        if flush_every < 1 or not max_age_seconds > 0:
            raise ValueError(
                f"flush_every must be >= 1 and max_age_seconds > 0, got {flush_every} and "
                f"{max_age_seconds}"
            )
        self.folder, self.model, self.version = folder, model, version
        self.argument_names, self.decision_names = tuple(argument_names), tuple(decision_names)
        self.flush_every, self.max_age_seconds = flush_every, max_age_seconds
        self._process = f"{socket.gethostname()}:{os.getpid()}"
        self._lock = threading.Lock()
        self._files = 0
        self._clear()
        self._closed = threading.Event()
        self._timer = threading.Thread(target=self._flush_when_old, daemon=True)
        self._timer.start()
        atexit.register(self.close)

    def _clear(self) -> None:
        self._rows: list[tuple[str, int, tuple[float, ...], tuple[float, ...]]] = []
        self._oldest = 0.0

    def record(self, order_id: str, inputs: tuple[float, ...], decision: tuple[float, ...]) -> None:
        """Keep one decision; write the buffer when it holds ``flush_every`` of them.

        The age limit is kept by the background timer, so the hot path pays one append and
        a length check.

        Raises
        ------
        RuntimeError
            If the log was closed: a decision nobody would record must not be served.
        """
        if self._closed.is_set():
            raise RuntimeError(f"the decision log of {self.model} v{self.version} is closed")
        with self._lock:
            rows = self._rows
            if not rows:
                self._oldest = time.monotonic()
            rows.append((order_id, time.time_ns(), inputs, decision))
            if len(rows) >= self.flush_every:
                self._write()

    def flush(self) -> Path | None:
        """Write what is buffered now; return the file, or None when nothing was."""
        with self._lock:
            return self._write()

    def close(self) -> None:
        """Write what is buffered and stop the timer; later decisions are refused."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._timer.join()
        self.flush()
        atexit.unregister(self.close)

    def _flush_when_old(self) -> None:
        while not self._closed.wait(self.max_age_seconds / 4):
            with self._lock:
                if self._rows and time.monotonic() - self._oldest >= self.max_age_seconds:
                    self._write()

    def _write(self) -> Path | None:
        if not self._rows:
            return None
        table = self._table()
        first = self._rows[0][1]
        day = datetime.fromtimestamp(first / 1e9, UTC).strftime("%Y-%m-%d")
        host, pid = self._process.split(":")
        self._files += 1
        path = self.folder / day / f"v{self.version}-{host}-{pid}-{self._files}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written under a temporary name and renamed: a reader never sees half a file.
        partial = path.with_suffix(".parquet.partial")
        import pyarrow.parquet as pq

        pq.write_table(table, partial)
        os.replace(partial, path)
        self._clear()
        return path

    def _table(self) -> pa.Table:
        import pyarrow as pa

        order_ids, times, inputs, decisions = zip(*self._rows, strict=True)
        width = len(self.argument_names)
        # An optional last argument left out is logged as missing, not shifted.
        padded = [row + (math.nan,) * (width - len(row)) for row in inputs]
        values = np.asarray(padded, dtype=np.float64).reshape(len(padded), width)
        packed = values.tobytes()
        step = 8 * width
        hashes = [
            hashlib.sha256(
                o.encode("utf-8") + b"\0" + packed[i * step : (i + 1) * step]
            ).hexdigest()
            for i, o in enumerate(order_ids)
        ]
        n = len(order_ids)
        columns: dict[str, pa.Array] = {
            "order_id": pa.array(order_ids, pa.string()),
            "model": pa.array([self.model] * n, pa.string()),
            "version": pa.array([self.version] * n, pa.string()),
            "decided_at": pa.array(times, pa.timestamp("ns", tz="UTC")),
            "process": pa.array([self._process] * n, pa.string()),
            "inputs_sha256": pa.array(hashes, pa.string()),
        }
        for index, name in enumerate(self.argument_names):
            columns[name] = pa.array(values[:, index])
        outcome = np.asarray(decisions, dtype=np.float64).reshape(n, len(self.decision_names))
        for index, name in enumerate(self.decision_names):
            columns[name] = pa.array(outcome[:, index])
        return pa.table(columns)


def read_decisions(folder: Path, order_id: str | None = None) -> pd.DataFrame:
    """The decisions logged under ``folder`` (a model's, or all models'), oldest first.

    Parameters
    ----------
    folder
        ``<workdir>/decisions`` or one model's folder below it.
    order_id
        Only this order's decisions.
    """
    files = sorted(folder.rglob("*.parquet")) if folder.is_dir() else []
    wanted = None if order_id is None else [("order_id", "==", order_id)]
    frames = [pd.read_parquet(path, filters=wanted) for path in files]
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return pd.DataFrame()
    found = pd.concat(frames, ignore_index=True)
    return found.sort_values("decided_at", kind="stable").reset_index(drop=True)


class AttributedDecider:
    """A champion's compiled policy whose every decision is logged to its version.

    Use as a context manager, or call :meth:`close` when done: buffered decisions are
    written then (and at interpreter exit).
    """

    def __init__(self, policy: CompiledPolicy, log: DecisionLog) -> None:
        self._policy, self.log = policy, log

    def decide_one(self, order_id: str, *order: float) -> tuple[float, ...]:
        """The policy's decision for one order (its scalar fields), logged under ``order_id``."""
        decision = self._policy.decide_one(*order)
        self.log.record(order_id, order, decision)
        return decision

    def close(self) -> None:
        """Write the buffered decisions; the decider serves no more."""
        self.log.close()

    def __enter__(self) -> AttributedDecider:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
