"""Tests of the hash-chained audit log and the hashing helpers, on real databases.

SQLite runs always (a file in tmp_path, as the embedded MLflow backend). The same tests run on
PostgreSQL when GOVERN_TEST_POSTGRES_URL names a server, e.g.
``postgresql+psycopg://postgres@localhost:5432/postgres``; each test gets its own schema.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from cli.exit_codes import EXIT_INTEGRITY, exit_code_for
from governance.ledger import (
    GENESIS_HASH,
    KNOWN_ACTIONS,
    TABLE_NAME,
    AuditLog,
    create_audit_engine,
    open_audit_log,
    record_event,
    verify_chain,
)
from governance.ledger.hashing import (
    canonical_json,
    sha256_file,
    sha256_json,
    sha256_path,
    sha256_text,
    sha256_tree,
)
from vocabulary.errors import IntegrityError, UsageError

POSTGRES_ENV = "GOVERN_TEST_POSTGRES_URL"


# --------------------------------------------------------------------------- fixtures, helpers


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path):
    """URL of an empty database: an SQLite file, or a fresh schema on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mlflow.db'}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(
            f"PostgreSQL audit tests need a server: set {POSTGRES_ENV}, "
            "e.g. postgresql+psycopg://postgres@localhost:5432/postgres"
        )
    schema = f"audit_test_{uuid.uuid4().hex[:12]}"
    admin = create_audit_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = admin.url.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def log(db_url: str):
    with open_audit_log(db_url) as audit_log:
        yield audit_log


def fill(audit_log: AuditLog, count: int = 5) -> None:
    """Append ``count`` events alternating between two models."""
    for i in range(count):
        model = "impact" if i % 2 == 0 else "rfq_ranker"
        audit_log.append("retrain-flow", "candidate.trained", {"i": i}, model=model, version=i + 1)


def tamper(db_url: str, sql: str, **params: object) -> None:
    """Edit the table behind the log's back, as someone with DDL rights could."""
    engine = create_audit_engine(db_url)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {TABLE_NAME}_no_update")
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {TABLE_NAME}_no_delete")
        else:
            conn.exec_driver_sql(f"ALTER TABLE {TABLE_NAME} DISABLE TRIGGER USER")
        conn.execute(sa.text(sql), params)
    engine.dispose()


def _append_many(db_url: str, worker: int, count: int, barrier) -> None:
    """Child-process body of the concurrency test (module level so spawn can import it)."""
    with open_audit_log(db_url) as audit_log:
        barrier.wait(timeout=60)
        for i in range(count):
            audit_log.append(
                f"worker-{worker}", "candidate.stressed", {"worker": worker, "i": i}, model="m"
            )


# --------------------------------------------------------------------------- append, read, verify


def test_append_read_verify(log: AuditLog) -> None:
    artifacts = {"model": {"uri": "runs:/abc/model", "sha256": "ab" * 32}}
    first = log.append("alice", "data.validated", {"rows": 10, "artifacts": artifacts})
    second = log.append("bob", "signoff.approved", {"note": "ok ✓"}, model="impact", version=3)
    third = log.append("carol", "version.promoted", {}, model="impact", version="3")

    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.event_hash and third.prev_hash == second.event_hash
    assert first.payload == {"rows": 10, "artifacts": artifacts}
    assert second.version == "3" and first.model is None and first.version is None
    assert datetime.fromisoformat(first.ts).tzinfo == UTC and "." in first.ts

    assert log.events() == [first, second, third]
    assert log.events(model="impact") == [second, third]
    assert log.events(model="impact", version=3) == [second, third]
    assert log.events(model="nobody") == []
    assert log.head() == third

    report = log.verify()
    assert report.ok and report.checked == 3 and report.matched == 3
    assert (report.head_seq, report.head_hash) == (3, third.event_hash)
    assert report.first_broken_seq is None and report.reason is None
    assert "audit chain ok: 3 events" in report.summary()

    scoped = log.verify_or_raise(model="impact")
    assert scoped.ok and scoped.checked == 3 and scoped.matched == 2


def test_empty_log_verifies_with_genesis_head(log: AuditLog) -> None:
    report = log.verify()
    assert report.ok and report.checked == 0
    assert (report.head_seq, report.head_hash) == (0, GENESIS_HASH)
    assert log.head() is None and log.events() == []


