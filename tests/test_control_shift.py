"""The shift over the control API: posture reports judged and kept, clock-in gated by notice and
posture, session tokens that verify until clock-out, renewal, status changes and heartbeats."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from homeagent.proxy.core.session_token import SessionClaims, TokenError, read_token
from homeagent.proxy.store.engine import sqlite_url

from .control_fixtures import AgentClient, Gateway, posture_report, running_gateway


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    with running_gateway(sqlite_url(tmp_path / "gw.db"), tmp_path) as gateway:
        yield gateway


def verify(gw: Gateway, token: str) -> SessionClaims:
    """What the gateway's gate does with a token from Proxy-Authorization."""
    return read_token(
        token,
        gw.ctx.token_public_keys,
        now=gw.clock().timestamp(),
        is_revoked=lambda session: not gw.store.is_session_active(session),
    )


def status(
    client: AgentClient, value: str, event: str, reason: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": value,
        "client_event_id": event,
        "client_time": "2026-12-03T16:00:00+08:00",
    }
    if reason is not None:
        body["reason"] = reason
    answer = client.post("/v1/status", body)
    return {"code": answer.status_code, **answer.json()}


def kinds(gw: Gateway) -> list[str]:
    return [record["kind"] for record in gw.store.iter_audit("gw-test")]


# --- posture ---------------------------------------------------------------------------------


def test_a_passing_report_is_judged_kept_and_audited(gw: Gateway) -> None:
    client = gw.enrol()
    report = posture_report()
    answer = client.send_posture(report)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["passed"] is True and body["failing"] == [] and len(body["checks"]) == 7
    received = dt.datetime.fromisoformat(body["received_at"])
    assert received == gw.clock()
    assert dt.datetime.fromisoformat(body["expires_at"]) == received + dt.timedelta(hours=1)
    stored = gw.store.latest_posture("A1023")
    assert stored is not None and stored.report == report and stored.passed
    assert kinds(gw)[-1] == "posture"


def test_a_failing_report_names_its_checks_in_both_languages(gw: Gateway) -> None:
    client = gw.enrol()
    answer = client.send_posture(posture_report(noise={"dbfs_a": -62.0}))
    body = answer.json()
    assert answer.status_code == 201 and body["passed"] is False and body["failing"] == ["noise"]
    noise = next(check for check in body["checks"] if check["check"] == "noise")
    assert noise["hint"]["en"].startswith("Background noise 58 dB(A), limit 50")
    assert noise["hint"]["zh"].startswith("背景噪声 58 dB(A)，上限 50")
    stored = gw.store.latest_posture("A1023")
    assert stored is not None and stored.failing_checks == ("noise",)


@pytest.mark.parametrize(
    ("report", "signature", "error"),
    [
        (
            b'{"version": 1, "checks": {"cpu": {"measurements": {"logical_cores": "8"}}}}',
            None,
            "malformed_report",
        ),
        (b"not json", None, "malformed_report"),
        (posture_report(), "c2lnbmF0dXJl", "bad_report_signature"),
        (posture_report(), "%%%", "bad_report_signature"),
    ],
)
def test_an_unreadable_or_unsigned_report_is_refused(
    gw: Gateway, report: bytes, signature: str | None, error: str
) -> None:
    client = gw.enrol()
    if signature is None:
        answer = client.send_posture(report)
    else:
        answer = client.post(
            "/v1/posture", {"report_json": report.decode(), "signature": signature}
        )
    assert (answer.status_code, answer.json()["error"]) == (422, error)
    assert gw.store.latest_posture("A1023") is None


# --- clock-in and tokens ---------------------------------------------------------------------


def test_the_token_from_clock_in_verifies_until_clock_out(gw: Gateway) -> None:
    client, token = gw.on_shift()
    claims = verify(gw, token)
    device = gw.store.agent_devices("A1023")[0].fingerprint
    assert (claims.agent, claims.device, claims.role) == ("A1023", device, "inbound")
    assert gw.store.is_session_active(claims.session)
    answer = client.post("/v1/clock-out")
    assert answer.status_code == 200, answer.text
    assert answer.json()["session"] == claims.session and answer.json()["reason"] == "clock_out"
    with pytest.raises(TokenError, match="session has ended"):
        verify(gw, token)
    assert kinds(gw)[-3:] == ["clock.in", "status", "clock.out"]
    again = client.post("/v1/clock-out")
    assert (again.status_code, again.json()["error"]) == (409, "not_clocked_in")


def test_clock_in_records_the_notice_acknowledged(gw: Gateway) -> None:
    gw.on_shift()
    records = list(gw.store.iter_audit("gw-test"))
    ack = next(r for r in records if r["kind"] == "notice.ack")
    assert ack["data"]["agent"] == "A1023" and ack["data"]["version"] == gw.notice_version


