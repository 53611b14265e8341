"""When a business system fails (refuses the connection, resets it, answers too slowly, sends a body
over the limit), the agent gets the gateway's block page (zh+en, the audit reference), not
mitmproxy's bare English error page, and the connection is closed, never left hanging."""

from __future__ import annotations

import weakref
from collections.abc import Generator
from typing import Any

from mitmproxy import http
from mitmproxy.connection import ConnectionState
from mitmproxy.net.http import http1
from mitmproxy.proxy import commands
from mitmproxy.proxy.layers.http import _http1
from mitmproxy.proxy.layers.http._events import ResponseProtocolError

_pages: weakref.WeakKeyDictionary[http.Request, bytes] = weakref.WeakKeyDictionary()
"""The block page to send instead of mitmproxy's error page, by the request it answers."""
_PATCHED = "__homeagent_block_page__"


def answer_with(request: http.Request, response: http.Response) -> None:
    """Send `response` to the agent when mitmproxy is about to send its own error page for
    `request` (the error hook runs just before it)."""
    response.headers["Connection"] = "close"  # mitmproxy closes the connection after it
    _pages[request] = http1.assemble_response(response)  # type: ignore[no-untyped-call]  # mitmproxy leaves it unannotated


def install() -> None:
    """Route mitmproxy's HTTP/1 error responses through `answer_with`. mitmproxy has no hook to
    replace them (the error hook cannot set a response), so its one sender is wrapped."""
    original = _http1.Http1Server.send
    if getattr(original, _PATCHED, False):
        return

    def send(self: _http1.Http1Server, event: Any) -> Generator[commands.Command, Any, None]:
        if (
            isinstance(event, ResponseProtocolError)
            and self.response is None
            and self.request is not None
            and self.conn.state & ConnectionState.CAN_WRITE
        ):
            page = _pages.pop(self.request, None)
            if page is not None:
                yield commands.SendData(self.conn, page)
                yield commands.CloseConnection(self.conn)
                return
        yield from original(self, event)

    setattr(send, _PATCHED, True)
    _http1.Http1Server.send = send  # type: ignore[method-assign]  # the one way in, see above
