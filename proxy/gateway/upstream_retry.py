"""A business system may close a kept-alive connection just as the gateway sends the next request
on it (its idle timeout, often 5 s, racing the request). The request never reached the system,
so, as a browser or a load balancer would, the gateway sends a safe request (GET, HEAD, OPTIONS)
once more on a new connection instead of showing the agent a 502. Anything else, and a request
on a connection opened for it, still gets the 502 block page. So that such a request rarely meets
the race, it does not go on a connection that has idled for FRESH_AFTER_IDLE_S: it gets a new one.

mitmproxy has no hook for either (the error hook cannot resend; no hook chooses the connection):
its HTTP stream's protocol-error handler and its HTTP layer's connection choice are wrapped."""

from __future__ import annotations

import time
import weakref
from collections.abc import Generator
from typing import Any

from mitmproxy.connection import Server
from mitmproxy.proxy.layers import http as http_layers
from mitmproxy.proxy.layers.http import GetHttpConnection, HttpLayer, HttpStream
from mitmproxy.proxy.layers.http._events import (
    RequestData,
    RequestEndOfMessage,
    RequestHeaders,
    RequestTrailers,
    ResponseProtocolError,
)

RETRIED = "homeagent_retried"
"""flow.metadata: set when the request was sent again on a new connection."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CLOSED_UNANSWERED = "server closed connection"
"""mitmproxy's message when the connection closed before a single byte of the response."""
FRESH_AFTER_IDLE_S = 2.0
"""A request not safe to send twice does not go on a connection idle this long since its last
answer: systems close idle connections after a few seconds (5 s is common), and a request sent
as one does is lost with a 502; on a new connection it cannot be."""
_PATCHED = "__homeagent_retry__"
_answered: weakref.WeakKeyDictionary[Server, float] = weakref.WeakKeyDictionary()
"""When each connection to a business system last finished an answer (monotonic seconds)."""


def note_answered(server: Server) -> None:
    """The system has just answered on `server`: its idle time starts now."""
    _answered[server] = time.monotonic()


def install() -> None:
    original = HttpStream.handle_protocol_error
    if getattr(original, _PATCHED, False):
        return
    choose = HttpLayer.get_connection

    def get_connection(
        self: HttpLayer, event: GetHttpConnection, *, reuse: bool = True
    ) -> Generator[Any, Any, None]:
        yield from choose(self, event, reuse=reuse and not _wants_fresh(self, event))

    HttpLayer.get_connection = get_connection  # type: ignore[method-assign]  # see above

    def handle_protocol_error(self: HttpStream, event: Any) -> Generator[Any, Any, None]:
        if not _worth_retrying(self, event):
            yield from original(self, event)
            return
        self.flow.metadata[RETRIED] = True
        if not (yield from self.make_server_connection()):
            return  # it has answered the agent with the connection error
        request = self.flow.request
        content = request.raw_content
        server = self.context.server
        yield http_layers.SendHttp(
            RequestHeaders(self.stream_id, request, not (content or request.trailers)), server
        )
        if content:
            yield http_layers.SendHttp(RequestData(self.stream_id, content), server)
        if request.trailers:
            yield http_layers.SendHttp(RequestTrailers(self.stream_id, request.trailers), server)
        yield http_layers.SendHttp(RequestEndOfMessage(self.stream_id), server)

    setattr(handle_protocol_error, _PATCHED, True)
    HttpStream.handle_protocol_error = handle_protocol_error  # type: ignore[method-assign]  # see above


def _worth_retrying(stream: HttpStream, event: Any) -> bool:
    """The system closed a connection it had already served on, without a byte of answer, and
    the request is safe to send again and held whole."""
    if not (isinstance(event, ResponseProtocolError) and event.message == CLOSED_UNANSWERED):
        return False
    flow = getattr(stream, "flow", None)
    if flow is None or flow.metadata.get(RETRIED) or flow.response is not None:
        return False
    request = flow.request
    server = flow.server_conn
    return (
        stream.server_state == stream.state_wait_for_response_headers
        and stream.client_state == stream.state_done
        and request.method in SAFE_METHODS
        and not request.stream
        and request.raw_content is not None
        # opened before the request came: a connection kept alive from an earlier one
        and server.timestamp_start is not None
        and request.timestamp_start is not None
        and server.timestamp_start < request.timestamp_start
    )


def _wants_fresh(layer: HttpLayer, event: GetHttpConnection) -> bool:
    """The request asking is being sent again (never on another kept-alive connection, which
    may be closing too), or is not safe to send twice while a connection it would reuse has
    idled for FRESH_AFTER_IDLE_S or more."""
    flow = getattr(layer.command_sources.get(event), "flow", None)
    if flow is None:
        return False
    if flow.metadata.get(RETRIED):
        return True
    if flow.request.method in SAFE_METHODS:
        return False
    now = time.monotonic()
    return any(
        event.connection_spec_matches(server)
        and server.connected
        and now - _answered.get(server, now) >= FRESH_AFTER_IDLE_S
        for server in layer.connections
        if isinstance(server, Server)
    )
