"""A business system that misbehaves on purpose, on 127.0.0.1 with the sample app's certificate for
the `*.acme.test` names: it answers nothing, resets the connection halfway through a body, or
sends and takes bodies of tens of megabytes, or closes kept-alive connections as requests arrive."""

from __future__ import annotations

import json
import re
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from homeagent.proxy.sample_app import SampleApp

from .gateway_harness import GatewayHarness

HEAD_LIMIT = 64 * 1024
PARTIAL_BODY = b'{"name": "' + b"x" * 4000
MOBILE = re.compile(rb"(?<!\d)1[3-9]\d{9}(?!\d)")
"""A mainland mobile number, whole: what masking must leave none of."""
CHUNK = 1024 * 1024
ANSWER = (
    b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{"ok": true}'
)


def customer_records(size: int) -> bytes:
    """A JSON array of about `size` bytes of customer records, each with a whole mobile number."""
    records = []
    total = 2
    n = 0
    while total < size:
        record = json.dumps(
            {"id": n, "mobile": f"139{n % 10**8:08d}", "note": "回访客户，确认地址" + "。" * 20},
            ensure_ascii=False,
        ).encode()
        records.append(record)
        total += len(record) + 1
        n += 1
    return b"[" + b",".join(records) + b"]"


class FaultyUpstream:
    """`silent`: reads the request and never answers; `reset`: sends the head and part of a body,
    then resets the connection (RST, not a clean close); `bulk`: reads the request body whole and
    answers `body` (a JSON array, sent 1 MB at a time), or for a POST `{"received": bytes}`;
    `one-each`: answers the first request on each connection (kept alive), then reads the next
    one and closes the connection without a byte of answer, as a system whose idle timeout
    races the request does; `closing`: closes every connection as its first request arrives;
    `keep-alive`: answers every request on a connection, as a well-behaved system does."""

    def __init__(self, cert: Path, key: Path, mode: str, body: bytes = b"") -> None:
        assert mode in ("silent", "reset", "bulk", "one-each", "closing", "keep-alive")
        self.mode = mode
        self.body = body
        self.received: list[int] = []
        self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._tls.load_cert_chain(cert, key)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self.requests = 0
        self.connections = 0
        self.methods: list[str] = []
        """The method of every request head read, in order."""
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, name=f"faulty-{mode}", daemon=True)
        self._accepting.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, raw: socket.socket) -> None:
        raw.settimeout(10)
        conn: socket.socket = raw
        try:
            conn = self._tls.wrap_socket(raw, server_side=True)  # takes over raw's descriptor
            head = self._head(conn)
            if head is None:
                return
            if self.mode in ("one-each", "closing"):
                if self.mode == "one-each":
                    conn.sendall(ANSWER)
                    self._head(conn)  # the next request on the kept-alive connection
                conn.shutdown(socket.SHUT_RDWR)  # a clean close (FIN), no answer
                return
            if self.mode == "keep-alive":
                while head is not None:
                    conn.sendall(ANSWER)
                    head = self._head(conn)
                return
            if self.mode == "bulk":
                self._bulk(conn, head)
                return
            if self.mode == "silent":
                self._stop.wait(30)  # holds the request unanswered until the test ends
                return
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100000\r\n\r\n" + PARTIAL_BODY
            )
            # SO_LINGER 0: close() sends RST, the way a crashing server or a middlebox cuts it
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except (OSError, ssl.SSLError):
            return
        finally:
            conn.close()

    def _head(self, conn: socket.socket) -> bytes | None:
        """One request head (a GET's whole request), or None when the connection closed first."""
        head = b""
        while b"\r\n\r\n" not in head and len(head) < HEAD_LIMIT:
            chunk = conn.recv(4096)
            if not chunk:
                return None
            head += chunk
        self.requests += 1
        self.methods.append(head.split(b" ", 1)[0].decode("ascii", "replace"))
        return head

    def _bulk(self, conn: socket.socket, head: bytes) -> None:
        header, _, rest = head.partition(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length:\s*(\d+)", header)
        expected = int(length.group(1)) if length else 0
        got = len(rest)
        while got < expected:
            chunk = conn.recv(CHUNK)
            if not chunk:
                return
            got += len(chunk)
        self.received.append(got)
        body = json.dumps({"received": got}).encode() if header.startswith(b"POST") else self.body
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        )
        view = memoryview(body)
        for start in range(0, len(body), CHUNK):
            conn.sendall(view[start : start + CHUNK])

    def stop(self) -> None:
        self._stop.set()
        self._accepting.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()


def refused_port() -> int:
    """A loopback port where nothing listens: connecting to it is refused."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port: int = sock.getsockname()[1]
    return port


@contextmanager
def faulty(
    sample_app: SampleApp, mode: str, point: Callable[[int], None]
) -> Iterator[FaultyUpstream]:
    """A misbehaving system, with `point`'s host pointed at it, stopped after."""
    certs = sample_app.certificates
    upstream = FaultyUpstream(Path(certs.server_cert), Path(certs.server_key), mode)
    try:
        point(upstream.port)
        yield upstream
    finally:
        upstream.stop()


def pointer(
    gateway: GatewayHarness, sample_app: SampleApp, host: str
) -> Iterator[Callable[[int], None]]:
    """Point `host` at a port of the test's choosing; back to the sample app after."""
    upstream_map = gateway.gateway.gateway.upstream_map

    def point(port: int) -> None:
        upstream_map[host] = ("127.0.0.1", port)

    yield point
    point(sample_app.port)
