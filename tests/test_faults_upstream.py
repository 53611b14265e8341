"""A business system that is down, silent or resetting: the agent gets the gateway's block page
(502 or 504, zh+en, the audit reference), the flow is audited, and nothing hangs."""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import h2.connection
import h2.events
import pytest

from homeagent.proxy.sample_app import SampleApp

from .faulty_upstream import PARTIAL_BODY, FaultyUpstream, refused_port
from .gateway_harness import GatewayHarness

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


@contextmanager
def _faulty(
    sample_app: SampleApp, mode: str, point: Callable[[int], None]
) -> Iterator[FaultyUpstream]:
    """A misbehaving system, with `point`'s host pointed at it, stopped after."""
    certs = sample_app.certificates
    faulty = FaultyUpstream(Path(certs.server_cert), Path(certs.server_key), mode)
    try:
        point(faulty.port)
        yield faulty
    finally:
        faulty.stop()


def _pointer(
    gateway: GatewayHarness, sample_app: SampleApp, host: str
) -> Iterator[Callable[[int], None]]:
    """Point `host` at a port of the test's choosing; back to the sample app after."""
    upstream_map = gateway.gateway.gateway.upstream_map

    def point(port: int) -> None:
        upstream_map[host] = ("127.0.0.1", port)

    yield point
    point(sample_app.port)


@pytest.fixture
def point_kb(gateway: GatewayHarness, sample_app: SampleApp) -> Iterator[Callable[[int], None]]:
    yield from _pointer(gateway, sample_app, "kb.acme.test")


@pytest.fixture
def point_crm(gateway: GatewayHarness, sample_app: SampleApp) -> Iterator[Callable[[int], None]]:
    yield from _pointer(gateway, sample_app, "crm.acme.test")


def _audited(gateway: GatewayHarness, reference: str) -> dict[str, object]:
    records: list[dict[str, object]] = [
        r["data"]
        for r in gateway.gateway.store.iter_audit("test-gw")
        if r["kind"] == "flow" and r["data"].get("reference") == reference
    ]
    assert len(records) == 1, f"flow {reference} audited {len(records)} times"
    return records[0]


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
    record = _audited(gateway, reference)
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
    with _faulty(sample_app, "silent", point_kb) as silent:
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
    with _faulty(sample_app, "reset", point_kb):
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


def _h2_get(gateway: GatewayHarness, token: str, path: str) -> tuple[dict[str, str], bytes]:
    """GET over HTTP/2 inside a CONNECT tunnel, offering only h2 as a browser would prefer it
    (httpx offers http/1.1 first, so mitmproxy picks that): the headers and body."""
    return _h2_gets(gateway, token, [path])[0]


