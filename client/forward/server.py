"""The forwarder itself: an HTTP proxy on 127.0.0.1 (asyncio streams) that carries each browser
connection over its own TLS connection to the gateway, with the agent's token on every request."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from . import pages
from .gateway import GatewayTarget
from .pac import CONTENT_TYPE as PAC_TYPE
from .pac import pac_file
from .request_head import CHUNKED, BadRequestError, RequestHead, chunk_size, parse_head

HOST = "127.0.0.1"
"""Only this PC may use the forwarder: it holds the agent's session."""
PAC_PATH = "/proxy.pac"
_CHUNK = 64 * 1024

TokenProvider = Callable[[], str | None]
"""The current session token, or None once the agent is clocked out."""


@dataclass(frozen=True, slots=True)
class Limits:
    max_head_bytes: int = 64 * 1024
    """A request line and headers larger than this are refused (431)."""
    head_timeout: float = 30.0
    """Seconds for a request head to arrive whole once it has started (slow clients: 408)."""
    idle_timeout: float = 120.0
    """Seconds a kept-alive connection may wait for its next request."""
    body_timeout: float = 60.0
    """Longest pause inside a request body."""
    connect_timeout: float = 10.0
    """Seconds to reach the gateway, TLS included, before the browser gets the 502 page."""
    max_connections: int = 256


