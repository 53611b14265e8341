"""Runs the sample app with uvicorn on 127.0.0.1, HTTPS (and optionally plain HTTP), in a thread."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import uvicorn

from .app import HostRouter, make_app
from .certificates import LOOPBACK, DemoCertificates, ensure_certificates
from .dataset import DEFAULT_CUSTOMERS, DEFAULT_SEED, build_dataset
from .ground_truth import GroundTruth, ground_truth
from .state import SampleState

START_TIMEOUT_S = 15.0


class SampleAppError(Exception):
    """The sample app could not start: port taken, certificates unusable, server failed."""


def _listen(port: int) -> socket.socket:
    """A listening socket on loopback only; port 0 picks a free one."""
    # proto named explicitly: asyncio sets TCP_NODELAY on accepted sockets only when it is
    # IPPROTO_TCP, and without it every keep-alive response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, port))
    except OSError as err:
        sock.close()
        raise SampleAppError(f"cannot listen on {LOOPBACK}:{port}: {err.strerror}") from err
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@dataclass
class SampleApp:
    """A running sample app. `stop()` (or leaving a `with` block) shuts it down."""

    port: int
    """HTTPS port on 127.0.0.1."""
    http_port: int | None
    """Plain-HTTP port on 127.0.0.1, when asked for."""
    certificates: DemoCertificates
    customer_count: int
    seed: int
    _servers: list[uvicorn.Server] = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def ca_path(self) -> Path:
        """The demo CA's PEM: trust it (httpx `verify=`, mitmproxy upstream) to reach the app."""
        return self.certificates.ca_cert

    def url(self, host: str, path: str = "/", *, https: bool = True) -> str:
        """A URL that reaches `host`'s system here, by the name its certificate carries.

        Whoever requests it must connect to 127.0.0.1 (the names do not resolve): the gateway
        maps them; a test sends `Host` and `sni_hostname` itself.
        """
        port = self.port if https else self.http_port
        if port is None:
            raise SampleAppError("plain HTTP was not started; pass http_port")
        return f"{'https' if https else 'http'}://{host}:{port}{path}"

    def ground_truth(self) -> GroundTruth:
        return ground_truth(self.customer_count, self.seed)

    def stop(self) -> None:
        for server in self._servers:
            server.should_exit = True
        self._thread.join(timeout=START_TIMEOUT_S)

    def __enter__(self) -> SampleApp:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()


def _server(app: HostRouter, certificates: DemoCertificates | None) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level="warning",
        access_log=False,
        ssl_certfile=str(certificates.server_cert) if certificates else None,
        ssl_keyfile=str(certificates.server_key) if certificates else None,
    )
    return uvicorn.Server(config)


def _serve(servers: list[uvicorn.Server], sockets: list[socket.socket]) -> None:
    async def serve_all() -> None:
        await asyncio.gather(*(s.serve(sockets=[k]) for s, k in zip(servers, sockets, strict=True)))

    try:
        asyncio.run(serve_all())
    finally:
        for sock in sockets:
            sock.close()


def start_sample_app(
    port: int,
    cert_dir: str | Path,
    *,
    http_port: int | None = None,
    customer_count: int = DEFAULT_CUSTOMERS,
    seed: int = DEFAULT_SEED,
) -> SampleApp:
    """Starts the app in a background thread; returns once it accepts connections.

    `port` (HTTPS) and `http_port` may be 0 for a free port; the handle tells which one.
    """
    certificates = ensure_certificates(cert_dir)
    state = SampleState(build_dataset(customer_count, seed))
    app = make_app(state)
    sockets = [_listen(port)]
    if http_port is not None:
        sockets.append(_listen(http_port))
    servers = [_server(app, certificates)]
    if http_port is not None:
        servers.append(_server(app, None))
    ports = [sock.getsockname()[1] for sock in sockets]
    thread = threading.Thread(
        target=_serve, args=(servers, sockets), name="sample-app", daemon=True
    )
    thread.start()
    handle = SampleApp(
        port=ports[0],
        http_port=ports[1] if http_port is not None else None,
        certificates=certificates,
        customer_count=customer_count,
        seed=seed,
        _servers=servers,
        _thread=thread,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while not all(server.started for server in servers):
        if not thread.is_alive() or time.monotonic() > deadline:
            handle.stop()
            raise SampleAppError("the sample app did not start; see the log above")
        time.sleep(0.01)
    return handle
