"""Exception hierarchy of the governance pipeline and the CLI exit codes it maps to.

Every error the product raises on purpose is a :class:`GovernanceError`. Its
``exit_code`` is what ``govern`` returns, so scripts and schedulers can tell
"the data was refused" from "the candidate failed its gates" without parsing
messages.
"""

from __future__ import annotations

__all__ = [
    "EXIT_OK",
    "EXIT_UNEXPECTED",
    "EXIT_USAGE",
    "EXIT_DATA_REJECTED",
    "EXIT_GATES_FAILED",
    "EXIT_NOT_AUTHORISED",
    "EXIT_INTEGRITY",
    "GovernanceError",
    "UsageError",
    "DataRejected",
    "CandidateRejected",
    "NotAuthorised",
    "IntegrityError",
]

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_DATA_REJECTED = 3
EXIT_GATES_FAILED = 4
EXIT_NOT_AUTHORISED = 5
EXIT_INTEGRITY = 6


class GovernanceError(Exception):
    """Base class of every deliberate failure; carries the CLI exit code."""

    exit_code: int = EXIT_UNEXPECTED


class UsageError(GovernanceError):
    """A command or configuration was given values it cannot accept."""

    exit_code = EXIT_USAGE


class DataRejected(GovernanceError):
    """Input data failed a critical data-contract check; nothing was trained or registered."""

    exit_code = EXIT_DATA_REJECTED


class CandidateRejected(GovernanceError):
    """A trained candidate failed one or more gates; it is registered as rejected."""

    exit_code = EXIT_GATES_FAILED


class NotAuthorised(GovernanceError):
    """A sign-off, promotion or other lifecycle action was refused by the policy."""

    exit_code = EXIT_NOT_AUTHORISED


class IntegrityError(GovernanceError):
    """A stored hash, hash chain or artifact does not match what was recorded."""

    exit_code = EXIT_INTEGRITY