class Forwarder:
    """`await start()`, hand the browser `proxy_url` or `pac_url`, `await stop()` at clock-out
    (or run `watch_session()`, which does that when the token provider says so)."""

    def __init__(
        self,
        gateway: GatewayTarget,
        token: TokenProvider,
        *,
        port: int = 0,
        limits: Limits | None = None,
    ) -> None:
        self.gateway = gateway
        self._token = token
        self._port = port
        self.limits = limits or Limits()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._stopped = asyncio.Event()
        self.accepted = 0
        """Browser connections accepted so far."""

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on 127.0.0.1 (OSError when the port is taken)."""
        self._server = await asyncio.start_server(
            self._serve, HOST, self._port, limit=self.limits.max_head_bytes
        )
        self._port = int(self._server.sockets[0].getsockname()[1])

    @property
    def port(self) -> int:
        return self._port

    @property
    def address(self) -> str:
        return f"{HOST}:{self._port}"

    @property
    def proxy_url(self) -> str:
        return f"http://{self.address}"

    @property
    def pac_url(self) -> str:
        return f"http://{self.address}{PAC_PATH}"

    @property
    def open_connections(self) -> int:
        return len(self._connections)

    async def stop(self) -> None:
        """Stop listening and cut every connection: nothing passes after clock-out."""
        if self._server is not None:
            self._server.close()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        self._stopped.set()

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    async def watch_session(self, interval: float = 1.0) -> None:
        """Poll the token provider until it has no token, then stop; returns once stopped."""
        while not self._stopped.is_set():
            if self._token() is None:
                await self.stop()
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), interval)

    # --- one browser connection -----------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self.accepted += 1
        try:
            if len(self._connections) > self.limits.max_connections:
                await _answer(reader, writer, "busy")
            else:
                await _Connection(self, reader, writer).carry()
        except (
            ConnectionError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ssl.SSLError,
            TimeoutError,
            BadRequestError,
        ):
            # The browser or the gateway went away, stalled, or broke the framing of a body that
            # is already on its way: nothing can be answered any more, so both sides close.
            pass
        except asyncio.CancelledError:
            # `stop()` cut the connection. The task ends normally rather than cancelled: asyncio's
            # own callback on this task (3.12.1) asks a cancelled task for its exception and logs
            # the CancelledError as an error.
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()

    async def open_gateway(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        target = self.gateway
        async with asyncio.timeout(self.limits.connect_timeout):
            return await asyncio.open_connection(
                target.host, target.port, ssl=target.tls, server_hostname=target.host
            )

    def token(self) -> str | None:
        return self._token()


LINGER_SECONDS = 1.0
LINGER_BYTES = 1 << 20


async def _answer(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    code: str,
    head: RequestHead | None = None,
) -> None:
    """Send the page for `code`, then close gently: closing a socket with unread input resets
    the connection, and the reset can destroy the page before the browser reads it; so the
    sending side is shut and what the browser still sends is read and dropped, briefly."""
    accept = ", ".join(head.values("Accept")) if head is not None else ""
    writer.write(pages.response(code, accept, head_only=head is not None and head.method == "HEAD"))
    await writer.drain()
    if writer.can_write_eof():
        writer.write_eof()
    with contextlib.suppress(TimeoutError, ConnectionError):
        async with asyncio.timeout(LINGER_SECONDS):
            dropped = 0
            while dropped < LINGER_BYTES and (data := await reader.read(_CHUNK)):
                dropped += len(data)


class _Connection:
    """One browser connection and, once it asks for something, its gateway connection."""

    def __init__(
        self, forwarder: Forwarder, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.forwarder = forwarder
        self.limits = forwarder.limits
        self.reader = reader
        self.writer = writer
        self.upstream: asyncio.StreamWriter | None = None
        self.back: asyncio.Task[None] | None = None
        """Copies the gateway's answers to the browser as they come."""

    async def carry(self) -> None:
        try:
            await self._requests()
        finally:
            if self.upstream is not None:
                self.upstream.close()
            if self.back is not None:
                self.back.cancel()
                await asyncio.gather(self.back, return_exceptions=True)

    async def _requests(self) -> None:
        wait = self.limits.head_timeout
        while True:
            head = await self._next_head(wait)
            if head is None:
                if self.back is not None:
                    # The browser is done sending; let the answer to its last request finish.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(self.back), self.limits.idle_timeout)
                return
            wait = self.limits.idle_timeout
            if head.is_local:
                await self._stop_back()
                await self._local(head)
                return
            token = self.forwarder.token()
            if token is None:
                await self._stop_back()
                await _answer(self.reader, self.writer, "clocked-out", head)
                return
            if self.upstream is None and not await self._open(head):
                return
            assert self.upstream is not None
            try:
                self.upstream.write(head.for_gateway(token))
            except ValueError:  # a token a header cannot carry is no usable session
                await self._stop_back()
                await _answer(self.reader, self.writer, "clocked-out", head)
                return
            await self._body(head)
            if head.is_connect or head.upgrades:
                await self._tunnel()
                return

    async def _next_head(self, wait: float) -> RequestHead | None:
        """The next request's head; None when the browser is done, or after answering a head
        that cannot be carried."""
        try:
            # Idle too long raises TimeoutError: the connection just closes, nothing to answer.
            async with asyncio.timeout(wait):
                first = await self.reader.readexactly(1)
        except asyncio.IncompleteReadError:
            return None  # the browser closed its side
        try:
            async with asyncio.timeout(self.limits.head_timeout):
                raw = first + await self.reader.readuntil(b"\r\n\r\n")
            return parse_head(raw)
        except TimeoutError:
            code = "too-slow"
        except asyncio.LimitOverrunError:
            code = "head-too-large"
        except BadRequestError:
            code = "bad-request"
        await self._stop_back()
        await _answer(self.reader, self.writer, code)
        return None

    async def _open(self, head: RequestHead) -> bool:
        try:
            upstream_reader, self.upstream = await self.forwarder.open_gateway()
        except ssl.SSLCertVerificationError:
            await _answer(self.reader, self.writer, "gateway-untrusted", head)
            return False
        except (OSError, TimeoutError, ssl.SSLError, ssl.CertificateError):
            await _answer(self.reader, self.writer, "gateway-unreachable", head)
            return False
        self.back = asyncio.create_task(self._copy_back(upstream_reader))
        return True

    async def _copy_back(self, upstream: asyncio.StreamReader) -> None:
        try:
            await _copy(upstream, self.writer)
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            # The gateway closed (or failed): so does the browser's connection, which also ends
            # the wait for the browser's next request.
            self.writer.close()

    async def _stop_back(self) -> None:
        if self.back is not None:
            self.back.cancel()
            await asyncio.gather(self.back, return_exceptions=True)
            self.back = None
        if self.upstream is not None:
            self.upstream.close()
            self.upstream = None

    async def _local(self, head: RequestHead) -> None:
        path = head.target.split("?", 1)[0]
        if head.method not in ("GET", "HEAD") or path != PAC_PATH:
            await _answer(self.reader, self.writer, "not-found", head)
            return
        body = pac_file(HOST, self.forwarder.port).encode()
        self.writer.write(
            (
                "HTTP/1.1 200 OK\r\n"
                f"Content-Type: {PAC_TYPE}\r\n"
                f"Content-Length: {len(body)}\r\n"
                "Cache-Control: no-store\r\n"
                "Connection: close\r\n\r\n"
            ).encode()
            + (body if head.method == "GET" else b"")
        )
        await self.writer.drain()

    async def _body(self, head: RequestHead) -> None:
        """Carries the request's body as it arrives, framed as the head says."""
        assert self.upstream is not None
        length = head.body_length
        if length == CHUNKED:
            await self._chunked()
            return
        while length > 0:
            data = await self._read(self.reader.read(min(length, _CHUNK)))
            if not data:
                raise asyncio.IncompleteReadError(b"", length)
            length -= len(data)
            self.upstream.write(data)
            await self.upstream.drain()
        await self.upstream.drain()

    async def _chunked(self) -> None:
        assert self.upstream is not None
        while True:
            line = await self._read(self.reader.readuntil(b"\r\n"))
            size = chunk_size(line)
            self.upstream.write(line)
            if size == 0:
                break
            while size > 0:
                data = await self._read(self.reader.read(min(size, _CHUNK)))
                if not data:
                    raise asyncio.IncompleteReadError(b"", size)
                size -= len(data)
                self.upstream.write(data)
                await self.upstream.drain()
            end = await self._read(self.reader.readexactly(2))
            if end != b"\r\n":
                raise BadRequestError("a chunk does not end with CRLF")
            self.upstream.write(end)
        while True:  # trailers, up to the blank line
            line = await self._read(self.reader.readuntil(b"\r\n"))
            self.upstream.write(line)
            if line == b"\r\n":
                break
        await self.upstream.drain()

    async def _read[T](self, pending: Awaitable[T]) -> T:
        async with asyncio.timeout(self.limits.body_timeout):
            return await pending

    async def _tunnel(self) -> None:
        """After CONNECT (or an upgrade) the bytes are opaque: copy both ways until one side
        ends, then close both."""
        assert self.upstream is not None and self.back is not None
        up = asyncio.create_task(_copy(self.reader, self.upstream))
        try:
            await asyncio.wait({up, self.back}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            up.cancel()
            await asyncio.gather(up, return_exceptions=True)


async def _copy(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
    while data := await source.read(_CHUNK):
        target.write(data)
        await target.drain()
