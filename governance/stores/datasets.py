"""Dataset snapshots: tables read from a directory, each referenced by URI and SHA-256.

Data is never copied or edited: the snapshot records where each file is and the hash
of its bytes, so an auditor can later prove that a model was trained on exactly them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from governance.ledger.hashing import sha256_file, sha256_json
from vocabulary import DataRejected, UsageError

__all__ = ["Snapshot", "SnapshotRefused", "TABLE_FILES", "load_snapshot"]

#: The tables a snapshot directory may hold, as ``<name>.parquet``; which ones a model
#: needs is the family's business (:attr:`models.ModelFamily.required_tables`).
TABLE_FILES = ("executions", "market_bars", "rfq")


class SnapshotRefused(DataRejected):
    """A table file exists but cannot be read: the data is refused, with what was hashed."""

    def __init__(self, message: str, uri: str, file_sha256: dict[str, str]) -> None:
        super().__init__(message)
        self.uri = uri
        self.file_sha256 = file_sha256


@dataclass(frozen=True)
class Snapshot:
    """The tables of one data directory and the hashes that identify them."""

    uri: str
    file_sha256: dict[str, str]
    tables: dict[str, pd.DataFrame] = field(repr=False)

    @staticmethod
    def digest_of(file_sha256: Mapping[str, str]) -> str:
        """One digest for a set of files: SHA-256 over the sorted per-file hashes."""
        return sha256_json(dict(file_sha256))

    @property
    def sha256(self) -> str:
        """The snapshot's digest, see :meth:`digest_of`."""
        return self.digest_of(self.file_sha256)

    @property
    def rows(self) -> dict[str, int]:
        """Row count per table."""
        return {name: len(frame) for name, frame in self.tables.items()}


def load_snapshot(data_dir: Path) -> Snapshot:
    """Hash and read ``<data_dir>/<table>.parquet`` for every known table present.

    Every file is hashed before any is read, so that a refusal can name the exact bytes
    it refused.

    Raises
    ------
    UsageError
        If ``data_dir`` is not a directory (a usage error, not a data defect).
    SnapshotRefused
        If a table file is not readable Parquet; the message names the file.
    """
    data_dir = Path(data_dir).resolve()
    if not data_dir.is_dir():
        raise UsageError(f"--data must be a directory of Parquet tables, got {data_dir}")
    paths = {name: data_dir / f"{name}.parquet" for name in TABLE_FILES}
    present = {name: path for name, path in paths.items() if path.is_file()}
    hashes = {path.name: sha256_file(path) for path in present.values()}
    tables = {}
    for name, path in present.items():
        try:
            tables[name] = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several unrelated types for bad files
            raise SnapshotRefused(
                f"{name}: expected a readable Parquet file at {path} (check readable_file), "
                f"found one that cannot be read: {exc}",
                data_dir.as_uri(),
                hashes,
            ) from exc
    return Snapshot(uri=data_dir.as_uri(), file_sha256=hashes, tables=tables)
