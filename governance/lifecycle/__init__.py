"""The lifecycle: the rulebook applied, before acting and on the record.

:mod:`~governance.lifecycle.rule_checks` judges one decision against the table of
:mod:`vocabulary.rulebook`; :mod:`~governance.lifecycle.actions` takes the steps
(sign-off, promotion, rollback, decommissioning) under a lease, crash-safe;
:mod:`~governance.lifecycle.adoption` adopts a policy, :mod:`~governance.lifecycle.personas`
sets a team up, :mod:`~governance.lifecycle.view` and :mod:`~governance.lifecycle.reconcile`
keep the registry a view of the log.
"""
