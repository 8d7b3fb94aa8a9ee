"""``govern init``: from nothing to a first governed retrain in two commands."""

import stat

import yaml
from govern_cli import retrain, run_govern

from cli.exit_codes import EXIT_USAGE
from governance.ledger import open_audit_log
from governance.stores.settings import get_settings

TEAM = [
    "--owner",
    "head-of-risk",
    "--author",
    "maker",
    "--author",
    "scheduled-retraining",
    "--validator",
    "checker",
    "--operator",
    "desk-on-call",
]


def _events(workdir):
    with open_audit_log(get_settings(workdir).audit_db_url, create=False) as audit:
        return [e.action for e in audit.events()]


def test_init_then_retrain_governs_a_first_version(prefect_server, small_data_dir, tmp_path):
    workdir = tmp_path / "desk"
    done = run_govern(["init", *TEAM, "--workdir", str(workdir)])
    assert done.exit_code == 0, done.output
    assert f"next: govern retrain --data DATA_DIR --as maker --workdir {workdir}" in done.output

    names = ["head-of-risk", "maker", "scheduled-retraining", "checker", "desk-on-call"]
    for name in names:
        mode = (workdir / "keys" / f"{name}.pem").stat().st_mode
        assert stat.S_IMODE(mode) == 0o600, name
    assert (workdir / "keys" / "release-signer.release.pem").is_file()
    policy = yaml.safe_load((workdir / "policy.yaml").read_text())
    assert list(policy["members"]) == names
    assert policy["owners"] == ["head-of-risk"]
    assert policy["release"]["signer"] == "release-signer"
    entry = policy["models"]["execution-impact"]
    assert entry["validators"] == ["checker"] and entry["operators"] == ["desk-on-call"]
    assert _events(workdir) == ["policy.adopted"]

    trained = retrain(small_data_dir, workdir, "--seed", "0")
    assert trained.exit_code == 0, trained.output
    approved = run_govern(
        [
            "signoff",
            "approve",
            "execution-impact",
            "1",
            "--as",
            "checker",
            "--workdir",
            str(workdir),
        ]
    )
    assert approved.exit_code == 0, approved.output
    assert run_govern(["audit", "verify", "--workdir", str(workdir)]).exit_code == 0


def test_init_never_overwrites_and_changes_nothing_when_it_refuses(tmp_path):
    workdir = tmp_path / "desk"
    assert run_govern(["init", *TEAM, "--workdir", str(workdir)]).exit_code == 0
    before = (workdir / "policy.yaml").read_bytes(), (workdir / "keys" / "maker.pem").read_bytes()
    again = run_govern(["init", *TEAM, "--workdir", str(workdir)])
    assert again.exit_code == EXIT_USAGE
    assert "never overwrites; found" in again.output and "policy.yaml" in again.output
    after = (workdir / "policy.yaml").read_bytes(), (workdir / "keys" / "maker.pem").read_bytes()
    assert after == before
    assert _events(workdir) == ["policy.adopted"]


def test_a_team_whose_validators_all_train_is_refused_before_anything_is_made(tmp_path):
    workdir = tmp_path / "desk"
    args = ["--owner", "boss", "--author", "ann", "--validator", "ann", "--operator", "op"]
    done = run_govern(["init", *args, "--workdir", str(workdir)])
    assert done.exit_code == EXIT_USAGE
    assert "every validator (ann) is also an author" in done.output
    assert not workdir.exists()


def test_people_who_made_their_own_keys_give_init_only_the_public_half(tmp_path):
    """The checker's private key never comes to the machine that sets the desk up."""
    own_machine = tmp_path / "checker-laptop"
    made = run_govern(["keys", "create", "checker", "--workdir", str(own_machine)])
    assert made.exit_code == 0, made.output
    public = next(w for w in made.stdout.split() if w.startswith("ed25519:"))
    workdir = tmp_path / "desk"
    done = run_govern(
        ["init", *TEAM, "--public-key", f"checker={public}", "--workdir", str(workdir)]
    )
    assert done.exit_code == 0, done.output
    assert not (workdir / "keys" / "checker.pem").exists()
    assert "key of checker: the public key given" in done.stdout
    assert "move it to maker and delete it here" in done.stdout
    assert yaml.safe_load((workdir / "policy.yaml").read_text())["members"]["checker"] == public
    # Nobody at the desk's machine can act as the checker.
    as_checker = run_govern(["audit", "verify", "--as", "checker", "--workdir", str(workdir)])
    assert as_checker.exit_code == 5, as_checker.output


def test_the_owners_key_and_strangers_cannot_be_given_as_public_keys(tmp_path):
    for pair, message in (
        ("head-of-risk=ed25519:AAAA", "the owner 'head-of-risk' signs the policy's adoption"),
        ("nobody=ed25519:AAAA", "--public-key names nobody, who hold no role"),
        ("checker", "--public-key expects NAME=KEY"),
    ):
        workdir = tmp_path / pair.partition("=")[0]
        done = run_govern(["init", *TEAM, "--public-key", pair, "--workdir", str(workdir)])
        assert done.exit_code == EXIT_USAGE and message in done.output, done.output
        assert not (workdir / "policy.yaml").exists()
