"""Reading the policy file at the edge: its bytes, their hash, the validated policy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from governance.hashing import sha256_file
from validation.policy import ModelPolicy, PolicyError, parse_policy
from validation.stress import ScenarioLibrary, load_scenarios
from vocabulary import UsageError

__all__ = ["LoadedPolicy", "load_model_policy"]


@dataclass(frozen=True)
class LoadedPolicy:
    """A model's policy and the identity of the file it came from."""

    policy: ModelPolicy
    path: Path
    sha256: str


def load_model_policy(
    path: Path, model_name: str, library: ScenarioLibrary | None = None
) -> LoadedPolicy:
    """Read, hash and validate the policy file; return the entry of ``model_name``.

    Parameters
    ----------
    path, model_name
        The policy file and the registered model whose entry is wanted.
    library
        The scenario library the policy's scenario names are checked against; the shipped
        one when ``None`` (a run passes the library it loaded once).

    Raises
    ------
    UsageError
        If the file is missing, malformed, or has no entry for the model.
    """
    if not path.is_file():
        raise UsageError(f"expected a policy file at {path} (set GOVERN_POLICY), found none")
    try:
        policy = parse_policy(path.read_text(encoding="utf-8"), str(path)).for_model(model_name)
    except PolicyError as exc:
        raise UsageError(str(exc)) from exc
    known = set((library or load_scenarios()).names)
    named = {
        *policy.stress_scenarios,
        *policy.risk_metric_scenarios,
        *policy.decision_scenarios,
        *(s for levels in policy.risk_metrics.values() for s in levels.scenarios or ()),
    }
    unknown = sorted(named - known)
    if unknown:
        raise UsageError(
            f"{path}: scenarios {unknown} of {model_name} are not in the scenario library "
            f"({', '.join(sorted(known))}); a typo would silently apply the default limits"
        )
    return LoadedPolicy(policy, path, sha256_file(path))
