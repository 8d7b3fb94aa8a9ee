"""SHA-256 digests of files, directory trees and JSON payloads.

Every hash the governance pipeline records (datasets, model artifacts, audit-log
payloads and events) comes from this module, so that the same content always
gives the same hex digest on every machine.

* :func:`sha256_file` streams one file in fixed-size chunks.
* :func:`sha256_tree` digests a directory as the sorted set of
  ``(relative path, file digest)`` pairs: renaming, moving, adding, removing or
  editing any file changes it; timestamps, permissions and empty directories do
  not (object stores such as S3 cannot represent empty directories, so a tree
  downloaded from one must hash like the original).
* :func:`canonical_json` renders a payload as canonical JSON text (sorted keys,
  no whitespace, UTF-8, no NaN or infinity) and refuses anything that is not
  plain JSON instead of silently stringifying it.
* :func:`sha256_json` and :func:`sha256_text` hash such text.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vocabulary.errors import UsageError

__all__ = [
    "CHUNK_SIZE",
    "TREE_DIGEST_VERSION",
    "canonical_json",
    "sha256_file",
    "sha256_json",
    "sha256_path",
    "sha256_text",
    "sha256_tree",
]

CHUNK_SIZE = 1 << 20
"""Bytes read per step when streaming a file (1 MiB)."""

TREE_DIGEST_VERSION = b"governance-tree-sha256-v1"
"""Domain prefix of :func:`sha256_tree`; changing the tree encoding must change it."""

_JSON_TYPES = "dict with str keys, list, tuple, str, int, finite float, bool or None"


def sha256_file(path: str | os.PathLike[str], *, chunk_size: int = CHUNK_SIZE) -> str:
    """Return the SHA-256 hex digest of a file's content, read in chunks.

    Parameters
    ----------
    path : str or os.PathLike
        File to hash. Symbolic links are followed.
    chunk_size : int, optional
        Bytes read per step; memory use is bounded by it.

    Returns
    -------
    str
        64 lowercase hex characters.

    Raises
    ------
    UsageError
        If ``path`` does not exist or is not a regular file.

    """
    file_path = Path(path)
    if not file_path.is_file():
        raise UsageError(f"expected a regular file to hash, got {_describe(file_path)}")
    if chunk_size <= 0:
        raise UsageError(f"chunk_size must be > 0, got {chunk_size}")
    digest = hashlib.sha256()
    with file_path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_tree(path: str | os.PathLike[str]) -> str:
    """Return the SHA-256 hex digest of every file under a directory.

    The digest covers, for each file in the order of its relative POSIX path,
    the path itself and the SHA-256 of the file's content, each record framed
    so that no two different trees can produce the same byte stream. Renaming
    or editing a file, or adding or removing one, therefore changes the digest.
    Empty directories, timestamps and permissions do not.

    Parameters
    ----------
    path : str or os.PathLike
        Root directory. Symbolic links to files are hashed by the content they
        point to; symbolic links to directories are refused (they could loop,
        and artifact uploads do not follow them).

    Returns
    -------
    str
        64 lowercase hex characters.

    Raises
    ------
    UsageError
        If ``path`` is not a directory, or the tree holds a symbolic link to a
        directory, a broken link or a special file (socket, FIFO, device).

    """
    root = Path(path)
    if not root.is_dir():
        raise UsageError(f"expected a directory to hash, got {_describe(root)}")
    digest = hashlib.sha256()
    digest.update(TREE_DIGEST_VERSION + b"\n")
    for relative, file_path in sorted(_tree_files(root)):
        digest.update(_tree_record(relative, sha256_file(file_path)))
    return digest.hexdigest()


def sha256_path(path: str | os.PathLike[str]) -> str:
    """Return :func:`sha256_file` of a file or :func:`sha256_tree` of a directory.

    Parameters
    ----------
    path : str or os.PathLike
        File or directory to hash.

    Returns
    -------
    str
        64 lowercase hex characters.

    Raises
    ------
    UsageError
        If ``path`` is neither a regular file nor a directory.

    """
    target = Path(path)
    if target.is_dir():
        return sha256_tree(target)
    return sha256_file(target)


def canonical_json(obj: Any, *, label: str = "value") -> str:
    """Render plain JSON data as canonical text: sorted keys, no spaces, UTF-8.

    Equal data gives equal text (and therefore equal hashes) whatever the
    order in which dictionaries were built. Tuples are written as lists.

    Parameters
    ----------
    obj : Any
        A ``dict`` with ``str`` keys, ``list``, ``tuple``, ``str``, ``int``,
        finite ``float``, ``bool`` or ``None``, nested freely.
    label : str, optional
        Name of ``obj`` in error messages (e.g. ``"payload"``).

    Returns
    -------
    str
        The canonical JSON text.

    Raises
    ------
    UsageError
        If any value is of another type (``datetime``, ``Path``, ``set``,
        NumPy integers, ...), a float is NaN or infinite, a key is not a
        ``str``, or a string cannot be encoded as UTF-8. The message names
        where in ``obj`` the offending value sits.

    """
    _check_json(obj, label)
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_text(text: str) -> str:
    """Return the SHA-256 hex digest of a string's UTF-8 encoding.

    Parameters
    ----------
    text : str
        Text to hash, typically the output of :func:`canonical_json`.

    Returns
    -------
    str
        64 lowercase hex characters.

    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_json(obj: Any, *, label: str = "value") -> str:
    """Return the SHA-256 hex digest of :func:`canonical_json` of ``obj``.

    Parameters
    ----------
    obj : Any
        Plain JSON data; see :func:`canonical_json`.
    label : str, optional
        Name of ``obj`` in error messages.

    Returns
    -------
    str
        64 lowercase hex characters.

    Raises
    ------
    UsageError
        If ``obj`` is not plain JSON data.

    """
    return sha256_text(canonical_json(obj, label=label))


