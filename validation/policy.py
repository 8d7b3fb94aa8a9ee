"""The governance policy of a registered model: who signs, and the limits a candidate must meet.

One YAML file (``governance/default_policy.yaml`` by default, ``GOVERN_POLICY``) holds a
policy per registered model, the people who may adopt a new policy (``owners``) and the
public key of every person named in it (``members``). It is validated on load; any unknown
key, missing field or inconsistent level is refused with the path of the offending field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from validation.stress.catalogue import (
    RISK_METRIC_DEFINITIONS,
    RISK_METRICS,
    SCENARIO_LIMIT_METRICS,
)

__all__ = [
    "DEFAULT_RISK_LEVELS",
    "AlertAction",
    "CalibrationLimits",
    "ModelPolicy",
    "PolicyFile",
    "PolicyError",
    "PublicKey",
    "ReleaseSigner",
    "RiskExceedance",
    "ScenarioLimits",
    "parse_policy",
]


class PolicyError(ValueError):
    """The policy file is malformed; the message names the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AlertAction(_Strict):
    """An alert level (warn) and a higher action level (fail the gate).

    ``scenarios``, when given, are where this metric is judged instead of the policy's
    ``risk_metric_scenarios`` (leakage, for one, can only show where others react).
    """

    alert: float = Field(ge=0)
    action: float = Field(ge=0)
    scenarios: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _action_above_alert(self) -> AlertAction:
        if self.action < self.alert:
            raise ValueError(
                f"action level must be >= alert level, got {self.action} < {self.alert}"
            )
        return self


#: Alert and action levels used when a policy does not set its own: the defaults of
#: :data:`validation.stress.catalogue.RISK_METRIC_DEFINITIONS`.
DEFAULT_RISK_LEVELS = {
    m.name: AlertAction(alert=m.default_alert, action=m.default_action)
    for m in RISK_METRIC_DEFINITIONS
}


class ScenarioLimits(_Strict):
    """Per-scenario limits on the stressed execution: tail cost, kill switch, completion, cap.

    One field per metric of :data:`validation.stress.catalogue.SCENARIO_LIMIT_METRICS`,
    named alike (the gates read each limit by the metric's name). A limit left out is not
    judged in that scenario (no check is listed that could not fail): under stress, the
    kill switch firing, the cap binding and the backstop completing are the controls doing
    their job, and the tail cost and the paired decisions are what is judged.
    """

    cvar95_over_loss_budget: float = Field(gt=0)
    kill_switch_rate: float | None = Field(default=None, ge=0, le=1)
    completion_share: float | None = Field(default=None, ge=0, le=1)
    participation_cap_rate: float | None = Field(default=None, ge=0, le=1)


class RiskExceedance(_Strict):
    """How often order-paths may exceed the risk metrics' levels in the judged scenarios.

    More than ``action_rate`` of order-paths above an action level fails the gate; more than
    ``alert_rate`` above an alert level warns.
    """

    alert_rate: float = Field(ge=0, le=1)
    action_rate: float = Field(ge=0, le=1)


class CalibrationLimits(_Strict):
    """How far a model's cost level may be off on the holdout, whatever the champion's.

    A statistic fails when its whole day-clustered 95 % interval lies beyond its limit
    (:mod:`validation.comparison.calibration`).
    """

    max_bias_share: float = Field(gt=0, le=1)
    max_slope_error: float = Field(gt=0, le=1)


class LatencyBudget(_Strict):
    """Single-order inference latency budget, milliseconds."""

    p50_ms: float = Field(gt=0)
    p99_ms: float = Field(gt=0)