def _h2_gets(
    gateway: GatewayHarness, token: str, paths: list[str]
) -> list[tuple[dict[str, str], bytes]]:
    """GETs one after the other on one HTTP/2 connection (each waits for the one before)."""
    host, port = gateway.gateway.address
    with socket.create_connection((host, port), timeout=CLIENT_TIMEOUT) as raw:
        raw.sendall(
            b"CONNECT kb.acme.test:443 HTTP/1.1\r\nHost: kb.acme.test:443\r\n"
            + f"Proxy-Authorization: Bearer {token}\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            head += raw.recv(4096)
        assert head.startswith(b"HTTP/1.1 200"), head
        context = ssl.create_default_context(cafile=str(gateway.config.ca_cert))
        context.set_alpn_protocols(["h2"])
        with context.wrap_socket(raw, server_hostname="kb.acme.test") as tls:
            assert tls.selected_alpn_protocol() == "h2"
            conn = h2.connection.H2Connection()
            conn.initiate_connection()
            return [_h2_exchange(tls, conn, 1 + 2 * n, path) for n, path in enumerate(paths)]


def _h2_exchange(
    tls: ssl.SSLSocket, conn: h2.connection.H2Connection, stream: int, path: str
) -> tuple[dict[str, str], bytes]:
    request = [(":method", "GET"), (":path", path), (":scheme", "https"),
               (":authority", "kb.acme.test"), ("accept", "application/json")]  # fmt: skip
    conn.send_headers(stream, request, end_stream=True)
    tls.sendall(conn.data_to_send())
    headers: dict[str, str] = {}
    body = b""
    for _ in range(1000):  # frames, at most; each read waits at most CLIENT_TIMEOUT
        data = tls.recv(65536)
        assert data, "the gateway closed the connection without answering"
        for event in conn.receive_data(data):
            if getattr(event, "stream_id", stream) != stream:
                continue
            if isinstance(event, h2.events.ResponseReceived):
                headers = {bytes(k).decode(): bytes(v).decode() for k, v in event.headers}
            elif isinstance(event, h2.events.DataReceived):
                body += event.data
                conn.acknowledge_received_data(len(event.data), stream)
            elif isinstance(event, h2.events.StreamEnded | h2.events.StreamReset):
                tls.sendall(conn.data_to_send())
                return headers, body
        tls.sendall(conn.data_to_send())
    raise AssertionError("no end of the stream in 1000 frames")


@pytest.mark.parametrize("mode", ["refused", "silent"])
def test_an_http2_client_gets_the_block_page_too(
    gateway: GatewayHarness,
    token: str,
    sample_app: SampleApp,
    point_kb: Callable[[int], None],
    mode: str,
) -> None:
    """Browsers speak HTTP/2 inside the tunnel: mitmproxy answers those streams on its own path."""
    if mode == "silent":
        with _faulty(sample_app, "silent", point_kb):
            headers, content = _h2_get(gateway, token, "/")
    else:
        point_kb(refused_port())
        headers, content = _h2_get(gateway, token, "/")
    status, code = (504, "upstream-timeout") if mode == "silent" else (502, "upstream-failed")
    assert headers[":status"] == str(status), content[:300]
    body = json.loads(content)
    assert body["error"] == code and body["reference"] == headers["x-homeagent-reference"]
    assert _audited(gateway, body["reference"])["status"] == status


def test_a_get_on_a_kept_alive_connection_the_system_closed_is_sent_again_once(
    gateway: GatewayHarness, token: str, sample_app: SampleApp, point_kb: Callable[[int], None]
) -> None:
    """The system's idle timeout races the agent's next request: it never reached the system,
    so the gateway sends it again on a new connection, and the agent sees no error."""
    with _faulty(sample_app, "one-each", point_kb) as closing, gateway.client(token) as client:
        first = client.get(KB)
        second = client.get(KB)  # on the connection the first was answered on
    assert (first.status_code, second.status_code) == (200, 200), second.text[:300]
    assert second.json() == {"ok": True}
    # the second request: read on the old connection, closed unanswered, sent on a new one
    assert closing.methods == ["GET", "GET", "GET"]
    assert closing.connections == 2
    record = _audited(gateway, second.headers["X-Homeagent-Reference"])
    assert record["status"] == 200 and record["decision"] == "allow"
    assert record["upstream_retried"] is True
    assert "upstream_retried" not in _audited(gateway, first.headers["X-Homeagent-Reference"])


def test_a_post_is_never_sent_twice(
    gateway: GatewayHarness, token: str, sample_app: SampleApp, point_crm: Callable[[int], None]
) -> None:
    """A POST may have been acted on (a ticket opened twice): the agent gets the 502 page."""
    url = "https://crm.acme.test/tickets/500001/notes"
    with _faulty(sample_app, "one-each", point_crm) as closing, gateway.client(token) as client:
        client.timeout.read = CLIENT_TIMEOUT
        first = client.get(url)
        posted = client.post(url, json={"note": "回访完成"})
    assert first.status_code == 200
    assert posted.status_code == 502 and posted.json()["error"] == "upstream-failed"
    assert closing.methods == ["GET", "POST"] and closing.connections == 1


def test_a_connection_opened_for_the_request_and_closed_unanswered_is_not_retried(
    gateway: GatewayHarness, token: str, sample_app: SampleApp, point_kb: Callable[[int], None]
) -> None:
    """No race there: the system is failing, and the agent is told so at once."""
    with _faulty(sample_app, "closing", point_kb) as closing, gateway.client(token) as client:
        client.timeout.read = CLIENT_TIMEOUT
        response = client.get(KB, headers={"Accept": "application/json"})
    assert response.status_code == 502 and response.json()["error"] == "upstream-failed"
    assert closing.methods == ["GET"] and closing.connections == 1


def test_a_browser_over_http2_never_meets_the_race(
    gateway: GatewayHarness, token: str, sample_app: SampleApp, point_kb: Callable[[int], None]
) -> None:
    """Browsers speak HTTP/2 in the tunnel: mitmproxy gives each of their requests its own
    HTTP/1.1 connection to the system, so none is sent on a connection the system may be
    closing, and both pages come."""
    with _faulty(sample_app, "one-each", point_kb) as closing:
        pages = _h2_gets(gateway, token, ["/", "/"])
    assert [headers[":status"] for headers, _ in pages] == ["200", "200"], pages[1][1][:300]
    assert json.loads(pages[1][1]) == {"ok": True}
    assert closing.methods == ["GET", "GET"] and closing.connections == 2