def test_reopening_continues_the_chain(db_url: str) -> None:
    with open_audit_log(db_url) as first_log:
        fill(first_log, 2)
    with open_audit_log(db_url, create=False) as again:
        event = again.append("alice", "version.rolled_back", {"reason": "drift"}, model="impact")
        assert event.seq == 3
        assert event.prev_hash == again.events()[1].event_hash
        assert again.verify().ok


def test_event_hash_follows_the_documented_formula(log: AuditLog) -> None:
    """An auditor can recompute every hash with nothing but hashlib and json."""
    event = log.append("alice", "signoff.rejected", {"why": "bias", "n": [1, 2.5]}, model="m")
    payload_text = json.dumps({"n": [1, 2.5], "why": "bias"}, separators=(",", ":"))
    assert event.payload_json == payload_text
    assert event.payload_sha256 == hashlib.sha256(payload_text.encode()).hexdigest()
    header = {
        "seq": 1,
        "event_id": event.event_id,
        "ts": event.ts,
        "actor": "alice",
        "action": "signoff.rejected",
        "model": "m",
        "version": None,
        "payload_sha256": event.payload_sha256,
        "prev_hash": GENESIS_HASH,
    }
    text = json.dumps(header, sort_keys=True, separators=(",", ":"))
    assert event.event_hash == hashlib.sha256(text.encode()).hexdigest()


def test_locked_block_commits_together_or_not_at_all(log: AuditLog) -> None:
    with pytest.raises(RuntimeError, match="promotion failed"):
        with log.locked() as tx:
            tx.append("alice", "version.promoted", {"to": "champion"}, model="m", version=2)
            raise RuntimeError("promotion failed")
    assert log.events() == []

    with log.locked() as tx:
        a = tx.append("alice", "version.promoted", {"to": "champion"}, model="m", version=2)
        b = tx.append("alice", "version.rolled_back", {"to": "previous"}, model="m", version=1)
        assert tx.head() == b
        assert tx.connection.execute(sa.text(f"SELECT COUNT(*) FROM {TABLE_NAME}")).scalar() == 2
    assert (a.seq, b.seq, b.prev_hash) == (1, 2, a.event_hash)
    assert log.events() == [a, b]
    assert log.verify().ok


def test_table_refuses_update_and_delete(log: AuditLog) -> None:
    fill(log, 2)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with log.engine.begin() as conn:
            conn.execute(sa.text(f"UPDATE {TABLE_NAME} SET actor = 'mallory'"))
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with log.engine.begin() as conn:
            conn.execute(sa.text(f"DELETE FROM {TABLE_NAME} WHERE seq = 1"))
    assert [e.actor for e in log.events()] == ["retrain-flow", "retrain-flow"]
    assert log.verify().ok


def test_audit_table_lives_beside_mlflow_tables(tmp_path: Path) -> None:
    """The audit table created first must not stop MLflow from initialising the same file."""
    from mlflow import MlflowClient

    url = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with open_audit_log(url) as audit_log:
        audit_log.append("alice", "data.validated", {"rows": 1})
    client = MlflowClient(tracking_uri=url, registry_uri=url)
    client.create_registered_model("impact")
    assert client.get_registered_model("impact").name == "impact"
    with open_audit_log(url, create=False) as audit_log:
        audit_log.append("alice", "candidate.trained", {}, model="impact", version=1)
        assert audit_log.verify_or_raise().checked == 2
        tables = set(sa.inspect(audit_log.engine).get_table_names())
    assert {TABLE_NAME, "registered_models", "runs"} <= tables


# --------------------------------------------------------------------------- tampering


TAMPERING = {
    "payload edited": (
        "UPDATE {t} SET payload_json = :bad WHERE seq = 3",
        3,
        r"payload hash mismatch at seq 3: stored [0-9a-f]{12}\.\., recomputed [0-9a-f]{12}\.\.",
    ),
    "payload and its hash edited": (
        "UPDATE {t} SET payload_json = '{{}}', payload_sha256 = :empty WHERE seq = 3",
        3,
        r"event hash mismatch at seq 3: stored [0-9a-f]{12}\.\., recomputed",
    ),
    "actor edited": ("UPDATE {t} SET actor = 'mallory' WHERE seq = 2", 2, "event hash mismatch"),
    "event hash edited": (
        "UPDATE {t} SET event_hash = :forged WHERE seq = 4",
        4,
        "event hash mismatch at seq 4",
    ),
    "prev hash edited": (
        "UPDATE {t} SET prev_hash = :forged WHERE seq = 1",
        1,
        r"chain broken at seq 1: prev_hash does not match the genesis hash",
    ),
    "row deleted": ("DELETE FROM {t} WHERE seq = 3", 3, r"^gap in sequence: seq 3 missing$"),
    "rows deleted": (
        "DELETE FROM {t} WHERE seq IN (2, 3)",
        2,
        r"gap in sequence: seq 2 to 3 missing",
    ),
    "first row deleted": ("DELETE FROM {t} WHERE seq = 1", 1, "gap in sequence: seq 1 missing"),
}


