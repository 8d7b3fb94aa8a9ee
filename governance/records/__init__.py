"""What a retrain records: its run and version, its verdict, its admission, its events.

The MLflow run and registered version of a candidate, the records of its judgement
(challenger, stress and gate reports, failures), the admission or refusal of a snapshot,
the documented version tags, training plots, decision latency and OpenLineage run events.
"""
