"""For the forwarder's tests: a plain-HTTP echo server on loopback (the business system that shows
what reached it), a gateway whose policy lets a `plain` role reach it, and a running forwarder."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from homeagent.client.forward import Forwarder, Limits, gateway_target
from homeagent.client.forward.server import TokenProvider
from homeagent.client.state import Enrolment

from .control_fixtures import LoopThread
from .gateway_harness import ACME

ECHO_HOST = "echo.acme.test"


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so several requests share a connection
    # One write per answer and no Nagle: a head and body written apart wait out the peer's
    # delayed ACK, 40 ms a request.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def _answer(self) -> None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._chunks()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
        document: dict[str, object] = {
            "method": self.command,
            "path": self.path,
            "headers": [[n, v] for n, v in self.headers.items()],
            "body_bytes": len(body),
        }
        if not self.path.startswith("/upload"):  # uploads: only their size comes back
            document["body"] = body.decode("utf-8", "replace")
        data = json.dumps(document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _chunks(self) -> bytes:
        body = b""
        for _ in range(10_000):  # bounded: a test body has a handful of chunks
            size = int(self.rfile.readline().split(b";")[0], 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b""):
                    pass
                return body
            body += self.rfile.read(size)
            self.rfile.readline()
        raise ValueError("too many chunks")

    do_GET = do_POST = do_PUT = _answer  # noqa: N815 - http.server's names

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def echo_server() -> Iterator[int]:
    """The echo server's port on 127.0.0.1."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def plain_policy(folder: Path) -> Path:
    """The example policy plus a `plain` role that may use the echo server over plain HTTP."""
    path = folder / "forward-policy.yaml"
    path.write_text(
        "version: 1\n"
        f"include: [{json.dumps(str(ACME))}]\n"
        "roles:\n"
        "  plain:\n"
        "    description: inbound, plus plain HTTP to the echo server\n"
        "    extends: [inbound]\n"
        "    allow:\n"
        "      - name: echo\n"
        f"        url: http://{ECHO_HOST}/**\n"
        '        methods: ["*"]\n'
    )
    return path


def enrolment_for(proxy: str, ca_file: Path, role: str = "plain") -> Enrolment:
    return Enrolment(
        agent="A-test",
        role=role,
        control_url="https://127.0.0.1:1",
        proxy=proxy,
        ca_file=str(ca_file),
    )


@contextmanager
def forwarding(
    loop: LoopThread,
    enrolment: Enrolment,
    token: TokenProvider,
    limits: Limits | None = None,
) -> Iterator[Forwarder]:
    """A forwarder on 127.0.0.1 running in `loop`, stopped on leaving."""
    forwarder = Forwarder(gateway_target(enrolment), token, limits=limits)
    loop.run(forwarder.start())
    try:
        yield forwarder
    finally:
        loop.run(forwarder.stop())