@pytest.mark.parametrize("case", TAMPERING, ids=list(TAMPERING))
def test_tampering_is_caught_at_the_first_broken_seq(db_url: str, case: str) -> None:
    sql, broken_seq, reason = TAMPERING[case]
    with open_audit_log(db_url) as audit_log:
        fill(audit_log, 5)
        tamper(
            db_url,
            sql.format(t=TABLE_NAME),
            empty=sha256_text("{}"),
            forged="f" * 64,
            bad='{"i":99}',
        )

        report = audit_log.verify()
        assert not report.ok
        assert report.first_broken_seq == broken_seq
        assert report.checked == broken_seq - 1
        assert report.reason is not None
        assert re.search(reason, report.reason), report.reason
        assert "BROKEN" in report.summary()

        with pytest.raises(IntegrityError, match=re.escape(report.reason)) as raised:
            audit_log.verify_or_raise(model="rfq_ranker")
        assert exit_code_for(raised.value) == EXIT_INTEGRITY


def test_forged_event_with_recomputed_hashes_breaks_the_next_link(db_url: str) -> None:
    with open_audit_log(db_url) as audit_log:
        fill(audit_log, 4)
        event = audit_log.events()[1]  # seq 2
        payload_json = canonical_json({"i": 1, "forged": True})
        payload_sha = sha256_text(payload_json)
        forged_hash = sha256_json(
            {
                "seq": 2,
                "event_id": event.event_id,
                "ts": event.ts,
                "actor": event.actor,
                "action": event.action,
                "model": event.model,
                "version": event.version,
                "payload_sha256": payload_sha,
                "prev_hash": event.prev_hash,
            }
        )
        tamper(
            db_url,
            f"UPDATE {TABLE_NAME} SET payload_json = :p, payload_sha256 = :ps, event_hash = :eh "
            "WHERE seq = 2",
            p=payload_json,
            ps=payload_sha,
            eh=forged_hash,
        )
        report = audit_log.verify(model="impact")
    assert report.first_broken_seq == 3
    assert report.reason == "chain broken at seq 3: prev_hash does not match the hash of seq 2"
    assert (report.checked, report.matched, report.head_seq) == (2, 1, 2)


def test_verify_chain_checks_an_exported_sequence(log: AuditLog) -> None:
    fill(log, 3)
    events = log.events()
    assert verify_chain(events).ok
    report = verify_chain([events[0], events[2], events[1]])
    assert (report.ok, report.first_broken_seq) == (False, 2)
    assert report.reason == "gap in sequence: seq 2 missing"
    report = verify_chain([events[0], events[0]])
    assert report.reason == "sequence out of order: seq 1 follows seq 1"


# --------------------------------------------------------------------------- concurrency


def test_concurrent_appends_from_processes_keep_one_chain(db_url: str) -> None:
    workers, per_worker = 4, 50
    open_audit_log(db_url).close()  # create the table once, as `govern` would on first use
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers)
    processes = [
        ctx.Process(target=_append_many, args=(db_url, w, per_worker, barrier))
        for w in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0] * workers

    with open_audit_log(db_url, create=False) as audit_log:
        events = audit_log.events()
        report = audit_log.verify_or_raise(model="m")
    total = workers * per_worker
    assert [e.seq for e in events] == list(range(1, total + 1))
    assert len({e.prev_hash for e in events}) == total  # no fork: every hash is extended once
    assert report.checked == report.matched == total
    for w in range(workers):
        mine = [e.payload["i"] for e in events if e.actor == f"worker-{w}"]
        assert mine == list(range(per_worker))
    assert [e.ts for e in events] == sorted(e.ts for e in events)


# --------------------------------------------------------------------------- input validation


class NotJson:
    def __repr__(self) -> str:
        return "NotJson()"


