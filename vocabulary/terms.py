"""The domain's vocabulary: lifecycle states, audit actions, aliases, tag keys, the session.

Each is a :class:`enum.StrEnum`, so a member *is* its string: it compares equal to the text
stored in MLflow tags and audit payloads and serialises to it in JSON, while a typo in code
is an ``AttributeError`` instead of a silently unknown word.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["SESSION_MINUTES", "Action", "Alias", "Lifecycle", "Role", "Rule", "Tag"]

SESSION_MINUTES = 390
"""Length of the trading session (09:30-16:00) in minutes: the clock of every order."""


class Lifecycle(StrEnum):
    """States of a model version, the values of its ``lifecycle`` tag."""

    VALIDATING = "validating"
    PENDING_SIGNOFF = "pending-signoff"
    REJECTED = "rejected"
    FAILED = "failed"
    APPROVED = "approved"
    CHAMPION = "champion"
    PREVIOUS = "previous"
    RETIRED = "retired"
    ROLLED_BACK = "rolled-back"
    DECOMMISSIONED = "decommissioned"

    @property
    def meaning(self) -> str:
        """Plain-English meaning of the state, as reports show it."""
        return _LIFECYCLE_MEANINGS[self]

    @property
    def promotable(self) -> bool:
        """Whether a version in this state may still become champion."""
        return self in (Lifecycle.APPROVED, Lifecycle.PREVIOUS, Lifecycle.ROLLED_BACK)


_LIFECYCLE_MEANINGS = {
    Lifecycle.VALIDATING: "registered; its checks had not finished",
    Lifecycle.PENDING_SIGNOFF: "passed its gates; waiting for a validator's sign-off",
    Lifecycle.REJECTED: "failed its gates or was turned down by a validator; never promotable",
    Lifecycle.FAILED: "a validation step failed after registration; never promotable",
    Lifecycle.APPROVED: "signed off, not promoted yet",
    Lifecycle.CHAMPION: "in production: it holds the 'champion' alias",
    Lifecycle.PREVIOUS: "the champion before the current one, kept as the rollback target",
    Lifecycle.RETIRED: "superseded twice over; no longer a rollback target",
    Lifecycle.ROLLED_BACK: "was champion and was taken out of production by a rollback",
    Lifecycle.DECOMMISSIONED: "retired for good: aliases removed, artifacts kept, never promotable",
}


class Action(StrEnum):
    """Actions of the audit log, ``subject.verb``."""

    DATA_VALIDATED = "data.validated"
    DATA_REJECTED = "data.rejected"
    CANDIDATE_TRAINED = "candidate.trained"
    CANDIDATE_COMPARED = "candidate.compared"
    CANDIDATE_STRESSED = "candidate.stressed"
    CANDIDATE_GATED = "candidate.gated"
    CANDIDATE_FAILED = "candidate.failed"
    SIGNOFF_APPROVED = "signoff.approved"
    SIGNOFF_REJECTED = "signoff.rejected"
    VERSION_PROMOTED = "version.promoted"
    VERSION_ROLLED_BACK = "version.rolled_back"
    VERSION_DECOMMISSIONED = "version.decommissioned"
    REGISTRY_RECONCILED = "registry.reconciled"
    REGISTRY_VERSION_DELETED = "registry.version_deleted"
    POLICY_ADOPTED = "policy.adopted"
    VERSION_RELEASED = "version.released"
    LIFECYCLE_INTENT = "lifecycle.intent"
    LIFECYCLE_COMPLETED = "lifecycle.completed"


class Alias(StrEnum):
    """MLflow registered-model aliases the pipeline moves (a view of the audit log)."""

    CANDIDATE = "candidate"
    CHAMPION = "champion"
    PREVIOUS = "previous"


class Tag(StrEnum):
    """Keys of the tags the pipeline writes on model versions and runs."""

    LIFECYCLE = "lifecycle"
    DATASET_URI = "lineage.dataset_uri"
    DATASET_SHA256 = "lineage.dataset_sha256"
    DATASET_ROWS = "lineage.dataset_rows"
    CODE_VERSION = "lineage.code_version"
    RUN_ID = "lineage.run_id"
    AUTHOR = "lineage.author"
    MODEL_SHA256 = "lineage.model_sha256"
    DATA_VALIDATION = "lineage.data_validation"
    GATES_PASSED = "gates.passed"
    GATES_FAILED = "gates.failed"
    GATES_POLICY_SHA256 = "gates.policy_sha256"
    APPROVALS = "signoff.approvals"
    REJECTED_BY = "signoff.rejected_by"
    REJECTION_COMMENT = "signoff.rejection_comment"
    DECOMMISSION_AT = "decommission.at"
    DECOMMISSION_BY = "decommission.by"
    DECOMMISSION_REASON = "decommission.reason"
    FAILURE_REASON = "failure.reason"
    AUDIT_CHECKPOINT = "audit.checkpoint"  # on the registered model: its latest checkpoint


class Role(StrEnum):
    """Who may take a lifecycle decision, as :mod:`vocabulary.rulebook` requires it."""

    OWNER = "owner"  # an owner of the policy in force
    MEMBER = "member"  # anyone the policy in force lists with a key
    VERSION_AUTHOR = "version author"  # whoever signed the version's training
    AUTHOR_OR_OPERATOR = "version author, validator or operator"
    VALIDATOR = "validator"  # a validator of the model
    OPERATOR = "validator or operator"  # of the model


class Rule(StrEnum):
    """The named rules a lifecycle decision is refused by, in messages and the rulebook."""

    OWNERS_ADOPT = "owners adopt policies"
    MODEL_IN_POLICY = "the policy covers the model"
    TRAINED_ONCE = "a version is trained once"
    KNOWN_VERSIONS = "only versions the log saw trained"
    ONLY_VALIDATING_JUDGED = "only validating versions are judged"
    AUTHORS_GATE = "authors gate their own versions"
    AUTHORS_OR_OPERATORS_CLOSE = "authors or operators close a failed validation"
    DECOMMISSIONED_IS_FINAL = "decommissioned is final"
    ONLY_PENDING_SIGNED = "only pending versions are signed"
    VALIDATORS_ONLY = "validators only"
    AUTOMATIC_APPROVAL = "automatic approval"
    MAKER_CHECKER = "maker-checker"
    SEPARATION_THROUGH_POLICY = "separation of duties through policy changes"
    GATES_MUST_PASS = "gates must pass"
    DISTINCT_APPROVERS = "distinct approvers"
    ONLY_APPROVED_RELEASED = "only approved versions are released"
    SIGNED_RELEASES = "signed releases"
    ONLY_APPROVED_PROMOTED = "only approved versions are promoted"
    REPLACEMENTS_APPROVED = "replacements must have been approved"
    ROLLBACK_TARGET = "roll back only to an approved, gated, live version"
    MOVES_BY_THE_LOG = "other versions move by the log"
    OPERATORS_ONLY = "operators only"
    SIGNED_DECISIONS = "signed decisions"
    ONE_CHANGE_AT_A_TIME = "one lifecycle change at a time"
