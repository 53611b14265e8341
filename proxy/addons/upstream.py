"""Upstream: where the business systems are, and what the agent sees when one fails. Normally DNS;
the demo and the tests map the `*.acme.test` names to the sample app on loopback, keeping the name
for TLS verification. A system that does not answer within the gateway's upstream timeout is cut
off (504); one that refuses or resets the connection gets a 502; a body over the policy's limit,
either way, is refused (502 or 413); each as a block page."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref

from mitmproxy import connection, ctx, http
from mitmproxy.proxy import server_hooks

from ..gateway.upstream_failure import answer_with
from ..gateway.upstream_retry import note_answered
from .audit import REFERENCE_HEADER
from .context import REFERENCE, REFUSAL, Gateway, answered, refuse
from .guard import guarded

log = logging.getLogger(__name__)
FORWARDED = "homeagent.forwarded"
"""When the request left for the business system (monotonic seconds)."""
TIMER = "homeagent.upstream_timer"
TIMED_OUT = "homeagent.upstream_timed_out"


@guarded
class Upstream:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._named: weakref.WeakKeyDictionary[connection.Server, tuple[str, int]] = (
            weakref.WeakKeyDictionary()
        )

    def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        if data.server.address is None:
            return
        host = str(data.server.address[0]).lower().rstrip(".")
        mapped = self.gateway.upstream_map.get(host)
        if mapped is not None:
            if data.server.sni is None:
                data.server.sni = host  # verify the certificate against the name, not 127.0.0.1
            self._named[data.server] = data.server.address
            data.server.address = mapped

    def server_connected(self, data: server_hooks.ServerConnectionHookData) -> None:
        # mitmproxy reuses a connection for the next request only when its address equals the
        # request's host and port: give it back the name it was opened for. Otherwise every
        # request opens a new connection, and mitmproxy's per-address limit (5) stalls the sixth.
        # mitmproxy guards `address` once connected; this is the one place we step past it.
        named = self._named.pop(data.server, None)
        if named is not None:
            object.__setattr__(data.server, "address", named)

    def request(self, flow: http.HTTPFlow) -> None:
        if answered(flow):
            return
        flow.metadata[FORWARDED] = time.monotonic()
        flow.metadata[TIMER] = asyncio.get_running_loop().call_later(
            self.gateway.upstream_timeout, self._expire, flow
        )

    def response(self, flow: http.HTTPFlow) -> None:
        self._stop_timer(flow)
        note_answered(flow.server_conn)

    def error(self, flow: http.HTTPFlow) -> None:
        self._stop_timer(flow)
        if REFUSAL in flow.metadata:
            return
        message = str(flow.error.msg if flow.error else "")
        detail = message[:200]
        if "body_size_limit" in message:
            # mitmproxy stops reading a body over the limit; what it read is never passed on
            side = "request" if message.startswith("Request") else "response"
            code, rule = (
                ("request-too-large", "limit.request-body")
                if side == "request"
                else ("too-large", "upstream.too-large")
            )
            detail = f"the {side} body is over the policy's limit (masking.max_body_bytes)"
        elif FORWARDED not in flow.metadata or flow.response is not None:
            return  # the agent's side failed (went away, sent garbage): no one to answer
        elif flow.metadata.get(TIMED_OUT):
            code, rule = "upstream-timeout", "upstream.timeout"
            detail = f"no complete answer within {self.gateway.upstream_timeout:g} s"
        else:
            code, rule = "upstream-failed", "upstream.failed"
        refuse(flow, code, rule, detail)
        assert flow.response is not None
        flow.response.headers[REFERENCE_HEADER] = str(flow.metadata.get(REFERENCE, ""))
        # refuse() answered the flow for the audit record; mitmproxy still sends its own error
        # page unless told otherwise: the agent gets this block page in its place.
        answer_with(flow.request, flow.response)
        flow.response = None  # the error hook may not leave a response (mitmproxy asserts it)

    def _stop_timer(self, flow: http.HTTPFlow) -> None:
        timer = flow.metadata.pop(TIMER, None)
        if isinstance(timer, asyncio.TimerHandle):
            timer.cancel()

    def _expire(self, flow: http.HTTPFlow) -> None:
        """The business system took too long: close the connections to it. mitmproxy then fails
        the flow (error hook above), which answers 504 instead of waiting up to `tcp_timeout`."""
        flow.metadata.pop(TIMER, None)
        if flow.response is not None or flow.error is not None or not flow.live:
            return
        flow.metadata[TIMED_OUT] = True
        proxy = ctx.master.addons.get("proxyserver")  # type: ignore[no-untyped-call]  # unannotated in mitmproxy
        handler = proxy.connections.get(flow.client_conn.id) if proxy else None
        if handler is None:
            return
        log.warning("upstream %s did not answer in time; cutting it off", flow.request.host)
        own = handler.transports.get(flow.server_conn)
        if own is not None and own.handler is not None and flow.server_conn.connected:
            own.handler.cancel("upstream timeout")  # only this flow's (HTTP/2: other streams live)
            return
        # Still connecting: the flow does not name its connection yet; cut every one this client
        # has open upstream (over HTTP/1 that is this flow's alone).
        for conn, io in list(handler.transports.items()):
            if conn is not flow.client_conn and io.handler is not None:
                io.handler.cancel("upstream timeout")
