"""Exception hierarchy of the governance pipeline.

Every error the product raises on purpose is a :class:`GovernanceError`; each child names a
class of outcome that ``govern`` maps to its own exit code (:mod:`cli.exit_codes`), so that
scripts and schedulers can tell "the data was refused" from "the candidate failed its gates"
without parsing messages.
"""

from __future__ import annotations

__all__ = [
    "GovernanceError",
    "UsageError",
    "DataRejected",
    "CandidateRejected",
    "NotAuthorised",
    "IntegrityError",
    "RecordedNotApplied",
]


class GovernanceError(Exception):
    """Base class of every deliberate failure of the product."""


class UsageError(GovernanceError):
    """A command or configuration was given values it cannot accept."""


class DataRejected(GovernanceError):
    """Input data failed a critical data-contract check; nothing was trained or registered."""


class CandidateRejected(GovernanceError):
    """A trained candidate failed one or more gates; it is registered as rejected."""


class NotAuthorised(GovernanceError):
    """A sign-off, promotion or other lifecycle action was refused by the policy."""

    @classmethod
    def by(cls, rule: str, reason: str) -> NotAuthorised:
        """The refusal by a named rule (a :class:`~vocabulary.Rule`), in the one wording."""
        return cls(f"refused by rule '{rule}': {reason}")


class IntegrityError(GovernanceError):
    """A stored hash, hash chain or artifact does not match what was recorded."""


class RecordedNotApplied(GovernanceError):
    """A lifecycle action's decisions are on the log, in force, but the registry is stale.

    The registry is a view of the log: ``govern audit reconcile`` brings it up to date once
    the store that failed is back; repeating the action is neither needed nor allowed.
    """
