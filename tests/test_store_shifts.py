"""Shifts in the store, on SQLite and PostgreSQL: clock-in and out, status changes (refused
when the state machine says no, stored once when redelivered), heartbeats, posture reports."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from homeagent.proxy.core.agent_status import AgentStatus, StatusError
from homeagent.proxy.store import (
    AgentDisabled,
    BadSignature,
    MalformedReport,
    SessionNotActive,
    Store,
    UnknownDevice,
)

from .store_fixtures import T0, on_shift, raw_public

MINUTE = dt.timedelta(minutes=1)
BEIJING = dt.timezone(dt.timedelta(hours=8))


def test_clock_in_binds_agent_device_and_role(store: Store) -> None:
    shift = on_shift(store)
    session = shift.session
    assert (session.agent, session.device, session.role) == ("A1023", shift.fingerprint, "inbound")
    assert session.started_at == T0 and session.token_expires_at == T0 + dt.timedelta(minutes=30)
    assert store.is_session_active(session.id)
    assert store.open_session("A1023") == session
    assert not store.is_session_active("no-such-session")


def test_clock_in_refusals(store: Store) -> None:
    shift = on_shift(store)
    with pytest.raises(UnknownDevice, match="not enrolled"):
        store.start_session(shift.agent, "0" * 64, now=T0)
    store.disable_agent(shift.agent, now=T0)
    with pytest.raises(AgentDisabled):
        store.start_session(shift.agent, shift.fingerprint, now=T0)


def test_a_second_clock_in_supersedes_the_first(store: Store) -> None:
    shift = on_shift(store)
    second = store.start_session(shift.agent, shift.fingerprint, now=T0 + MINUTE)
    first = store.get_session(shift.session.id)
    assert first is not None and first.end_reason == "superseded"
    assert not store.is_session_active(first.id) and store.is_session_active(second.id)
    assert store.open_session(shift.agent) == second


def test_clock_out_ends_the_session_once(store: Store) -> None:
    shift = on_shift(store)
    ended = store.end_session(shift.session.id, "clock_out", now=T0 + MINUTE)
    assert (ended.ended_at, ended.end_reason) == (T0 + MINUTE, "clock_out")
    again = store.end_session(shift.session.id, "posture_expired", now=T0 + 2 * MINUTE)
    assert again == ended
    assert not store.is_session_active(shift.session.id)
    offline = [e for e in store.status_history(shift.agent) if e.status is AgentStatus.OFFLINE]
    assert len(offline) == 1 and offline[0].reason == "clock_out"
    with pytest.raises(SessionNotActive):
        store.renew_session(shift.session.id, now=T0 + 2 * MINUTE)
    with pytest.raises(SessionNotActive, match="unknown session"):
        store.end_session("nope", "clock_out")


def test_renewal_moves_the_token_expiry(store: Store) -> None:
    shift = on_shift(store)
    renewed = store.renew_session(shift.session.id, token_ttl=dt.timedelta(minutes=10), now=T0)
    assert renewed.token_expires_at == T0 + dt.timedelta(minutes=10)


def test_status_changes_carry_server_and_client_times(store: Store) -> None:
    shift = on_shift(store)
    client_time = dt.datetime(2026, 12, 3, 16, 0, 5, tzinfo=BEIJING)
    event = store.record_status(
        shift.agent,
        shift.session.id,
        "not_ready",
        "checks",
        client_event_id="e1",
        client_time=client_time,
        now=T0 + MINUTE,
    )
    assert event.client_time == client_time and event.client_time.tzinfo == dt.UTC
    assert event.server_time == T0 + MINUTE and not event.duplicate
    store.record_status(shift.agent, shift.session.id, AgentStatus.READY, now=T0 + 2 * MINUTE)
    current = store.current_status(shift.agent)
    assert current is not None
    assert (current.status, current.server_time) == (AgentStatus.READY, T0 + 2 * MINUTE)


def test_a_redelivered_status_event_is_stored_once(store: Store) -> None:
    shift = on_shift(store)
    first = store.record_status(
        shift.agent, shift.session.id, "ready", client_event_id="q-17", now=T0
    )
    store.record_status(shift.agent, shift.session.id, "busy", client_event_id="q-18", now=T0)
    again = store.record_status(
        shift.agent, shift.session.id, "ready", client_event_id="q-17", now=T0 + MINUTE
    )
    assert again.duplicate and again.id == first.id and again.server_time == T0
    assert [e.client_event_id for e in store.status_history(shift.agent)] == ["q-17", "q-18"]
    current = store.current_status(shift.agent)
    assert current is not None and current.status is AgentStatus.BUSY


def test_the_same_client_event_id_from_two_agents_is_two_events(store: Store) -> None:
    one, two = on_shift(store, "A1"), on_shift(store, "A2")
    store.record_status(one.agent, one.session.id, "ready", client_event_id="e1", now=T0)
    event = store.record_status(two.agent, two.session.id, "ready", client_event_id="e1", now=T0)
    assert not event.duplicate


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([("busy", None)], "cannot go from offline to busy"),
        ([("not_ready", "checks"), ("busy", None)], "cannot go from not_ready to busy"),
        ([("ready", None), ("busy", None), ("break", "lunch")], "cannot go from busy to break"),
        ([("not_ready", None)], "needs a reason"),
        ([("ready", "why")], "takes no reason"),
        ([("lunch", None)], "unknown status"),
    ],
)
def test_invalid_transitions_are_refused_and_not_stored(
    store: Store, steps: list[tuple[str, str | None]], message: str
) -> None:
    shift = on_shift(store)
    *allowed, (last, reason) = steps
    for status, why in allowed:
        store.record_status(shift.agent, shift.session.id, status, why, now=T0)
    with pytest.raises(StatusError, match=message):
        store.record_status(shift.agent, shift.session.id, last, reason, now=T0)
    assert len(store.status_history(shift.agent)) == len(allowed)


def test_status_needs_the_agents_own_open_session(store: Store) -> None:
    one, two = on_shift(store, "A1"), on_shift(store, "A2")
    with pytest.raises(SessionNotActive):
        store.record_status(one.agent, two.session.id, "ready", now=T0)
    store.end_session(one.session.id, "clock_out", now=T0)
    with pytest.raises(SessionNotActive):
        store.record_status(one.agent, one.session.id, "ready", now=T0)


def test_heartbeats_keep_the_last_time_seen(store: Store) -> None:
    shift = on_shift(store)
    assert store.last_heartbeat(shift.session.id) is None
    store.heartbeat(shift.session.id, now=T0 + MINUTE)
    store.heartbeat(shift.session.id, now=T0 + 2 * MINUTE)
    assert store.last_heartbeat(shift.session.id) == T0 + 2 * MINUTE
    store.end_session(shift.session.id, "clock_out", now=T0 + 3 * MINUTE)
    with pytest.raises(SessionNotActive):
        store.heartbeat(shift.session.id, now=T0 + 4 * MINUTE)


def test_posture_reports_are_kept_signed_and_the_latest_is_found(store: Store) -> None:
    shift = on_shift(store)
    reports = [{"cpu_threads": 4, "noise_dba": 41.5}, {"cpu_threads": 4, "noise_dba": 58.0}]
    for n, measurements in enumerate(reports):
        body = json.dumps(measurements).encode()
        store.record_posture(
            shift.agent,
            shift.fingerprint,
            body,
            shift.device_key.sign(body),
            passed=n == 0,
            failing_checks=[] if n == 0 else ["noise"],
            now=T0 + n * MINUTE,
        )
    latest = store.latest_posture(shift.agent)
    assert latest is not None
    assert latest.measurements == reports[1] and latest.received_at == T0 + MINUTE
    assert (latest.passed, latest.failing_checks) == (False, ("noise",))
    shift.device_key.public_key().verify(latest.signature, latest.report)
    assert store.latest_posture("nobody") is None


@pytest.mark.parametrize(
    ("body", "signer", "error", "message"),
    [
        (b'{"cpu_threads": 4}', "other", BadSignature, "does not verify"),
        (b"not json", "device", MalformedReport, "not JSON"),
        (b"[1, 2]", "device", MalformedReport, "JSON object"),
        (b'{"cpu_threads": 4}', "revoked", UnknownDevice, "not enrolled"),
    ],
)
def test_posture_refusals(
    store: Store, body: bytes, signer: str, error: type[Exception], message: str
) -> None:
    shift = on_shift(store)
    key = shift.device_key if signer != "other" else Ed25519PrivateKey.generate()
    if signer == "revoked":  # a newly enrolled PC revokes the old one
        code = store.issue_code(shift.agent, now=T0).code
        store.enrol(code, raw_public(Ed25519PrivateKey.generate()), now=T0)
    with pytest.raises(error, match=message):
        store.record_posture(
            shift.agent, shift.fingerprint, body, key.sign(body), passed=True, now=T0
        )
    assert store.latest_posture(shift.agent) is None


def test_naive_times_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="no time zone"):
        store.add_agent("A1", "inbound", now=dt.datetime(2026, 12, 3, 8, 0))
