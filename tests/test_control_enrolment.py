"""The control API over real TLS: enrolment with one-time codes, and device-signed requests
refused when the signature, the device or the clock is wrong."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from homeagent.proxy.core.device_auth import authorization
from homeagent.proxy.store.engine import sqlite_url

from .control_fixtures import Gateway, running_gateway
from .store_fixtures import raw_public


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    with running_gateway(sqlite_url(tmp_path / "gw.db"), tmp_path) as gateway:
        yield gateway


def enrol_body(code: str, key: Ed25519PrivateKey | None = None) -> dict[str, str]:
    public = raw_public(key or Ed25519PrivateKey.generate())
    return {"code": code, "public_key": base64.b64encode(public).decode()}


def test_enrolment_answers_role_ca_and_proxy(gw: Gateway) -> None:
    code = gw.store.add_agent("A1023", "inbound", now=gw.clock())
    key = Ed25519PrivateKey.generate()
    answer = gw.http.post("/v1/enrol", json=enrol_body(code.code, key))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["agent"], body["role"], body["proxy"]) == ("A1023", "inbound", "127.0.0.1:8443")
    assert body["ca_pem"] == gw.ca_pem.decode()
    assert gw.store.active_device(body["device"]) is not None
    assert [r["kind"] for r in gw.store.iter_audit("gw-test")][-1] == "agent.enrol"


def test_an_enrolment_code_works_once(gw: Gateway) -> None:
    code = gw.store.add_agent("A1023", "inbound", now=gw.clock())
    assert gw.http.post("/v1/enrol", json=enrol_body(code.code)).status_code == 200
    again = gw.http.post("/v1/enrol", json=enrol_body(code.code))
    assert again.status_code == 409
    assert again.json()["error"] == "code_used"
    assert again.json()["message"] == {
        "en": "This enrolment code was already used: ask for a new one",
        "zh": "该登记码已被使用：请申请新的登记码",
    }


def test_an_expired_enrolment_code_is_refused(gw: Gateway) -> None:
    code = gw.store.add_agent("A1023", "inbound", code_ttl=dt.timedelta(hours=1), now=gw.clock())
    gw.clock.advance(hours=1, seconds=1)
    answer = gw.http.post("/v1/enrol", json=enrol_body(code.code))
    assert (answer.status_code, answer.json()["error"]) == (410, "code_expired")


A_KEY = base64.b64encode(raw_public(Ed25519PrivateKey.generate())).decode()


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"code": "7QKD-M2XA-9TBF", "public_key": A_KEY}, 404, "unknown_code"),
        ({"code": "CODE", "public_key": "not base64!"}, 422, "invalid_public_key"),
        (
            {"code": "CODE", "public_key": base64.b64encode(b"short").decode()},
            422,
            "invalid_public_key",
        ),
        ({"code": "CODE"}, 422, "invalid_request"),
        ({"code": "CODE", "public_key": A_KEY, "role": "admin"}, 422, "invalid_request"),
    ],
)
def test_enrolment_refusals(gw: Gateway, body: dict[str, str], status: int, error: str) -> None:
    code = gw.store.add_agent("A1023", "inbound", now=gw.clock())
    if body.get("code") == "CODE":
        body = {**body, "code": code.code}
    answer = gw.http.post("/v1/enrol", json=body)
    assert (answer.status_code, answer.json()["error"]) == (status, error)
    assert set(answer.json()["message"]) == {"en", "zh"}


def test_a_signed_request_is_answered(gw: Gateway) -> None:
    client = gw.enrol()
    answer = client.get("/v1/settings")
    assert answer.status_code == 200, answer.text
    assert answer.json()["agent"] == "A1023"


def test_an_unsigned_request_is_refused(gw: Gateway) -> None:
    gw.enrol()
    answer = gw.http.get("/v1/settings")
    assert (answer.status_code, answer.json()["error"]) == (401, "auth_missing")
    assert answer.headers["www-authenticate"] == "HA-Device"


def test_a_request_signed_by_another_key_is_refused(gw: Gateway) -> None:
    client = gw.enrol()
    answer = client.request("GET", "/v1/settings", key=Ed25519PrivateKey.generate())
    assert (answer.status_code, answer.json()["error"]) == (401, "bad_signature")


def test_a_body_changed_after_signing_is_refused(gw: Gateway) -> None:
    client = gw.enrol()
    client.send_posture(b'{"version": 1, "checks": {}}')
    signed = {"status": "ready", "client_event_id": "e1", "client_time": "2026-12-03T08:00:00Z"}
    answer = client.request(
        "POST",
        "/v1/status",
        signed,
        send_content=b'{"status": "break", "client_event_id": "e1", '
        b'"client_time": "2026-12-03T08:00:00Z"}',
    )
    assert (answer.status_code, answer.json()["error"]) == (401, "bad_signature")


def test_a_replaced_device_is_refused(gw: Gateway) -> None:
    old = gw.enrol()
    gw.enrol_again()
    answer = old.get("/v1/settings")
    assert (answer.status_code, answer.json()["error"]) == (401, "device_revoked")
    assert "enrol it again" in answer.json()["message"]["en"]


def test_a_disabled_agent_is_told_so(gw: Gateway) -> None:
    client = gw.enrol()
    gw.store.disable_agent("A1023", now=gw.clock())
    answer = client.get("/v1/settings")
    assert (answer.status_code, answer.json()["error"]) == (403, "agent_disabled")
    assert "ask the security officer" in answer.json()["message"]["en"]


def test_an_unknown_agent_is_refused(gw: Gateway) -> None:
    client = gw.enrol()
    client.agent = "B2000"
    answer = client.get("/v1/settings")
    assert (answer.status_code, answer.json()["error"]) == (401, "unknown_agent")


@pytest.mark.parametrize(("skew", "status"), [(299, 200), (-299, 200), (301, 401), (-3600, 401)])
def test_a_skewed_clock_is_refused_saying_clocks_apart(gw: Gateway, skew: int, status: int) -> None:
    client = gw.enrol()
    client.skew = skew
    answer = client.get("/v1/settings")
    assert answer.status_code == status
    if status == 401:
        body = answer.json()
        assert body["error"] == "clocks_apart"
        assert body["message"]["en"].startswith(f"Clocks apart: the PC's clock is {abs(skew)} s")
        assert body["message"]["zh"].startswith(f"时钟不一致：电脑时钟与网关相差 {abs(skew)} 秒")


def test_the_signature_covers_the_query(gw: Gateway) -> None:
    client = gw.enrol()
    ts = int(gw.clock().timestamp())
    header = authorization(client.key, "A1023", "GET", "/v1/activity?limit=5", b"", ts)
    answer = gw.http.get("/v1/activity?limit=50", headers={"Authorization": header})
    assert (answer.status_code, answer.json()["error"]) == (401, "bad_signature")
    good = gw.http.get("/v1/activity?limit=5", headers={"Authorization": header})
    assert good.status_code == 200, good.text


def test_settings_carry_the_roles_thresholds_and_the_notice(gw: Gateway) -> None:
    inbound = gw.enrol("A1023", "inbound").get("/v1/settings").json()
    chat = gw.enrol("C7", "chat").get("/v1/settings").json()
    policy = gw.policy().policy
    assert inbound["posture"]["network"]["min_download_mbps"] == 8
    assert chat["posture"]["network"]["min_download_mbps"] == 2
    assert (inbound["posture"]["noise"]["level"], chat["posture"]["noise"]["level"]) == (
        "required",
        "warn",
    )
    assert "TeamViewer*" in inbound["posture"]["processes"]["forbidden"]
    assert inbound["notice"] == {
        "version": policy.notice.version,
        "zh": policy.notice.zh,
        "en": policy.notice.en,
    }
    assert (inbound["max_age"], inbound["recheck_interval"]) == (3600, 1800)
    assert inbound["proxy"] == "127.0.0.1:8443" and inbound["token_ttl"] == 1800
    # the thresholds, not the policy: no roles' hosts, masking or words
    assert set(inbound) == {
        "agent", "role", "posture", "recheck_interval", "max_age", "notice", "proxy",
        "token_ttl", "server_time",
    }  # fmt: skip


def test_an_oversized_body_is_refused_before_it_is_read(gw: Gateway) -> None:
    answer = gw.http.post("/v1/enrol", content=b"x" * 300_000)
    assert (answer.status_code, answer.json()["error"]) == (413, "body_too_large")
