"""Client and gateway clocks minutes apart, and replays, against the real gateway: a signed request
within 300 s of the gateway's clock is taken, one further off is refused with a message that says
what to do; posture freshness and status times run on the gateway's clock; a token from an
instance whose clock runs ahead more than 120 s is refused; a replayed signed status change
changes nothing twice, and one replayed after the window is refused; a replayed clock-in or
token renewal hands out no token."""

from __future__ import annotations

import datetime as dt
import time

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from homeagent.proxy.core.device_auth import MAX_CLOCK_SKEW_SECONDS
from homeagent.proxy.core.session_token import CLOCK_LEEWAY_SECONDS, SessionClaims, issue_token

from .gateway_harness import GatewayHarness
from .signed_device import SkewedDevice

KB = "https://kb.acme.test/"


def _when(text: str) -> float:
    return dt.datetime.fromisoformat(text).timestamp()


@pytest.mark.parametrize("minutes", [4, -4])
def test_a_clock_four_minutes_off_is_tolerated_and_the_gateway_clock_rules(
    harness: GatewayHarness, minutes: int
) -> None:
    device = SkewedDevice(harness, f"K{400 + minutes}", minutes * 60)
    posture = device.report_posture()
    assert posture.status_code in (200, 201), posture.text
    received, expires = _when(posture.json()["received_at"]), _when(posture.json()["expires_at"])
    # freshness runs from when the gateway received the report, not the PC's idea of the time
    assert abs(received - time.time()) < abs(minutes * 60) / 2
    assert expires - received == harness.gateway.policy.engines.loaded.policy.posture.max_age
    notice = device.call("GET", "/v1/settings").json()["notice"]["version"]
    clocked = device.call("POST", "/v1/clock-in", {"notice_version": notice})
    assert clocked.status_code in (200, 201), clocked.text
    changed = device.http.send(device.status("ready", f"ready-{minutes}"))
    assert changed.status_code in (200, 201), changed.text
    event = changed.json()
    assert abs(_when(event["server_time"]) - time.time()) < abs(minutes * 60) / 2
    assert abs(_when(event["client_time"]) - device.now()) < 5  # kept as the PC said, beside it
    with harness.client(clocked.json()["token"]) as client:
        assert client.get(KB).status_code == 200  # the token runs on the gateway's clock alone


@pytest.mark.parametrize("minutes", [6, -6])
def test_a_clock_six_minutes_off_is_refused_with_what_to_do(
    harness: GatewayHarness, minutes: int
) -> None:
    device = SkewedDevice(harness, f"K{600 + minutes}", minutes * 60)
    refused = device.report_posture()
    assert refused.status_code == 401
    body = refused.json()
    assert body["error"] == "clocks_apart"
    assert abs(body["seconds"] - abs(minutes) * 60) <= 2 and body["limit"] == MAX_CLOCK_SKEW_SECONDS
    assert "automatic time" in body["message"]["en"] and "自动设置时间" in body["message"]["zh"]
    assert str(body["seconds"]) in body["message"]["en"]


@pytest.mark.parametrize(
    ("ahead", "accepted"), [(CLOCK_LEEWAY_SECONDS - 20, True), (CLOCK_LEEWAY_SECONDS + 180, False)]
)
def test_a_token_from_an_instance_whose_clock_runs_ahead(
    harness: GatewayHarness, ahead: float, accepted: bool
) -> None:
    store = harness.gateway.store
    agent = f"T{int(ahead)}"
    code = store.add_agent(agent, "inbound")
    device = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    fingerprint = store.enrol(code.code, device).device.fingerprint
    session = store.start_session(agent, fingerprint)
    issued = time.time() + ahead  # another instance, its clock `ahead` seconds fast, issued it
    claims = SessionClaims(
        agent, fingerprint, "inbound", session.id, issued, session.token_expires_at.timestamp()
    )
    token = issue_token(claims, harness.gateway.token_key)
    plain = httpx.get(
        "http://kb.acme.test/",
        proxy=httpx.Proxy(harness.proxy_url, headers={"Proxy-Authorization": f"Bearer {token}"}),
        headers={"Accept": "application/json"},
    )
    if accepted:
        assert plain.status_code != 407, plain.text
        return
    assert plain.status_code == 407
    body = plain.json()
    assert body["rule"] == "gate.session" and "clocks apart" in body["detail"]
    assert body["message"]["zh"] and body["message"]["en"]


def test_a_replayed_signed_status_change_changes_nothing_twice(harness: GatewayHarness) -> None:
    device = SkewedDevice(harness, "R1001", 0)
    assert device.report_posture().status_code in (200, 201)
    notice = device.call("GET", "/v1/settings").json()["notice"]["version"]
    assert device.call("POST", "/v1/clock-in", {"notice_version": notice}).status_code in (200, 201)
    request = device.status("ready", "ready-1")
    first = device.http.send(request)
    assert first.status_code in (200, 201), first.text
    later = device.http.send(device.status("break", "break-1"))
    assert later.status_code in (200, 201), later.text
    replayed = device.http.send(request)  # the same bytes, signature and all
    assert replayed.status_code in (200, 201), replayed.text
    assert first.json()["duplicate"] is False and replayed.json()["duplicate"] is True
    assert replayed.json()["id"] == first.json()["id"]  # one change on record, not two
    assert device.call("GET", "/v1/status").json()["status"] == "break"  # not undone by it


def test_a_signed_request_replayed_after_the_window_is_refused(harness: GatewayHarness) -> None:
    device = SkewedDevice(harness, "R1002", -(MAX_CLOCK_SKEW_SECONDS + 60))
    # what a request captured more than 300 s ago looks like when it is sent again now
    stale = device.status("ready", "ready-stale")
    replayed = device.http.send(stale)
    assert replayed.status_code == 401 and replayed.json()["error"] == "clocks_apart"


def test_a_replayed_clock_in_or_renewal_hands_out_no_token(harness: GatewayHarness) -> None:
    """A captured clock-in or renewal sent again within the clock window would mint a session
    token for whoever sent it: the copy is refused, the agent's own shift goes on."""
    device = SkewedDevice(harness, "R1003", 0)
    assert device.report_posture().status_code in (200, 201)
    notice = device.call("GET", "/v1/settings").json()["notice"]["version"]
    clock_in = device.signed("POST", "/v1/clock-in", {"notice_version": notice})
    first = device.http.send(clock_in)
    assert first.status_code == 201, first.text
    session = first.json()["session"]
    replayed = device.http.send(clock_in)
    assert replayed.status_code == 409, replayed.text
    body = replayed.json()
    assert body["error"] == "replayed" and "token" not in body
    assert body["message"]["zh"] and body["message"]["en"]
    time.sleep(1.1)  # a request signed anew (another second) is the agent's own: taken
    renew = device.signed("POST", "/v1/session/renew")
    renewed = device.http.send(renew)
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["session"] == session  # not superseded by the replayed clock-in
    again = device.http.send(renew)
    assert again.status_code == 409 and again.json()["error"] == "replayed"
    with harness.client(renewed.json()["token"]) as client:
        assert client.get(KB).status_code == 200
