"""A business system that misbehaves on purpose, on 127.0.0.1 with the sample app's certificate for
the `*.acme.test` names: it answers nothing, or resets the connection halfway through a body."""

from __future__ import annotations

import socket
import ssl
import struct
import threading
from pathlib import Path

HEAD_LIMIT = 64 * 1024
PARTIAL_BODY = b'{"name": "' + b"x" * 4000


class FaultyUpstream:
    """`silent`: reads the request and never answers; `reset`: sends the head and part of a body,
    then resets the connection (RST, not a clean close)."""

    def __init__(self, cert: Path, key: Path, mode: str) -> None:
        assert mode in ("silent", "reset")
        self.mode = mode
        self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._tls.load_cert_chain(cert, key)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self.requests = 0
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
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, raw: socket.socket) -> None:
        raw.settimeout(10)
        conn: socket.socket = raw
        try:
            conn = self._tls.wrap_socket(raw, server_side=True)  # takes over raw's descriptor
            head = b""
            while b"\r\n\r\n" not in head and len(head) < HEAD_LIMIT:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            self.requests += 1
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
