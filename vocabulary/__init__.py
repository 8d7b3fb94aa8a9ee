"""The leaf every layer may import: the exception hierarchy and the domain's words.

Nothing here imports another package of the project, so ``synthetic``, ``models``,
``validation``, ``governance``, ``flows`` and ``cli`` can all name a lifecycle state, an
audit action, an alias or a tag key without importing upward.
"""

from vocabulary.errors import (
    CandidateRejected,
    DataRejected,
    GovernanceError,
    IntegrityError,
    NotAuthorised,
    RecordedNotApplied,
    UsageError,
)
from vocabulary.terms import SESSION_MINUTES, Action, Alias, Lifecycle, Role, Rule, Tag

__all__ = [
    "SESSION_MINUTES",
    "Action",
    "Alias",
    "CandidateRejected",
    "DataRejected",
    "GovernanceError",
    "IntegrityError",
    "Lifecycle",
    "NotAuthorised",
    "RecordedNotApplied",
    "Role",
    "Rule",
    "Tag",
    "UsageError",
]
