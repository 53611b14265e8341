"""The audit log in the store, on SQLite and PostgreSQL: chains resume after a restart, control
events commit with their audit record, tampering in the database is found and named, and every
acknowledged record survives a SIGKILL."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, select, update

from homeagent.proxy.store import AgentExists, AuditConflict, InstanceKeyMismatch, Store
from homeagent.proxy.store.schema import audit_records

from .store_fixtures import T0, on_shift

ROOT = Path(__file__).resolve().parent.parent
KEY = Ed25519PrivateKey.generate()
SECOND = dt.timedelta(seconds=1)


def _flows(store: Store, n: int, instance: str = "gw-1") -> None:
    writer = store.audit_writer(instance, KEY)
    for i in range(n):
        writer.append(
            "flow", {"agent": "A1023", "url": f"https://crm.test/c/{i}"}, now=T0 + i * SECOND
        )


def test_a_chain_resumes_where_it_stopped(db_url: str) -> None:
    with Store.open(db_url) as store:
        _flows(store, 3)
    with Store.open(db_url) as store:
        writer = store.audit_writer("gw-1", KEY)
        assert writer.chain.last_seq == 3
        more = writer.append_many([("flow", {"n": 4}), ("control", {"event": "policy.reload"})])
        assert [r["seq"] for r in more] == [4, 5]
        [report] = store.verify_audit()
        assert report.intact and report.records == 5
        assert [i.last_seq for i in store.audit_instances()] == [5]


def test_instances_keep_separate_chains(store: Store) -> None:
    _flows(store, 2, "gw-1")
    store.audit_writer("gw-2", Ed25519PrivateKey.generate()).append("flow", {"n": 1})
    reports = store.verify_audit()
    assert [(r.instance, r.records, r.intact) for r in reports] == [
        ("gw-1", 2, True),
        ("gw-2", 1, True),
    ]


def test_an_instance_keeps_its_key(store: Store) -> None:
    store.audit_writer("gw-1", KEY)
    with pytest.raises(InstanceKeyMismatch, match="another key"):
        store.audit_writer("gw-1", Ed25519PrivateKey.generate())


def test_control_events_commit_with_their_audit_record(store: Store) -> None:
    writer = store.audit_writer("gw-1", KEY)
    store.add_agent("A1023", "inbound", now=T0, audit=writer)
    with pytest.raises(AgentExists):
        store.add_agent("A1023", "outbound", now=T0, audit=writer)
    writer.append("flow", {"n": 1}, now=T0)
    kinds = [(r["seq"], r["kind"]) for r in store.iter_audit("gw-1")]
    assert kinds == [(1, "agent.add"), (2, "flow")]
    assert store.verify_audit()[0].intact


def test_a_shift_is_audited_step_by_step(store: Store) -> None:
    writer = store.audit_writer("gw-1", KEY)
    shift = on_shift(store)
    store.record_status(shift.agent, shift.session.id, "ready", now=T0, audit=writer)
    store.end_session(shift.session.id, "clock_out", now=T0, audit=writer)
    records = list(store.iter_audit("gw-1"))
    assert [r["kind"] for r in records] == ["status", "status", "clock.out"]
    assert records[0]["data"]["status"] == "ready"
    assert records[2]["data"] == {
        "agent": "A1023",
        "session": shift.session.id,
        "reason": "clock_out",
    }


def test_two_writers_on_one_instance_conflict_then_resync(store: Store) -> None:
    first, second = store.audit_writer("gw-1", KEY), store.audit_writer("gw-1", KEY)
    first.append("flow", {"by": "first"})
    with pytest.raises(AuditConflict, match="same instance ID"):
        second.append("flow", {"by": "second"})
    assert second.append("flow", {"by": "second"})["seq"] == 2
    assert store.verify_audit()[0].intact


@pytest.mark.parametrize(
    ("tamper", "bad_seq", "reason"),
    [
        ("data", 3, "does not match its hash"),
        ("invalid json", 3, "does not match its hash"),
        ("delete", 3, "record 3 is missing"),
        ("signature", 3, "signature does not verify"),
    ],
)
def test_tampering_in_the_database_is_named(
    store: Store, tamper: str, bad_seq: int, reason: str
) -> None:
    _flows(store, 5)
    row = (audit_records.c.instance == "gw-1") & (audit_records.c.seq == 3)
    with store.engine.begin() as conn:
        if tamper == "data":
            stored = conn.execute(select(audit_records.c.data).where(row)).scalar_one()
            changed = stored.replace("/c/2", "/c/3")  # one byte
            assert sum(a != b for a, b in zip(stored, changed, strict=True)) == 1
            conn.execute(update(audit_records).where(row).values(data=changed))
        elif tamper == "invalid json":
            conn.execute(update(audit_records).where(row).values(data='{"agent":'))
        elif tamper == "delete":
            conn.execute(delete(audit_records).where(row))
        else:
            other = next(r["sig"] for r in store.iter_audit("gw-1") if r["seq"] == 2)
            conn.execute(update(audit_records).where(row).values(sig=other))
    [report] = store.verify_audit()
    assert (report.instance, report.first_bad_seq) == ("gw-1", bad_seq)
    assert reason in report.reason


def test_keys_kept_apart_from_the_database_take_precedence(store: Store) -> None:
    _flows(store, 1)
    assert store.verify_audit()[0].intact
    trusted = store.verify_audit({"gw-1": Ed25519PrivateKey.generate().public_key()})
    assert trusted[0].reason == "signature does not verify"


def test_records_are_read_by_time_window(store: Store) -> None:
    _flows(store, 5)
    seqs = [r["seq"] for r in store.iter_audit(since=T0 + SECOND, until=T0 + 3 * SECOND)]
    assert seqs == [2, 3]


@pytest.mark.slow
@pytest.mark.parametrize("batch", [1, 20])
def test_acknowledged_records_survive_sigkill(db_url: str, batch: int) -> None:
    Store.open(db_url).close()  # migrated before the child starts
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.store_child", "audit", db_url, str(batch)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    acknowledged = [int(child.stdout.readline()) for _ in range(60)]
    os.kill(child.pid, signal.SIGKILL)
    rest, _ = child.communicate(timeout=30)
    acknowledged += [int(line) for line in rest.split()]
    assert child.returncode == -signal.SIGKILL
    with Store.open(db_url) as store:
        stored = {r["seq"] for r in store.iter_audit("gw-crash")}
        assert set(acknowledged) <= stored
        [report] = store.verify_audit()
        assert report.intact and report.records == len(stored) >= len(acknowledged)


@pytest.mark.slow
def test_acknowledged_status_events_survive_sigkill(db_url: str) -> None:
    with Store.open(db_url) as store:
        shift = on_shift(store)
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.store_child",
            "status",
            db_url,
            shift.agent,
            shift.session.id,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    acknowledged = [child.stdout.readline().strip() for _ in range(40)]
    os.kill(child.pid, signal.SIGKILL)
    acknowledged += child.communicate(timeout=30)[0].split()
    with Store.open(db_url) as store:
        stored = [e.client_event_id for e in store.status_history(shift.agent)]
    assert set(acknowledged) <= set(stored)
    assert stored == [f"e{n}" for n in range(len(stored))]


def test_after_a_failed_append_a_status_change_resumes_the_chain_from_the_database(
    store: Store,
) -> None:
    """What a PostgreSQL restart did: an append failed after chaining its record in memory, and
    the next record came from another path (a status change), which chained onto the record
    that was never stored."""
    first, second = store.audit_writer("gw-1", KEY), store.audit_writer("gw-1", KEY)
    shift = on_shift(store)
    first.append("flow", {"by": "first"})
    with pytest.raises(AuditConflict):
        second.append("flow", {"by": "second"})  # chained seq 1 in memory; seq 1 is taken
    store.record_status(shift.agent, shift.session.id, "ready", audit=second, now=T0)
    reports = store.verify_audit()
    assert reports and all(report.intact for report in reports), reports