BAD_APPENDS = {
    "empty actor": (dict(actor=""), "actor must be a non-empty str, got ''"),
    "blank actor": (dict(actor="   "), "actor must be a non-empty str, got '   '"),
    "padded actor": (dict(actor=" alice"), "actor must not start or end with whitespace"),
    "actor not str": (dict(actor=7), "actor must be a non-empty str, got int 7"),
    "long actor": (dict(actor="a" * 201), "actor must be at most 200 characters, got 201"),
    "action shape": (dict(action="Promote"), "action must be 'subject.verb'.*got 'Promote'"),
    "action no dot": (dict(action="promoted"), "got 'promoted'"),
    "action 3 parts": (dict(action="version.promoted.now"), "got 'version.promoted.now'"),
    "action None": (dict(action=None), "action must be a non-empty str, got NoneType None"),
    "payload list": (dict(payload=[1]), r"payload must be a JSON object \(a dict.*got list"),
    "payload None": (dict(payload=None), "payload must be a JSON object.*got NoneType"),
    "payload datetime": (
        dict(payload={"when": datetime(2024, 1, 1)}),
        r"payload\['when'\] must be JSON data .*got datetime.datetime",
    ),
    "payload nested object": (
        dict(payload={"a": [1, {"b": NotJson()}]}),
        r"payload\['a'\]\[1\]\['b'\] must be JSON data .*got .*NotJson: NotJson\(\)",
    ),
    "payload set": (
        dict(payload={"s": {1}}),
        r"payload\['s'\] must be JSON data .*got builtins.set",
    ),
    "payload nan": (dict(payload={"x": float("nan")}), r"payload\['x'\] must be a finite number"),
    "payload int key": (dict(payload={"a": {1: 2}}), r"keys must be str, got int key 1 in payload"),
    "payload surrogate": (dict(payload={"s": "\udc80"}), r"payload\['s'\] must be valid Unicode"),
    "empty model": (dict(model=""), "model must be a non-empty str, got ''"),
    "version without model": (dict(version=3), "version 3 needs a model name, got model=None"),
    "bool version": (dict(model="m", version=True), "version must be a non-empty str, got bool"),
}


@pytest.mark.parametrize("case", BAD_APPENDS, ids=list(BAD_APPENDS))
def test_bad_append_is_refused_and_nothing_written(tmp_path: Path, case: str) -> None:
    changes, message = BAD_APPENDS[case]
    kwargs = {"actor": "alice", "action": "data.validated", "payload": {}} | changes
    with open_audit_log(f"sqlite:///{tmp_path / 'a.db'}") as audit_log:
        with pytest.raises(UsageError, match=message):
            audit_log.append(**kwargs)
        with pytest.raises(UsageError, match=message):
            with audit_log.locked() as tx:
                tx.append(**kwargs)
        assert audit_log.events() == []


def test_known_and_new_actions_are_accepted(tmp_path: Path) -> None:
    with open_audit_log(f"sqlite:///{tmp_path / 'a.db'}") as audit_log:
        for action in sorted(KNOWN_ACTIONS) + ["monitor.drift_alerted"]:
            audit_log.append("alice", action, {})
        assert len(audit_log.events()) == len(KNOWN_ACTIONS) + 1


def test_events_filter_validation(log: AuditLog) -> None:
    with pytest.raises(UsageError, match="version '3' needs a model name"):
        log.events(version="3")
    with pytest.raises(UsageError, match="model must be a non-empty str"):
        log.verify(model="")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "expected an SQLAlchemy database URL such as"),
        ("file:///tmp/mlruns", "expected a database URL whose driver is installed, got 'file:"),
    ],
)
def test_unusable_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        open_audit_log(url)


def test_missing_table_is_refused_when_not_creating(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=f"expected an audit table '{TABLE_NAME}'.*got none"):
        open_audit_log(f"sqlite:///{tmp_path / 'empty.db'}", create=False)


