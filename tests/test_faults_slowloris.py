"""Slow clients (slowloris) on the proxy port and the control API: connections that trickle a
request head a byte at a time, or say nothing, are dropped within the head timeout while everyone
else is served."""

from __future__ import annotations

import select
import socket
import ssl
import time
from collections.abc import Iterator, Sequence

import httpx
import pytest

from homeagent.proxy.sample_app import SampleApp

from .gateway_harness import GatewayHarness

HEAD_TIMEOUT = 2.0
WAIT_LIMIT = 20.0  # the test gives up here: a gateway that keeps them open fails, it does not hang
SLOW_CLIENTS = 12
KB_URL = "https://kb.acme.test/"
TRICKLE_EVERY = 0.25  # far more often than mitmproxy's idle timeout would ever notice


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, sample_app: SampleApp
) -> Iterator[GatewayHarness]:
    harness = GatewayHarness(
        tmp_path_factory.mktemp("slow"), sample_app, client_head_timeout=HEAD_TIMEOUT
    )
    yield harness
    harness.stop()


def _closed_by_peer(sock: socket.socket) -> bool:
    """Whether the other side closed the connection (EOF or reset), without blocking (the socket
    is non-blocking: TLS records that carry no data, like session tickets, read as nothing)."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(4096) == b""
    except (ssl.SSLWantReadError, BlockingIOError):
        return False
    except OSError:
        return True


def _hold(
    sockets: Sequence[socket.socket], trickle: list[bool], served: httpx.Client, url: str
) -> tuple[dict[int, float], list[int]]:
    """Trickle a byte on each socket whose entry in `trickle` is true, until the gateway has
    closed them all; meanwhile make a normal request each round. (closed at, seconds since start)
    per socket, and the normal requests' statuses."""
    for sock in sockets:
        sock.setblocking(False)
    start = time.monotonic()
    closed: dict[int, float] = {}
    statuses: list[int] = []
    while len(closed) < len(sockets) and time.monotonic() - start < WAIT_LIMIT:
        for n, sock in enumerate(sockets):
            if n in closed:
                continue
            try:
                if trickle[n]:
                    sock.send(b"a")  # an endless header value: the head is never whole
                if _closed_by_peer(sock):
                    closed[n] = time.monotonic() - start
            except OSError:
                closed[n] = time.monotonic() - start
        statuses.append(served.get(url).status_code)
        time.sleep(TRICKLE_EVERY)  # the slow client's pace, not a wait for a result
    return closed, statuses


def test_slow_clients_on_the_proxy_port_are_dropped_and_others_served(
    gateway: GatewayHarness,
) -> None:
    _, token = gateway.clock_in("A1023", "inbound")
    host, port = gateway.gateway.address
    sockets = [socket.create_connection((host, port), timeout=5) for _ in range(SLOW_CLIENTS)]
    trickle = [n % 3 != 0 for n in range(SLOW_CLIENTS)]  # a third just connect and say nothing
    try:
        for sock, talks in zip(sockets, trickle, strict=True):
            if talks:
                sock.sendall(b"GET http://kb.acme.test/ HTTP/1.1\r\nHost: kb.acme.test\r\nX-Slow: ")
        with gateway.client(token) as client:
            closed, statuses = _hold(sockets, trickle, client, "https://kb.acme.test/")
    finally:
        for sock in sockets:
            sock.close()
    assert sorted(closed) == list(range(SLOW_CLIENTS)), f"still open: {SLOW_CLIENTS - len(closed)}"
    assert max(closed.values()) < HEAD_TIMEOUT + 3, closed
    assert statuses and set(statuses) == {200}, statuses  # everyone else was served throughout


def test_slow_clients_on_the_control_api_are_dropped_and_others_served(
    gateway: GatewayHarness,
) -> None:
    control = gateway.gateway.control
    assert control is not None
    context = ssl.create_default_context(cafile=str(gateway.config.ca_cert))
    sockets = []
    for _ in range(SLOW_CLIENTS):
        raw = socket.create_connection(("127.0.0.1", control.port), timeout=5)
        sockets.append(context.wrap_socket(raw, server_hostname="127.0.0.1"))
    trickle = [n % 3 != 0 for n in range(SLOW_CLIENTS)]
    try:
        for sock, talks in zip(sockets, trickle, strict=True):
            if talks:
                sock.sendall(b"GET /v1/openapi.json HTTP/1.1\r\nHost: gw\r\nX-Slow: ")
        with httpx.Client(base_url=control.url, verify=context, timeout=10) as client:
            closed, statuses = _hold(sockets, trickle, client, "/v1/openapi.json")
    finally:
        for sock in sockets:
            sock.close()
    assert sorted(closed) == list(range(SLOW_CLIENTS)), f"still open: {SLOW_CLIENTS - len(closed)}"
    assert max(closed.values()) < HEAD_TIMEOUT + 3, closed
    assert statuses and set(statuses) == {200}, statuses


def test_a_keep_alive_client_that_asks_in_time_is_not_dropped(gateway: GatewayHarness) -> None:
    _, token = gateway.clock_in("A1024", "inbound")
    with gateway.client(token) as client:
        first = client.get("https://kb.acme.test/")
        for _ in range(6):  # three head timeouts in all, each request well inside one
            time.sleep(HEAD_TIMEOUT / 2)  # the pause between a real agent's clicks
            assert client.get("https://kb.acme.test/").status_code == 200
    assert first.status_code == 200


def test_a_client_that_opens_a_tunnel_and_stalls_is_dropped(gateway: GatewayHarness) -> None:
    _, token = gateway.clock_in("A1025", "inbound")
    host, port = gateway.gateway.address
    sockets = [socket.create_connection((host, port), timeout=5) for _ in range(3)]
    try:
        for sock in sockets:
            sock.sendall(
                b"CONNECT kb.acme.test:443 HTTP/1.1\r\nHost: kb.acme.test:443\r\n"
                + f"Proxy-Authorization: Bearer {token}\r\n\r\n".encode()
            )
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")  # the tunnel is open ...
        with gateway.client(token) as client:
            # ... and then nothing: no TLS handshake (or a third of one), no request
            sockets[1].send(b"\x16\x03\x01")
            closed, statuses = _hold(sockets, [False] * len(sockets), client, KB_URL)
    finally:
        for sock in sockets:
            sock.close()
    assert sorted(closed) == [0, 1, 2], f"still open: {3 - len(closed)}"
    assert max(closed.values()) < HEAD_TIMEOUT + 3, closed
    assert set(statuses) == {200}