def test_a_failing_required_check_blocks_clock_in_naming_it(gw: Gateway) -> None:
    client = gw.enrol()
    client.send_posture(posture_report(noise={"dbfs_a": -62.0}, processes={"names": ["AnyDesk"]}))
    answer = client.clock_in(gw.notice_version)
    body = answer.json()
    assert (answer.status_code, body["error"]) == (403, "posture_failed")
    assert body["failing"] == ["noise", "processes"]
    assert "Background noise 58 dB(A), limit 50" in body["message"]["en"]
    assert "Forbidden program running (AnyDesk)" in body["message"]["en"]
    assert "背景噪声 58 dB(A)，上限 50" in body["message"]["zh"]
    assert "正在运行禁止使用的程序（AnyDesk）" in body["message"]["zh"]
    assert gw.store.open_session("A1023") is None


def test_a_warn_level_shortfall_does_not_block_clock_in(gw: Gateway) -> None:
    # the chat role's noise check is `warn` in the default policy
    client = gw.enrol("C7", "chat")
    posture = client.send_posture(posture_report(noise={"dbfs_a": -62.0})).json()
    assert posture["passed"] is True and posture["warnings"] == ["noise"]
    assert client.clock_in(gw.notice_version).status_code == 201


@pytest.mark.parametrize(
    ("prepare", "status", "error"),
    [
        ("nothing", 403, "posture_missing"),
        ("stale", 403, "posture_stale"),
        ("old notice", 409, "notice_outdated"),
    ],
)
def test_clock_in_refusals(gw: Gateway, prepare: str, status: int, error: str) -> None:
    client = gw.enrol()
    notice = gw.notice_version
    if prepare != "nothing":
        client.send_posture(posture_report())
    if prepare == "stale":
        gw.clock.advance(minutes=61)
    if prepare == "old notice":
        notice = notice + "-old"
    answer = client.clock_in(notice)
    assert (answer.status_code, answer.json()["error"]) == (status, error)
    assert gw.store.open_session("A1023") is None


def test_a_report_from_a_replaced_device_does_not_count(gw: Gateway) -> None:
    gw.enrol().send_posture(posture_report())
    answer = gw.enrol_again().clock_in(gw.notice_version)
    assert (answer.status_code, answer.json()["error"]) == (403, "posture_missing")


def test_the_token_lives_no_longer_than_the_posture_report(gw: Gateway) -> None:
    client = gw.enrol()
    client.send_posture(posture_report())
    gw.clock.advance(minutes=50)
    answer = client.clock_in(gw.notice_version)
    expires = dt.datetime.fromisoformat(answer.json()["expires_at"])
    assert expires == gw.clock() + dt.timedelta(minutes=10)
    assert verify(gw, answer.json()["token"]).expires_at == expires.timestamp()
    gw.clock.advance(minutes=10)
    with pytest.raises(TokenError, match="expired"):
        verify(gw, answer.json()["token"])


def test_disabling_the_agent_revokes_the_token(gw: Gateway) -> None:
    _, token = gw.on_shift()
    gw.store.disable_agent("A1023", now=gw.clock(), audit=gw.audit)
    with pytest.raises(TokenError, match="session has ended"):
        verify(gw, token)


# --- renewal ---------------------------------------------------------------------------------


def test_renewal_gives_a_new_token_for_the_same_session(gw: Gateway) -> None:
    client, token = gw.on_shift()
    gw.clock.advance(minutes=20)
    client.send_posture(posture_report())
    answer = client.post("/v1/session/renew")
    assert answer.status_code == 200, answer.text
    renewed = answer.json()
    assert renewed["token"] != token
    assert verify(gw, renewed["token"]).session == verify(gw, token).session
    assert dt.datetime.fromisoformat(renewed["expires_at"]) == gw.clock() + dt.timedelta(minutes=30)


def test_renewal_after_the_posture_expired_ends_the_session(gw: Gateway) -> None:
    client, token = gw.on_shift()
    session = verify(gw, token).session
    gw.clock.advance(minutes=61)
    answer = client.post("/v1/session/renew")
    assert (answer.status_code, answer.json()["error"]) == (403, "posture_expired")
    ended = gw.store.get_session(session)
    assert ended is not None and ended.end_reason == "posture_expired"


