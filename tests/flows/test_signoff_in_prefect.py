"""Sign-off from Prefect: a suspended flow run with a typed form, and automatic approval."""

import base64
import json
import os
import subprocess
import sys

import pytest
from govern_cli import adopt, retrain, run_govern, trust
from mlflow.tracking import MlflowClient
from polling import wait_for
from prefect.client.orchestration import get_client
from prefect.flow_runs import resume_flow_run
from prefect.settings import PREFECT_API_URL

from governance.ledger import open_audit_log
from governance.stores.settings import get_settings

MODEL = "execution-impact"
DEPLOYMENT = "await-signoff/await-signoff"


def _events(workdir):
    with open_audit_log(get_settings(workdir).audit_db_url) as audit:
        return audit.events()


@pytest.fixture
def served_signoff(prefect_server):
    """Serve the await-signoff flow from a separate process, as a deployment would run."""
    env = {
        **os.environ,
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        # The worker's own identity: it signs the release and promotion an approval
        # triggers; the validators' keys stay with them.
        "GOVERN_SERVICE_ACTOR": "on-call",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from flows.lifecycle import await_signoff; await_signoff.serve(name='await-signoff')",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def deployed():
        with get_client(sync_client=True) as client:
            try:
                return client.read_deployment_by_name(DEPLOYMENT)
            except Exception:  # not registered yet
                return None

    try:
        wait_for(deployed, "the await-signoff deployment to be served")
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def _state(flow_run_id):
    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run_id).state


def _suspended(flow_run_id):
    """Wait for the run to suspend for a decision, and return its state."""
    return wait_for(
        lambda: _state(flow_run_id) if _state(flow_run_id).name == "Suspended" else None,
        "the sign-off run to suspend",
    )


def _suspended_again(flow_run_id, before):
    """Wait for the run to be suspended in a new state (it asked again), and return it."""

    def asked():
        state = _state(flow_run_id)
        return state if state.name == "Suspended" and state.id != before.id else None

    return wait_for(asked, "the sign-off run to ask again")


def test_validator_signs_off_in_the_prefect_ui(served_signoff, small_data_dir, tmp_path):
    workdir = tmp_path / "w"
    result = retrain(small_data_dir, workdir, "--signoff-deployment", DEPLOYMENT)
    assert result.exit_code == 0, result.output
    flow_run_id = result.stdout.split("sign-off waits in Prefect: flow run ")[1].split()[0]

    first = _suspended(flow_run_id)
    # A bad paste is refused and asked again; nothing is recorded.
    resume_flow_run(
        flow_run_id,
        run_input={
            "decision": "approve",
            "validator": "validator",
            "comment": "reviewed in the Prefect UI",
            "signature": "eyJub3QiOiAic2lnbmVkIn0=",
        },
    )
    _suspended_again(flow_run_id, first)
    assert not [e for e in _events(workdir) if e.action.startswith(("signoff.", "lifecycle."))]
    # The validator signs on their own machine, then submits the form in the Prefect UI.
    signed = run_govern(
        ["signoff", "sign", MODEL, "1", "--as", "validator", "--workdir", str(workdir)]
        + ["--decision", "approve", "--comment", "reviewed in the Prefect UI"]
    )
    assert signed.exit_code == 0, signed.output
    resume_flow_run(
        flow_run_id,
        run_input={
            "decision": "approve",
            "validator": "validator",
            "comment": "reviewed in the Prefect UI",
            "signature": signed.stdout.strip(),
        },
    )
    final = wait_for(
        lambda: _state(flow_run_id) if _state(flow_run_id).is_final() else None,
        "the sign-off run to finish",
    )
    assert final.is_completed(), final.message

    settings = get_settings(workdir)
    client = MlflowClient(settings.tracking_uri, settings.registry_uri)
    assert str(client.get_model_version_by_alias(MODEL, "champion").version) == "1"
    approved = [e for e in _events(workdir) if e.action == "signoff.approved"]
    assert [(e.actor, e.payload["comment"]) for e in approved] == [
        ("validator", "reviewed in the Prefect UI")
    ]
    token = json.loads(base64.urlsafe_b64decode(signed.stdout.strip()))
    assert approved[0].payload["signed"] == token  # the validator's own signature
    follows = [e for e in _events(workdir) if e.action in ("version.released", "version.promoted")]
    assert {e.actor for e in follows} == {"on-call"}
    verify = run_govern(["audit", "verify", "--workdir", str(workdir)])
    assert verify.exit_code == 0, verify.output


