"""Agents and enrolment in the store, on SQLite and PostgreSQL: one-time codes, device keys,
disabling; a code redeemed by racing threads or processes has exactly one winner."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from homeagent.proxy.core.agent_status import AgentStatus
from homeagent.proxy.store import (
    AgentDisabled,
    AgentExists,
    CodeExpired,
    CodeUsed,
    DeviceAlreadyEnrolled,
    InvalidAgentId,
    InvalidPublicKey,
    Store,
    StoreError,
    UnknownAgent,
    UnknownCode,
    device_fingerprint,
)
from homeagent.proxy.store.codes import ALPHABET
from homeagent.proxy.store.schema import enrolment_codes

from .store_fixtures import T0, on_shift, raw_public

ROOT = Path(__file__).resolve().parent.parent


def test_a_new_agent_gets_a_readable_code_and_only_its_hash_is_kept(store: Store) -> None:
    code = store.add_agent("A1023", "inbound", now=T0)
    groups = code.code.split("-")
    assert [len(g) for g in groups] == [4, 4, 4]
    assert set("".join(groups)) <= set(ALPHABET)
    assert code.expires_at == T0 + dt.timedelta(hours=24)
    with store.engine.connect() as conn:
        row = conn.execute(select(enrolment_codes)).mappings().one()
    assert code.code.replace("-", "") not in str(dict(row))
    agent = store.get_agent("A1023")
    assert (agent.role, agent.enabled, agent.created_at) == ("inbound", True, T0)


def test_enrolment_binds_the_device_key_and_forgives_typing(store: Store) -> None:
    code = store.add_agent("A1023", "inbound", now=T0).code
    typed = code.lower().replace("0", "o").replace("1", "l").replace("-", " ")
    key = raw_public(Ed25519PrivateKey.generate())
    enrolment = store.enrol(typed, key, now=T0 + dt.timedelta(hours=1))
    assert enrolment.agent.id == "A1023" and enrolment.agent.role == "inbound"
    assert enrolment.device.fingerprint == device_fingerprint(key)
    assert store.active_device(device_fingerprint(key)) == enrolment.device


@pytest.mark.parametrize(
    ("scenario", "error", "message"),
    [
        ("used", CodeUsed, "already used"),
        ("expired", CodeExpired, "expired"),
        ("unknown", UnknownCode, "unknown enrolment code"),
        ("disabled", AgentDisabled, "disabled"),
        ("bad key", InvalidPublicKey, "not an Ed25519 public key"),
    ],
)
def test_enrolment_refusals(
    store: Store, scenario: str, error: type[StoreError], message: str
) -> None:
    code = store.add_agent("A1023", "inbound", code_ttl=dt.timedelta(hours=2), now=T0).code
    key = raw_public(Ed25519PrivateKey.generate())
    at = T0 + dt.timedelta(minutes=5)
    if scenario == "used":
        store.enrol(code, raw_public(Ed25519PrivateKey.generate()), now=T0)
    elif scenario == "expired":
        at = T0 + dt.timedelta(hours=2)
    elif scenario == "unknown":
        code = "ZZZZ-ZZZZ-ZZZZ" if code != "ZZZZ-ZZZZ-ZZZZ" else "YYYY-YYYY-YYYY"
    elif scenario == "disabled":
        store.disable_agent("A1023", now=T0)
    elif scenario == "bad key":
        key = key[:31]
    with pytest.raises(error, match=message):
        store.enrol(code, key, now=at)


def test_a_refused_enrolment_leaves_the_code_usable(store: Store) -> None:
    shift = on_shift(store)
    code = store.issue_code(shift.agent, now=T0).code
    with pytest.raises(DeviceAlreadyEnrolled):
        store.enrol(code, raw_public(shift.device_key), now=T0)
    store.enrol(code, raw_public(Ed25519PrivateKey.generate()), now=T0)


def test_a_new_device_replaces_the_old_one(store: Store) -> None:
    shift = on_shift(store)
    code = store.issue_code(shift.agent, now=T0).code
    new = store.enrol(code, raw_public(Ed25519PrivateKey.generate()), now=T0).device
    assert store.active_device(shift.fingerprint) is None
    assert [d.fingerprint for d in store.agent_devices(shift.agent) if d.revoked_at is None] == [
        new.fingerprint
    ]


@pytest.mark.parametrize(
    ("agent", "error", "message"),
    [
        ("A1023", AgentExists, "already exists"),
        ("", InvalidAgentId, "agent ID"),
        ("a b", InvalidAgentId, "agent ID"),
        ("-x", InvalidAgentId, "agent ID"),
        ("x" * 65, InvalidAgentId, "agent ID"),
    ],
)
def test_adding_agents_refusals(
    store: Store, agent: str, error: type[StoreError], message: str
) -> None:
    store.add_agent("A1023", "inbound", now=T0)
    with pytest.raises(error, match=message):
        store.add_agent(agent, "inbound", now=T0)


def test_disabling_revokes_devices_and_ends_the_session(store: Store) -> None:
    shift = on_shift(store)
    later = T0 + dt.timedelta(hours=1)
    agent = store.disable_agent(shift.agent, now=later)
    assert (agent.enabled, agent.disabled_at) == (False, later)
    assert not store.is_session_active(shift.session.id)
    ended = store.get_session(shift.session.id)
    assert ended is not None and (ended.ended_at, ended.end_reason) == (later, "agent_disabled")
    assert store.active_device(shift.fingerprint) is None
    status = store.current_status(shift.agent)
    assert status is not None and (status.status, status.reason) == (
        AgentStatus.OFFLINE,
        "agent_disabled",
    )
    with pytest.raises(AgentDisabled):
        store.issue_code(shift.agent, now=later)
    with pytest.raises(UnknownAgent):
        store.disable_agent("nobody", now=later)


def test_list_agents_in_id_order(store: Store) -> None:
    for agent in ["B2", "A1", "C3"]:
        store.add_agent(agent, "inbound", now=T0)
    assert [a.id for a in store.list_agents()] == ["A1", "B2", "C3"]


def test_racing_threads_redeem_a_code_once(store: Store) -> None:
    code = store.add_agent("A1023", "inbound").code
    start = threading.Barrier(8)
    outcomes: list[str] = []

    def redeem() -> None:
        key = raw_public(Ed25519PrivateKey.generate())
        start.wait()
        try:
            store.enrol(code, key)
            outcomes.append("won")
        except CodeUsed:
            outcomes.append("used")

    threads = [threading.Thread(target=redeem) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["used"] * 7 + ["won"]
    assert len(store.agent_devices("A1023")) == 1


@pytest.mark.slow
def test_racing_processes_redeem_a_code_once(store: Store, db_url: str) -> None:
    for round_ in range(3):
        code = store.add_agent(f"A{round_}", "inbound").code
        children = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.store_child", "enrol", db_url, code],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        for child in children:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        results = sorted(child.communicate(timeout=60)[0].strip() for child in children)
        assert results == ["CodeUsed", "won"]
        assert len(store.agent_devices(f"A{round_}")) == 1