class ModelPolicy(_Strict):
    """Policy of one registered model.

    Attributes
    ----------
    non_inferiority_margin : float
        Share of a reference model's *skill* a candidate may give up and still be
        ``non-inferior`` (see :mod:`validation.comparison`). Skill is the reference's
        reduction of mean squared error over the naive predictor (the constant mean of the
        training target); with ``0.10`` the upper end of the 95 % interval of the
        candidate's squared-error difference must stay below 10 % of it. A share of the
        noise-dominated loss itself would be almost the whole skill and could not fail.
    decision_margin : float
        Share of the reference's objective (mean plus ``risk_aversion`` times the standard
        deviation of the stress book's cost, on the same simulated markets) by which the
        candidate's decisions may be more expensive and still be ``non-inferior``
        (:mod:`validation.decisions`).
    decision_scenarios : tuple of str
        Scenarios in which the candidate's decisions are judged against the reference's
        (a verdict other than better or non-inferior fails); in the others the paired
        difference is reported, not judged.
    risk_exceedance : RiskExceedance
        Share of order-paths allowed above the risk metrics' alert and action levels in the
        ``risk_metric_scenarios``.
    min_holdout_days : int
        Fewer days in the out-of-time holdout cannot challenge a model: the day-clustered
        interval has ``days - 1`` degrees of freedom.
    calibration : CalibrationLimits
        The candidate's bias and slope error on the holdout (absolute, not relative to the
        champion) against these limits; the champion's are reported, and flagged.
    reference_breach_tolerance : float
        A stress or risk limit that the reference's own schedule breaches on the same book
        and markets judges the book: the candidate's breach warns instead of failing, as
        long as its figure is at most this share above the reference's.
    reported_limits : tuple of str
        Stress limits and risk metrics (by metric name) that no schedule within the
        family's policy can breach (``bench/verdicts.py`` counts what decided each
        verdict): they are computed and reported, and a breach warns instead of failing.
    """

    risk_tier: Literal["low", "medium", "high"]
    validators: tuple[str, ...] = Field(min_length=1)
    operators: tuple[str, ...] = ()
    approvals_required: int = Field(ge=1)
    auto_approve_when_gates_pass: bool = False
    promote_on_approval: bool = True
    # Giving up more than half the reference's skill is no longer "non-inferior".
    non_inferiority_margin: float = Field(ge=0, le=0.5)
    decision_margin: float = Field(default=0.05, ge=0, le=0.5)
    decision_scenarios: tuple[str, ...] = ("baseline",)
    min_holdout_days: int = Field(default=10, ge=2)
    # Policies adopted before the calibration check keep parsing with the shipped limits.
    calibration: CalibrationLimits = CalibrationLimits(max_bias_share=0.10, max_slope_error=0.25)
    reference_breach_tolerance: float = Field(default=0.10, ge=0, le=1)
    reported_limits: tuple[str, ...] = ()
    latency: LatencyBudget
    stress_default: ScenarioLimits
    stress_scenarios: dict[str, ScenarioLimits] = Field(default_factory=dict)
    risk_metrics: dict[str, AlertAction] = Field(default_factory=lambda: dict(DEFAULT_RISK_LEVELS))
    risk_metric_scenarios: tuple[str, ...] = ("baseline",)
    risk_exceedance: RiskExceedance = RiskExceedance(alert_rate=0.25, action_rate=0.05)

    @model_validator(mode="after")
    def _consistent(self) -> ModelPolicy:
        limits = [m.name for m in SCENARIO_LIMIT_METRICS] + list(RISK_METRICS)
        unknown_reported = [m for m in self.reported_limits if m not in limits]
        if unknown_reported:
            raise ValueError(
                f"reported_limits must name stress limits or risk metrics of {limits}; "
                f"unknown {unknown_reported}"
            )
        missing = [m for m in RISK_METRICS if m not in self.risk_metrics]
        unknown = [m for m in self.risk_metrics if m not in RISK_METRICS]
        if missing or unknown:
            raise ValueError(
                f"risk_metrics must define exactly {list(RISK_METRICS)}; "
                f"missing {missing}, unknown {unknown}"
            )
        if self.auto_approve_when_gates_pass and self.approvals_required != 1:
            raise ValueError(
                f"auto_approve_when_gates_pass needs approvals_required 1 (the automatic "
                f"approval is not a distinct validator), got {self.approvals_required}"
            )
        if self.auto_approve_when_gates_pass and self.risk_tier != "low":
            raise ValueError(
                f"auto_approve_when_gates_pass is only allowed for risk_tier 'low', "
                f"got risk_tier {self.risk_tier!r}"
            )
        if self.approvals_required > len(self.validators):
            raise ValueError(
                f"approvals_required ({self.approvals_required}) exceeds the number of "
                f"validators ({len(self.validators)})"
            )
        return self

    def may_operate(self, actor: str) -> bool:
        """Whether ``actor`` may promote, roll back or decommission (validators and operators)."""
        return actor in self.validators or actor in self.operators

    def risk_scenarios(self, metric: str) -> tuple[str, ...]:
        """The scenarios in which risk metric ``metric`` is judged."""
        return self.risk_metrics[metric].scenarios or self.risk_metric_scenarios

    def scenario_limits(self, scenario: str) -> ScenarioLimits:
        """Limits of ``scenario``, falling back to ``stress_default``."""
        return self.stress_scenarios.get(scenario, self.stress_default)


#: An Ed25519 public key as ``govern keys create`` prints it: ``ed25519:`` and the 32 raw
#: bytes in base64.
PublicKey = Annotated[str, StringConstraints(pattern=r"^ed25519:[A-Za-z0-9+/]{43}=$")]


class ReleaseSigner(_Strict):
    """Who signs approved versions as releases, and the ECDSA P-256 key they sign with.

    ``public_key`` is what ``govern keys create NAME --release`` prints: ``ecdsa-p256:``
    and the DER SubjectPublicKeyInfo in base64.
    """

    signer: str
    public_key: Annotated[str, StringConstraints(pattern=r"^ecdsa-p256:[A-Za-z0-9+/]+=*$")]


class PolicyFile(_Strict):
    """The whole policy file: one :class:`ModelPolicy` per registered model.

    Attributes
    ----------
    owners : tuple of str
        Who may adopt a new policy (``govern policy adopt``), e.g. the head of model risk.
    members : dict of str to PublicKey
        The public key of each person or service that signs decisions: authors of
        retrains, validators, operators and owners. A name without a key here can decide
        nothing, whatever role the policy gives it.
    release : ReleaseSigner or None
        The key approved versions are signed with, in the OpenSSF model-signing format;
        without one, no version can be approved.
    """

    version: Literal[1]
    owners: tuple[str, ...] = Field(min_length=1)
    members: dict[str, PublicKey] = Field(default_factory=dict)
    release: ReleaseSigner | None = None
    models: dict[str, ModelPolicy]

    def for_model(self, name: str) -> ModelPolicy:
        """Return the policy of ``name``.

        Raises
        ------
        PolicyError
            If the file has no policy for that model.
        """
        if name not in self.models:
            raise PolicyError(
                f"the policy file has no entry for model {name!r}; it covers {sorted(self.models)}"
            )
        return self.models[name]


def parse_policy(text: str, source: str = "policy") -> PolicyFile:
    """Parse and validate policy YAML.

    Raises
    ------
    PolicyError
        With ``source``, the path of each bad field, what was expected and what was found.
    """
    try:
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise PolicyError(
            f"{source}: expected a mapping at the top level, got {type(raw).__name__}"
        )
    try:
        return PolicyFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']} (got {err.get('input')!r})"
            for err in exc.errors()
        )
        raise PolicyError(f"{source}: {problems}") from exc
