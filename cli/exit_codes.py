"""The exit-code map of ``govern``: one documented code per class of outcome.

0 done, 1 unexpected error, 2 usage error, 3 input data rejected, 4 candidate rejected by
its gates, 5 not authorised, 6 integrity check failed, 7 decided and recorded but the
registry not updated (run ``govern audit reconcile``).
"""

from __future__ import annotations

from vocabulary.errors import (
    CandidateRejected,
    DataRejected,
    IntegrityError,
    NotAuthorised,
    RecordedNotApplied,
    UsageError,
)

__all__ = [
    "EXIT_OK",
    "EXIT_UNEXPECTED",
    "EXIT_USAGE",
    "EXIT_DATA_REJECTED",
    "EXIT_GATES_FAILED",
    "EXIT_NOT_AUTHORISED",
    "EXIT_INTEGRITY",
    "EXIT_RECORDED_NOT_APPLIED",
    "exit_code_for",
]

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_DATA_REJECTED = 3
EXIT_GATES_FAILED = 4
EXIT_NOT_AUTHORISED = 5
EXIT_INTEGRITY = 6
EXIT_RECORDED_NOT_APPLIED = 7

_CODES: dict[type[BaseException], int] = {
    UsageError: EXIT_USAGE,
    DataRejected: EXIT_DATA_REJECTED,
    CandidateRejected: EXIT_GATES_FAILED,
    NotAuthorised: EXIT_NOT_AUTHORISED,
    IntegrityError: EXIT_INTEGRITY,
    RecordedNotApplied: EXIT_RECORDED_NOT_APPLIED,
}


def exit_code_for(error: BaseException) -> int:
    """The exit code of ``error``: that of its nearest class in the map, else 1."""
    for cls in type(error).__mro__:
        if cls in _CODES:
            return _CODES[cls]
    return EXIT_UNEXPECTED