def _tree_files(root: Path) -> Iterator[tuple[str, Path]]:
    """Yield ``(relative POSIX path, absolute path)`` of every file under ``root``."""
    pending = [root]
    while pending:
        directory = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                entry_path = Path(entry.path)
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry_path)
                elif entry.is_file(follow_symlinks=True):
                    yield entry_path.relative_to(root).as_posix(), entry_path
                else:
                    raise UsageError(
                        f"expected only regular files, directories and links to files under "
                        f"{root}, got {_describe(entry_path)}"
                    )


def _tree_record(relative: str, file_digest: str) -> bytes:
    """Frame one tree entry: path, NUL, 64 hex digits, newline (paths cannot hold NUL)."""
    return relative.encode("utf-8", "surrogateescape") + b"\0" + file_digest.encode() + b"\n"


def _describe(path: Path) -> str:
    """Say what sits at ``path``, for error messages."""
    if path.is_symlink() and not path.exists():
        return f"a broken symbolic link: {path}"
    if path.is_symlink() and path.is_dir():
        return f"a symbolic link to a directory: {path}"
    if not path.exists():
        return f"a missing path: {path}"
    if path.is_dir():
        return f"a directory: {path}"
    if path.is_file():
        return f"a file: {path}"
    return f"a special file (socket, FIFO or device): {path}"


def _check_json(value: Any, where: str) -> None:
    """Raise :class:`UsageError` unless ``value`` is plain, finite JSON data."""
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, str):
        _check_utf8(value, where)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise UsageError(f"{where} must be a finite number, got {value!r}")
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise UsageError(
                    f"keys must be str, got {type(key).__name__} key {key!r} in {where}"
                )
            _check_utf8(key, where)
            _check_json(item, f"{where}[{key!r}]")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_json(item, f"{where}[{index}]")
    else:
        kind = f"{type(value).__module__}.{type(value).__qualname__}"
        raise UsageError(f"{where} must be JSON data ({_JSON_TYPES}), got {kind}: {value!r:.80}")


def _check_utf8(text: str, where: str) -> None:
    """Raise :class:`UsageError` if ``text`` holds lone surrogates (not encodable as UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UsageError(f"{where} must be valid Unicode text, got {text!r:.80} ({exc})") from exc