def test_plain_sqlite_engine_and_bad_timeout_are_refused(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with pytest.raises(UsageError, match="expected an SQLite engine made by create_audit_engine"):
        AuditLog(engine)
    engine.dispose()
    with pytest.raises(UsageError, match="busy_timeout_s must be > 0 seconds, got 0"):
        create_audit_engine(f"sqlite:///{tmp_path / 'a.db'}", busy_timeout_s=0)


# --------------------------------------------------------------------------- hashing


def _write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


def test_sha256_file_streams_in_chunks(tmp_path: Path) -> None:
    content = os.urandom(10_000)
    path = tmp_path / "blob.bin"
    path.write_bytes(content)
    expected = hashlib.sha256(content).hexdigest()
    assert sha256_file(path) == expected
    assert sha256_file(path, chunk_size=7) == expected
    assert sha256_path(path) == expected
    with pytest.raises(UsageError, match="expected a regular file to hash, got a directory"):
        sha256_file(tmp_path)
    with pytest.raises(UsageError, match="got a missing path"):
        sha256_file(tmp_path / "nope")


def test_sha256_tree_is_stable_and_sees_renames_and_edits(tmp_path: Path) -> None:
    files = {"model/model.pkl": b"weights", "model/MLmodel": b"flavors: {}", "data.csv": b"a,b\n"}
    one = _write_tree(tmp_path / "one", files)
    two = _write_tree(tmp_path / "two", dict(reversed(list(files.items()))))
    base = sha256_tree(one)
    assert base == sha256_tree(two) == sha256_path(one)  # same content, other creation order
    assert len(base) == 64

    (two / "empty_dir").mkdir()
    os.utime(two / "data.csv", (0, 0))
    assert sha256_tree(two) == base  # empty dirs and timestamps do not count

    (two / "data.csv").write_bytes(b"a,b\n1,2\n")
    assert sha256_tree(two) != base  # edit
    (two / "data.csv").write_bytes(b"a,b\n")
    assert sha256_tree(two) == base
    (two / "data.csv").rename(two / "data2.csv")
    assert sha256_tree(two) != base  # rename
    (two / "data2.csv").rename(two / "model" / "data.csv")
    assert sha256_tree(two) != base  # move into a subdirectory
    (two / "model" / "data.csv").rename(two / "data.csv")
    assert sha256_tree(two) == base
    (two / "extra").write_bytes(b"")
    assert sha256_tree(two) != base  # an added empty file counts


def test_sha256_tree_refuses_what_it_cannot_hash(tmp_path: Path) -> None:
    root = _write_tree(tmp_path / "t", {"a.txt": b"a"})
    with pytest.raises(UsageError, match="expected a directory to hash, got a file"):
        sha256_tree(root / "a.txt")
    (root / "link_to_file").symlink_to(root / "a.txt")
    digest = sha256_tree(root)  # a link to a file is hashed as the file
    assert digest != sha256_tree(_write_tree(tmp_path / "u", {"a.txt": b"a"}))
    (root / "loop").symlink_to(root, target_is_directory=True)
    with pytest.raises(UsageError, match="got a symbolic link to a directory"):
        sha256_tree(root)


def test_canonical_json_is_order_independent_and_strict() -> None:
    a = {"b": 1, "a": [1.5, None, True, "é"], "c": {"y": 2, "x": (1, 2)}}
    b = {"c": {"x": [1, 2], "y": 2}, "a": [1.5, None, True, "é"], "b": 1}
    assert (
        canonical_json(a)
        == canonical_json(b)
        == '{"a":[1.5,null,true,"é"],"b":1,"c":{"x":[1,2],"y":2}}'
    )
    assert sha256_json(a) == sha256_text(canonical_json(b))
    assert sha256_json({"a": 1}) != sha256_json({"a": "1"})
    with pytest.raises(UsageError, match=r"value\['p'\] must be JSON data .*got pathlib"):
        canonical_json({"p": Path("/x")})
    with pytest.raises(UsageError, match=r"value must be a finite number, got inf"):
        sha256_json(float("inf"))


def test_a_keyed_event_is_appended_once(log: AuditLog) -> None:
    # A retried recording task calls record_event again with the same key.
    first = record_event(log, "maker", "candidate.gated", {"n": 1}, "m", "1", key="run-1:gated")
    again = record_event(log, "maker", "candidate.gated", {"n": 2}, "m", "1", key="run-1:gated")
    other = record_event(log, "maker", "candidate.gated", {"n": 3}, "m", "2", key="run-1:gated")
    assert again == first and again.payload["n"] == 1
    assert other.seq == first.seq + 1, "the key is scoped to its model version"
    assert [e.payload["event_key"] for e in log.events()] == ["run-1:gated", "run-1:gated"]
    unkeyed = [record_event(log, "maker", "monitor.checked", {}, "m", "1") for _ in range(2)]
    assert unkeyed[0].seq != unkeyed[1].seq
    log.verify_or_raise()


def test_recorded_by_is_the_kernels_account_not_the_environments(monkeypatch) -> None:
    import os
    import pwd

    from governance.ledger import os_identity

    monkeypatch.setenv("USER", "mallory")
    monkeypatch.setenv("LOGNAME", "mallory")
    identity = os_identity()
    account = f"{pwd.getpwuid(os.getuid()).pw_name}({os.getuid()})@"
    assert identity.startswith(account) and "mallory" not in identity