def test_the_form_shows_the_evidence(prefect_server, small_data_dir, tmp_path):
    from governance.stores.handle import open_stores
    from lineage.signoff_evidence import signoff_evidence

    workdir = tmp_path / "w"
    assert retrain(small_data_dir, workdir).exit_code == 0
    shown = signoff_evidence(open_stores(get_settings(workdir)), MODEL, "1")
    for part in ("**Gates**: gates passed", "**Challenger**", "**Worst stress scenario**"):
        assert part in shown, shown
    assert "/runs/" in shown and "govern lineage execution-impact 1" in shown


def test_the_prefect_path_enforces_maker_checker(served_signoff, small_data_dir, tmp_path):
    workdir = tmp_path / "w"
    result = retrain(
        small_data_dir, workdir, "--signoff-deployment", DEPLOYMENT, author="validator"
    )
    assert result.exit_code == 0, result.output
    flow_run_id = result.stdout.split("sign-off waits in Prefect: flow run ")[1].split()[0]
    first = _suspended(flow_run_id)
    # The author cannot even produce the signature...
    own = run_govern(
        ["signoff", "sign", MODEL, "1", "--as", "validator", "--workdir", str(workdir)]
    )
    assert own.exit_code == 5 and "maker-checker" in own.stderr
    # ...and a colleague's signature submitted under the author's name is refused.
    other = run_govern(
        ["signoff", "sign", MODEL, "1", "--as", "risk-officer", "--workdir", str(workdir)]
    )
    assert other.exit_code == 0, other.output
    resume_flow_run(
        flow_run_id,
        run_input={
            "decision": "approve",
            "validator": "validator",
            "comment": "looks fine",
            "signature": other.stdout.strip(),
        },
    )
    # Refused, nothing recorded, and the form is shown again for a decision that holds.
    _suspended_again(flow_run_id, first)
    assert not [e for e in _events(workdir) if e.action.startswith(("signoff.", "lifecycle."))]


def test_the_form_requires_every_field_and_the_flow_takes_a_numeric_version():
    from pydantic import ValidationError

    from flows.lifecycle import SignoffDecision, await_signoff

    filled = {"decision": "approve", "validator": "v", "comment": "ok", "signature": "x"}
    assert SignoffDecision(**filled).signature == "x"
    for field in filled:
        with pytest.raises(ValidationError, match=field):
            SignoffDecision(**{**filled, field: ""})
        with pytest.raises(ValidationError, match=field):
            SignoffDecision(**{k: v for k, v in filled.items() if k != field})
    checked = await_signoff.validate_parameters({"model": MODEL, "version": 3})
    assert checked["version"] == 3


def test_low_risk_policy_approves_automatically(prefect_server, small_data_dir, tmp_path):
    text = trust(tmp_path / "w").read_text()
    adopt(
        tmp_path / "w",
        text.replace("risk_tier: high", "risk_tier: low").replace(
            "auto_approve_when_gates_pass: false", "auto_approve_when_gates_pass: true"
        ),
    )
    result = retrain(small_data_dir, tmp_path / "w")
    assert result.exit_code == 0, result.output
    assert "lifecycle=champion" in result.stdout, result.stdout
    approved = [e for e in _events(tmp_path / "w") if e.action == "signoff.approved"]
    assert [(e.actor, e.payload["automatic"]) for e in approved] == [("policy:auto-approval", True)]
    # Signed by the retrain's author, under the policy that allowed it.
    assert approved[0].payload["signed"]["statement"]["signer"] == "maker"
    verify = run_govern(["audit", "verify", "--workdir", str(tmp_path / "w")])
    assert verify.exit_code == 0, verify.output