@pytest.mark.parametrize(("current", "renewed"), [("busy", True), ("ready", False)])
def test_a_failing_recheck_waits_for_the_contact_to_end(
    gw: Gateway, current: str, renewed: bool
) -> None:
    client, _ = gw.on_shift()
    assert status(client, "ready", "e1")["code"] == 201
    if current == "busy":
        assert status(client, "busy", "e2")["code"] == 201
    client.send_posture(posture_report(noise={"dbfs_a": -40.0}))
    answer = client.post("/v1/session/renew")
    if renewed:
        assert answer.status_code == 200, answer.text
    else:
        assert (answer.status_code, answer.json()["error"]) == (403, "posture_failed")
    assert gw.store.open_session("A1023") is not None


# --- status and heartbeat --------------------------------------------------------------------


def test_a_status_change_is_stored_once_however_often_it_is_sent(gw: Gateway) -> None:
    client, _ = gw.on_shift()
    first = status(client, "not_ready", "evt-1", "meeting")
    again = status(client, "not_ready", "evt-1", "meeting")
    assert (first["code"], again["code"]) == (201, 200)
    assert first["id"] == again["id"] and again["duplicate"] is True and not first["duplicate"]
    assert dt.datetime.fromisoformat(first["server_time"]) == gw.clock()
    assert dt.datetime.fromisoformat(first["client_time"]) == dt.datetime(
        2026, 12, 3, 8, 0, tzinfo=dt.UTC
    )
    history = gw.store.status_history("A1023")
    assert [e.status.value for e in history] == ["not_ready"]


def test_an_invalid_transition_is_refused_with_409(gw: Gateway) -> None:
    client, _ = gw.on_shift()
    assert status(client, "ready", "e1")["code"] == 201
    assert status(client, "busy", "e2")["code"] == 201
    refused = status(client, "break", "e3")
    assert (refused["code"], refused["error"]) == (409, "status_transition")
    assert refused["message"] == {
        "en": "You cannot go from busy to break",
        "zh": "无法从“通话中”切换到“休息”",
    }
    assert (refused["current"], refused["target"]) == ("busy", "break")


@pytest.mark.parametrize(
    ("value", "reason", "code", "error"),
    [
        ("not_ready", None, 422, "reason_required"),
        ("ready", "lunch", 422, "reason_not_taken"),
        ("not_ready", "Has Spaces", 422, "invalid_request"),
        ("offline", None, 422, "invalid_request"),
        ("dancing", None, 422, "invalid_request"),
    ],
)
def test_status_refusals(
    gw: Gateway, value: str, reason: str | None, code: int, error: str
) -> None:
    client, _ = gw.on_shift()
    refused = status(client, value, "e1", reason)
    assert (refused["code"], refused["error"]) == (code, error)


def test_status_needs_a_shift(gw: Gateway) -> None:
    client = gw.enrol()
    refused = status(client, "ready", "e1")
    assert (refused["code"], refused["error"]) == (409, "not_clocked_in")


def test_going_ready_needs_a_passing_posture(gw: Gateway) -> None:
    client, _ = gw.on_shift()
    client.send_posture(posture_report(removable_storage={"mounted": ["E:\\ KINGSTON"]}))
    refused = status(client, "ready", "e1")
    assert (refused["code"], refused["error"]) == (403, "posture_failed")
    assert "USB storage connected (E:\\ KINGSTON)" in refused["message"]["en"]
    assert status(client, "not_ready", "e2", "posture.storage")["code"] == 201


def test_the_current_status_has_server_times_and_the_shift_start(gw: Gateway) -> None:
    client = gw.enrol()
    offline = client.get("/v1/status").json()
    assert (offline["status"], offline["session"], offline["posture_passed"]) == (
        "offline",
        None,
        None,
    )
    client.send_posture(posture_report())
    start = gw.clock()
    client.clock_in(gw.notice_version)
    assert status(client, "ready", "e1")["code"] == 201
    gw.clock.advance(minutes=5)
    assert status(client, "break", "e2", "lunch")["code"] == 201
    now = client.get("/v1/status").json()
    assert (now["status"], now["reason"], now["posture_passed"]) == ("break", "lunch", True)
    assert dt.datetime.fromisoformat(now["since"]) == gw.clock()
    assert dt.datetime.fromisoformat(now["shift_start"]) == start
    assert dt.datetime.fromisoformat(now["posture_expires_at"]) == start + dt.timedelta(hours=1)


def test_heartbeats_are_kept_and_end_the_session_once_posture_expires(gw: Gateway) -> None:
    client, token = gw.on_shift()
    session = verify(gw, token).session
    gw.clock.advance(minutes=3)
    beat = client.post("/v1/heartbeat")
    assert beat.status_code == 200, beat.text
    assert gw.store.last_heartbeat(session) == gw.clock()
    gw.clock.advance(minutes=58)
    expired = client.post("/v1/heartbeat")
    assert (expired.status_code, expired.json()["error"]) == (403, "posture_expired")
    assert not gw.store.is_session_active(session)
