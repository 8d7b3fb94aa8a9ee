"""The stores: where the pipeline keeps its state, and the one handle on it.

Settings resolved from the environment at call time, the :class:`~governance.stores.handle.Stores`
handle (an MLflow client with explicit URIs and the audit log), the MLflow registry and
tracking calls, dataset snapshots, the code version, and registered artifacts loaded by
what the log recorded. Imports only the ledger below it.
"""
