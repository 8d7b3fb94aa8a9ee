"""Dataset snapshots: tables read from a directory, each referenced by URI and SHA-256.

Data is never copied or edited: the snapshot records where each file is and the hash
of its bytes, so an auditor can later prove that a model was trained on exactly them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from governance.hashing import sha256_file, sha256_json
from vocabulary.errors import UsageError

__all__ = ["Snapshot", "TABLE_FILES", "load_snapshot"]

#: File stem -> whether the table is required.
TABLE_FILES = {"executions": True, "market_bars": False, "rfq": False}


@dataclass(frozen=True)
class Snapshot:
    """The tables of one data directory and the hashes that identify them."""

    uri: str
    file_sha256: dict[str, str]
    tables: dict[str, pd.DataFrame] = field(repr=False)

    @property
    def sha256(self) -> str:
        """One digest for the whole snapshot: SHA-256 over the sorted per-file hashes."""
        return sha256_json(self.file_sha256)

    @property
    def rows(self) -> dict[str, int]:
        """Row count per table."""
        return {name: len(frame) for name, frame in self.tables.items()}


def load_snapshot(data_dir: Path) -> Snapshot:
    """Hash and read ``<data_dir>/<table>.parquet`` for every known table present.

    Raises
    ------
    UsageError
        If the directory or a required table is missing, or a file is not readable
        Parquet; the message names the path and what was expected.
    """
    data_dir = Path(data_dir).resolve()
    if not data_dir.is_dir():
        raise UsageError(f"--data must be a directory of Parquet tables, got {data_dir}")
    hashes: dict[str, str] = {}
    tables: dict[str, pd.DataFrame] = {}
    for name, required in TABLE_FILES.items():
        path = data_dir / f"{name}.parquet"
        if not path.is_file():
            if required:
                raise UsageError(f"expected {path} (the {name} table), but it does not exist")
            continue
        hashes[f"{name}.parquet"] = sha256_file(path)
        tables[name] = _read_parquet(path)
    return Snapshot(uri=data_dir.as_uri(), file_sha256=hashes, tables=tables)


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for bad files
        raise UsageError(f"expected a Parquet file at {path}, could not read it: {exc}") from exc
