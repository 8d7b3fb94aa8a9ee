"""The governed loader: the champion by the verified log, its release checked.

``from governance import load_champion`` is the execution engine's entry point; it
imports neither numba nor the stress engine nor the lineage reports.
"""
