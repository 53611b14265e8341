"""Serving the control API over TLS inside the gateway's running event loop (the mitmproxy
master runs in the same loop), with the UDP echo on the same port number."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from .head_deadline import HEAD_TIMEOUT_S, head_deadline_protocol
from .udp_echo import UdpEcho, serve_udp_echo

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10
FREE_PORT_ATTEMPTS = 5


class ControlServerError(RuntimeError):
    """The control API could not start: port taken, certificate unusable, server failed."""


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The gateway owns SIGINT and SIGTERM; uvicorn must not take them over.
        yield


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto named: asyncio sets TCP_NODELAY on accepted sockets only for IPPROTO_TCP.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(512)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class ControlServer:
    """`await start()` returns once HTTPS (TCP) and the UDP echo listen; `await stop()`."""

    def __init__(
        self,
        app: FastAPI,
        host: str,
        port: int,
        certfile: str | Path,
        keyfile: str | Path,
        *,
        head_timeout: float = HEAD_TIMEOUT_S,
    ) -> None:
        self.app = app
        self.head_timeout = head_timeout
        self.host = host
        self.port = port
        """The port asked for; after start(), the one in use (also when 0 was asked for)."""
        self._certfile = str(certfile)
        self._keyfile = str(keyfile)
        self._socket: socket.socket | None = None
        self._echo: UdpEcho | None = None
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    async def _bind(self) -> None:
        """TCP and UDP on one port number; with port 0, another free pair if UDP is taken."""
        attempts = FREE_PORT_ATTEMPTS if self.port == 0 else 1
        for attempt in range(attempts):
            try:
                sock = _listen(self.host, self.port)
            except OSError as err:
                raise ControlServerError(
                    f"cannot listen on {self.host}:{self.port}: {err.strerror}"
                ) from err
            port = sock.getsockname()[1]
            try:
                self._echo = await serve_udp_echo(self.host, port)
            except OSError as err:
                sock.close()
                if attempt + 1 == attempts:
                    raise ControlServerError(
                        f"cannot listen for UDP on {self.host}:{port}: {err.strerror}"
                    ) from err
                continue
            self._socket, self.port = sock, port
            return

    async def start(self) -> None:
        if self._task is not None:
            raise ControlServerError("the control API is already running")
        await self._bind()
        assert self._socket is not None
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            log_config=None,  # leave the gateway's logging alone
            log_level="warning",
            access_log=False,
            server_header=False,
            ssl_certfile=self._certfile,
            ssl_keyfile=self._keyfile,
            timeout_graceful_shutdown=STOP_TIMEOUT_S,
            http=head_deadline_protocol(self.head_timeout),
        )
        self._server = _EmbeddedServer(config)
        self._task = asyncio.create_task(
            self._server.serve(sockets=[self._socket]), name="control-api"
        )
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
        while not self._server.started:
            if self._task.done() or asyncio.get_running_loop().time() > deadline:
                error = self._task.exception() if self._task.done() else None
                await self.stop()
                raise ControlServerError(
                    f"the control API did not start: {error or 'timed out'}"
                ) from error
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            if self._task.done():
                # It failed to start: start() has reported why; nothing is serving.
                self._task.exception()
            else:
                self._server.should_exit = True
                try:
                    await asyncio.wait_for(asyncio.shield(self._task), STOP_TIMEOUT_S)
                except TimeoutError:
                    self._server.force_exit = True
                    await self._task
        if self._echo is not None:
            self._echo.close()
        if self._socket is not None:
            self._socket.close()
        self._server = self._task = self._echo = self._socket = None


def serve_control(
    app: FastAPI,
    host: str,
    port: int,
    certfile: str | Path,
    keyfile: str | Path,
    *,
    head_timeout: float = HEAD_TIMEOUT_S,
) -> ControlServer:
    """The server for `app` (not yet started: `await server.start()` in the gateway's loop)."""
    return ControlServer(app, host, port, certfile, keyfile, head_timeout=head_timeout)
