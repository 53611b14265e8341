"""A browser's connection to a business system through the gateway, by hand: CONNECT with the
agent's token, TLS to the gateway's certificate for the system offering the protocols a browser
offers, then GETs over HTTP/1.1 or HTTP/2 with the bytes in view."""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import h2.connection
import h2.events

HOST = "kb.acme.test"
TIMEOUT = 30.0
"""Far above the gateway's own time-outs: the gateway's answer, not this, must end a request."""


@contextmanager
def tunnel(
    gateway: tuple[str, int], ca_file: Path, token: str, alpn: list[str]
) -> Iterator[ssl.SSLSocket]:
    """TLS to kb.acme.test inside a CONNECT tunnel through the gateway's proxy port, trusting
    its CA, offering `alpn`."""
    with socket.create_connection(gateway, timeout=TIMEOUT) as raw:
        raw.sendall(
            f"CONNECT {HOST}:443 HTTP/1.1\r\nHost: {HOST}:443\r\n"
            f"Proxy-Authorization: Bearer {token}\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            chunk = raw.recv(4096)
            assert chunk, f"the gateway closed the connection during CONNECT: {head!r}"
            head += chunk
        assert head.startswith(b"HTTP/1.1 200"), head
        context = ssl.create_default_context(cafile=str(ca_file))
        context.set_alpn_protocols(alpn)
        with context.wrap_socket(raw, server_hostname=HOST) as tls:
            yield tls


def h1_get(tls: ssl.SSLSocket, path: str) -> tuple[bytes, bytes]:
    """One GET on a kept-alive HTTP/1.1 connection: the response head and body."""
    tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nAccept: application/json\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = tls.recv(65536)
        assert chunk, "the gateway closed the connection without answering"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)\r?$", head)
    assert length is not None, head
    while len(body) < int(length.group(1)):
        chunk = tls.recv(65536)
        assert chunk, "the gateway closed the connection halfway through a body"
        body += chunk
    return head, body


def h2_gets(
    gateway: tuple[str, int], ca_file: Path, token: str, paths: list[str]
) -> list[tuple[dict[str, str], bytes]]:
    """GETs one after the other on one HTTP/2 connection (each waits for the one before),
    offering only h2 as a browser would prefer it: each response's headers and body."""
    with tunnel(gateway, ca_file, token, ["h2"]) as tls:
        assert tls.selected_alpn_protocol() == "h2"
        conn = h2.connection.H2Connection()
        conn.initiate_connection()
        return [_h2_get(tls, conn, 1 + 2 * n, path) for n, path in enumerate(paths)]


def _h2_get(
    tls: ssl.SSLSocket, conn: h2.connection.H2Connection, stream: int, path: str
) -> tuple[dict[str, str], bytes]:
    request = [(":method", "GET"), (":path", path), (":scheme", "https"),
               (":authority", HOST), ("accept", "application/json")]  # fmt: skip
    conn.send_headers(stream, request, end_stream=True)
    tls.sendall(conn.data_to_send())
    headers: dict[str, str] = {}
    body = b""
    for _ in range(1000):  # frames, at most; each read waits at most TIMEOUT
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
