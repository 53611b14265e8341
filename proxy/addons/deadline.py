"""Deadline: a client connection must send each request head whole within the gateway's head
timeout, from the moment it connects or its last answer ended. mitmproxy alone closes a connection
only after `tcp_timeout` (600 s) without a byte, so a slow client (slowloris) that trickles a byte
now and then could hold connections, and the memory behind them, for ever."""

from __future__ import annotations

import asyncio
import logging

from mitmproxy import connection, ctx, http

from .context import Gateway
from .guard import guarded

log = logging.getLogger(__name__)


@guarded
class Deadline:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._timers: dict[str, asyncio.TimerHandle] = {}
        """Per client connection (its id), the deadline for the head it still owes."""

    def client_connected(self, client: connection.Client) -> None:
        self._arm(client)

    def client_disconnected(self, client: connection.Client) -> None:
        self._disarm(client)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        self._disarm(flow.client_conn)  # the head came in time; the body has its own limits

    def http_connect(self, flow: http.HTTPFlow) -> None:
        # a CONNECT's head is whole; the tunnel's first request head (after TLS) is owed next
        self._arm(flow.client_conn)

    def response(self, flow: http.HTTPFlow) -> None:
        if flow.request.method != "CONNECT":
            self._arm(flow.client_conn)  # keep-alive: the next head is owed from now

    def error(self, flow: http.HTTPFlow) -> None:
        self._arm(flow.client_conn)

    def _arm(self, client: connection.Client) -> None:
        self._disarm(client)
        self._timers[client.id] = asyncio.get_running_loop().call_later(
            self.gateway.client_head_timeout, self._expire, client
        )

    def _disarm(self, client: connection.Client) -> None:
        timer = self._timers.pop(client.id, None)
        if timer is not None:
            timer.cancel()

    def _expire(self, client: connection.Client) -> None:
        self._timers.pop(client.id, None)
        proxy = ctx.master.addons.get("proxyserver")  # type: ignore[no-untyped-call]  # unannotated in mitmproxy
        handler = proxy.connections.get(client.id) if proxy else None
        io = handler.transports.get(client) if handler else None
        if io is None or io.handler is None:
            return
        log.warning(
            "client %s sent no whole request head within %g s; closing it",
            client.peername,
            self.gateway.client_head_timeout,
        )
        io.handler.cancel("request head too slow")  # what mitmproxy's own idle timeout does
