"""Trust: who may decide, and proof of who did.

Key pairs (:mod:`~governance.trust.identity`), the signed statement of each decision and
their checking (:mod:`~governance.trust.signatures`), signed checkpoints of the chain kept
outside the database, OpenSSF model-signing releases, and the policy in force with the
keys it lists. Imports the stores and the ledger; never the lifecycle, whose rules it is
handed (:data:`~governance.trust.signatures.RuleCheck`).
"""
