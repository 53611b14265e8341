"""A business system that is down, silent or resetting: the agent gets the gateway's block page
(502 or 504, zh+en, the audit reference), the flow is audited, and nothing hangs."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator

import pytest

from homeagent.proxy.gateway import upstream_retry
from homeagent.proxy.sample_app import SampleApp

from .faulty_upstream import PARTIAL_BODY, faulty, pointer, refused_port
from .gateway_harness import GatewayHarness
from .tunnel_client import h1_get, tunnel

KB = "https://kb.acme.test/"
UPSTREAM_TIMEOUT = 2.0
CLIENT_TIMEOUT = 30.0  # far above the gateway's: the gateway's answer, not this, must end a request


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, sample_app: SampleApp
) -> Iterator[GatewayHarness]:
    harness = GatewayHarness(
        tmp_path_factory.mktemp("faults"), sample_app, upstream_timeout=UPSTREAM_TIMEOUT
    )
    yield harness
    harness.stop()


@pytest.fixture(scope="module")
def token(gateway: GatewayHarness) -> str:
    return gateway.clock_in("A1023", "inbound")[1]


@pytest.fixture
def point_kb(gateway: GatewayHarness, sample_app: SampleApp) -> Iterator[Callable[[int], None]]:
    yield from pointer(gateway, sample_app, "kb.acme.test")


@pytest.fixture
def point_crm(gateway: GatewayHarness, sample_app: SampleApp) -> Iterator[Callable[[int], None]]:
    yield from pointer(gateway, sample_app, "crm.acme.test")


def _check_page(
    gateway: GatewayHarness, token: str, status: int, code: str, rule: str
) -> dict[str, object]:
    with gateway.client(token) as client:
        client.timeout.read = CLIENT_TIMEOUT
        response = client.get(KB, headers={"Accept": "application/json"})
        page = client.get(KB, headers={"Accept": "text/html"})
    assert response.status_code == status, response.text[:300]
    body: dict[str, object] = response.json()
    assert body["error"] == code and body["rule"] == rule
    reference = response.headers["X-Homeagent-Reference"]
    assert body["reference"] == reference
    message = body["message"]
    assert isinstance(message, dict) and message["zh"] and message["en"]
    assert page.status_code == status
    assert page.headers["content-type"].startswith("text/html")
    assert "参考编号 Reference" in page.text and page.headers["X-Homeagent-Reference"] in page.text
    assert "mitmproxy" not in page.text.lower()  # the gateway's page, not the proxy library's
    record = gateway.audited_flow(reference)
    assert record["decision"] == "deny" and record["rule"] == rule
    assert record["status"] == status and record["agent"] == "A1023"
    return body


def test_the_business_system_up_is_the_baseline(gateway: GatewayHarness, token: str) -> None:
    with gateway.client(token) as client:
        assert client.get(KB).status_code == 200


def test_a_refused_connection_gets_a_502_block_page(
    gateway: GatewayHarness, token: str, point_kb: Callable[[int], None]
) -> None:
    point_kb(refused_port())
    body = _check_page(gateway, token, 502, "upstream-failed", "upstream.failed")
    assert "业务系统暂时无法访问" in str(body["message"])


def test_a_silent_business_system_gets_a_504_after_the_gateway_timeout(
    gateway: GatewayHarness, token: str, sample_app: SampleApp, point_kb: Callable[[int], None]
) -> None:
    with faulty(sample_app, "silent", point_kb) as silent:
        body = _check_page(gateway, token, 504, "upstream-timeout", "upstream.timeout")
    assert silent.requests >= 1  # the request reached it: the gateway gave up waiting for it
    assert f"{UPSTREAM_TIMEOUT:g} s" in str(body["detail"])


def test_a_system_that_never_finishes_tls_gets_a_504(
    gateway: GatewayHarness, token: str, point_kb: Callable[[int], None]
) -> None:
    # listening but never accepting: the kernel completes TCP, nobody answers the TLS hello
    with socket.create_server(("127.0.0.1", 0), backlog=16) as mute:
        point_kb(mute.getsockname()[1])
        _check_page(gateway, token, 504, "upstream-timeout", "upstream.timeout")


def test_a_reset_mid_response_gets_a_502_and_none_of_the_half_body(
    gateway: GatewayHarness, token: str, sample_app: SampleApp, point_kb: Callable[[int], None]
) -> None:
    with faulty(sample_app, "reset", point_kb):
        with gateway.client(token) as client:
            client.timeout.read = CLIENT_TIMEOUT
            response = client.get(KB, headers={"Accept": "application/json"})
        body = _check_page(gateway, token, 502, "upstream-failed", "upstream.failed")
    assert response.status_code == 502
    assert (
        PARTIAL_BODY[:40] not in response.content
    )  # an unchecked half body never reaches the agent
    assert body["detail"]


def test_the_gateway_serves_again_once_the_system_is_back(
    gateway: GatewayHarness, token: str, sample_app: SampleApp, point_kb: Callable[[int], None]
) -> None:
    point_kb(refused_port())
    with gateway.client(token) as client:
        assert client.get(KB).status_code == 502
    point_kb(sample_app.port)
    with gateway.client(token) as client:
        assert client.get(KB).status_code == 200


def test_a_browser_keeps_one_connection_to_the_system(
    gateway: GatewayHarness, token: str, sample_app: SampleApp, point_kb: Callable[[int], None]
) -> None:
    """By default the gateway speaks HTTP/1.1 with a browser that offers HTTP/2 as well, and the
    browser's requests on one connection share one connection to the system (over HTTP/2 each
    would have had a new one, with its own TCP and TLS handshake)."""
    with (
        faulty(sample_app, "keep-alive", point_kb) as system,
        tunnel(gateway.gateway.address, gateway.config.ca_cert, token, ["h2", "http/1.1"]) as tls,
    ):
        assert tls.selected_alpn_protocol() == "http/1.1"
        pages = [h1_get(tls, "/") for _ in range(3)]
    assert [head.split(b" ", 2)[1] for head, _ in pages] == [b"200"] * 3, pages[-1][0]
    assert json.loads(pages[-1][1]) == {"ok": True}
    assert system.methods == ["GET"] * 3 and system.connections == 1


def test_a_get_on_a_kept_alive_connection_the_system_closed_is_sent_again_once(
    gateway: GatewayHarness, token: str, sample_app: SampleApp, point_kb: Callable[[int], None]
) -> None:
    """The system's idle timeout races the agent's next request: it never reached the system,
    so the gateway sends it again on a new connection, and the agent sees no error."""
    with faulty(sample_app, "one-each", point_kb) as closing, gateway.client(token) as client:
        first = client.get(KB)
        second = client.get(KB)  # on the connection the first was answered on
    assert (first.status_code, second.status_code) == (200, 200), second.text[:300]
    assert second.json() == {"ok": True}
    # the second request: read on the old connection, closed unanswered, sent on a new one
    assert closing.methods == ["GET", "GET", "GET"]
    assert closing.connections == 2
    record = gateway.audited_flow(second.headers["X-Homeagent-Reference"])
    assert record["status"] == 200 and record["decision"] == "allow"
    assert record["upstream_retried"] is True
    assert "upstream_retried" not in gateway.audited_flow(first.headers["X-Homeagent-Reference"])


def test_a_post_is_never_sent_twice(
    gateway: GatewayHarness, token: str, sample_app: SampleApp, point_crm: Callable[[int], None]
) -> None:
    """A POST may have been acted on (a ticket opened twice): the agent gets the 502 page."""
    url = "https://crm.acme.test/tickets/500001/notes"
    with faulty(sample_app, "one-each", point_crm) as closing, gateway.client(token) as client:
        client.timeout.read = CLIENT_TIMEOUT
        first = client.get(url)
        posted = client.post(url, json={"note": "回访完成"})
    assert first.status_code == 200
    assert posted.status_code == 502 and posted.json()["error"] == "upstream-failed"
    assert closing.methods == ["GET", "POST"] and closing.connections == 1


def test_a_post_after_a_pause_goes_on_a_new_connection(
    gateway: GatewayHarness,
    token: str,
    sample_app: SampleApp,
    point_crm: Callable[[int], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The system may be closing a connection that has idled: a POST after a pause goes on a new
    one, so the race above cannot take it."""
    monkeypatch.setattr(upstream_retry, "FRESH_AFTER_IDLE_S", 0.3)
    url = "https://crm.acme.test/tickets/500001/notes"
    with faulty(sample_app, "one-each", point_crm) as system, gateway.client(token) as client:
        client.timeout.read = CLIENT_TIMEOUT
        first = client.get(url)
        time.sleep(0.5)
        posted = client.post(url, json={"note": "回访完成"})
        again = client.get(url)  # right after: the new connection's second request, taken again
    assert (first.status_code, posted.status_code) == (200, 200), posted.text[:300]
    assert posted.json() == {"ok": True}
    assert again.status_code == 200, again.text[:400]  # sent again on a third connection
    assert system.methods[:2] == ["GET", "POST"] and system.connections == 3


def test_a_connection_opened_for_the_request_and_closed_unanswered_is_not_retried(
    gateway: GatewayHarness, token: str, sample_app: SampleApp, point_kb: Callable[[int], None]
) -> None:
    """No race there: the system is failing, and the agent is told so at once."""
    with faulty(sample_app, "closing", point_kb) as closing, gateway.client(token) as client:
        client.timeout.read = CLIENT_TIMEOUT
        response = client.get(KB, headers={"Accept": "application/json"})
    assert response.status_code == 502 and response.json()["error"] == "upstream-failed"
    assert closing.methods == ["GET"] and closing.connections == 1
