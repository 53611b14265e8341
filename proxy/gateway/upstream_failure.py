"""When a business system fails (refuses the connection, resets it, answers too slowly, sends a body
over the limit), the agent gets the gateway's block page (zh+en, the audit reference), not
mitmproxy's bare English error page; over HTTP/1 the connection is then closed, over HTTP/2 the
stream ends; nothing is left hanging."""

from __future__ import annotations

import weakref
from collections.abc import Generator
from typing import Any

from mitmproxy import http
from mitmproxy.connection import ConnectionState
from mitmproxy.net.http import http1
from mitmproxy.proxy import commands
from mitmproxy.proxy.layers.http import _http1, _http2
from mitmproxy.proxy.layers.http._base import ReceiveHttp
from mitmproxy.proxy.layers.http._events import RequestHeaders, ResponseProtocolError

_pages: weakref.WeakKeyDictionary[http.Request, http.Response] = weakref.WeakKeyDictionary()
"""The block page to send instead of mitmproxy's error page, by the request it answers."""
_PATCHED = "__homeagent_block_page__"


def answer_with(request: http.Request, response: http.Response) -> None:
    """Send `response` to the agent when mitmproxy is about to send its own error page for
    `request` (the error hook runs just before it)."""
    _pages[request] = response


def install() -> None:
    """Route mitmproxy's error responses through `answer_with`, for HTTP/1 and HTTP/2 clients
    (browsers speak HTTP/2 through the tunnel when the gateway runs with --http2). mitmproxy has
    no hook to replace them (the error hook cannot set a response), so the two senders are
    wrapped."""
    if getattr(_http1.Http1Server.send, _PATCHED, False):
        return
    _install_http1()
    _install_http2()


def _install_http1() -> None:
    original = _http1.Http1Server.send

    def send(self: _http1.Http1Server, event: Any) -> Generator[commands.Command, Any, None]:
        if (
            isinstance(event, ResponseProtocolError)
            and self.response is None
            and self.request is not None
            and self.conn.state & ConnectionState.CAN_WRITE
        ):
            page = _pages.pop(self.request, None)
            if page is not None:
                page.headers["Connection"] = "close"  # mitmproxy closes the connection after it
                assembled = http1.assemble_response(page)  # type: ignore[no-untyped-call]  # unannotated in mitmproxy
                yield commands.SendData(self.conn, assembled)
                yield commands.CloseConnection(self.conn)
                return
        yield from original(self, event)

    setattr(send, _PATCHED, True)
    _http1.Http1Server.send = send  # type: ignore[method-assign]  # the one way in, see above


_REQUESTS = "_homeagent_requests"
"""On an Http2Server: stream ID → the request it carries (weakly: the flow owns it)."""


def _install_http2() -> None:
    receive = _http2.Http2Server.handle_h2_event
    handle = _http2.Http2Server._handle_event

    def handle_h2_event(self: _http2.Http2Server, event: Any) -> Generator[Any, Any, bool]:
        requests = self.__dict__.setdefault(_REQUESTS, weakref.WeakValueDictionary())
        steps = receive(self, event)
        try:
            command = next(steps)
            while True:
                if isinstance(command, ReceiveHttp) and isinstance(command.event, RequestHeaders):
                    requests[command.event.stream_id] = command.event.request
                command = steps.send((yield command))
        except StopIteration as done:
            return bool(done.value)

    def _handle_event(self: _http2.Http2Server, event: Any) -> Generator[Any, Any, None]:
        if isinstance(event, ResponseProtocolError) and not self.is_closed(event.stream_id):
            request = self.__dict__.get(_REQUESTS, {}).get(event.stream_id)
            page = _pages.pop(request, None) if request is not None else None
            stream = self.h2_conn.streams.get(event.stream_id)
            if (
                page is not None
                and stream is not None
                and self.is_open_for_us(event.stream_id)
                and not stream.state_machine.headers_sent
            ):
                fields = [(k.lower(), v) for k, v in page.headers.fields]
                headers = [(b":status", b"%d" % page.status_code), *fields]
                self.h2_conn.send_headers(event.stream_id, headers)
                self.h2_conn.send_data(event.stream_id, page.raw_content or b"", end_stream=True)
                yield commands.SendData(self.conn, self.h2_conn.data_to_send())
                return
        yield from handle(self, event)

    _http2.Http2Server.handle_h2_event = handle_h2_event  # type: ignore[method-assign]  # see install()
    _http2.Http2Server._handle_event = _handle_event  # type: ignore[method-assign]  # see install()
