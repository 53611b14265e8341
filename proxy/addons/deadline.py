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
        self._in_flight: dict[str, int] = {}
        """Per client connection, requests whose head came and whose answer has not ended: an
        HTTP/2 connection may carry several, and is owed nothing while any is under way."""

    def client_connected(self, client: connection.Client) -> None:
        self._arm(client)

    def client_disconnected(self, client: connection.Client) -> None:
        self._disarm(client)
        self._in_flight.pop(client.id, None)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        # the head came in time; the body has its own limits, the answer the upstream timeout
        client = flow.client_conn
        self._in_flight[client.id] = self._in_flight.get(client.id, 0) + 1
        self._disarm(client)

    def response(self, flow: http.HTTPFlow) -> None:
        # keep-alive, or a CONNECT's tunnel: the next head (after TLS) is owed from now
        self._ended(flow.client_conn)

    def error(self, flow: http.HTTPFlow) -> None:
        self._ended(flow.client_conn)

    def _ended(self, client: connection.Client) -> None:
        left = max(0, self._in_flight.get(client.id, 0) - 1)
        self._in_flight[client.id] = left
        if left == 0:
            self._arm(client)

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
