"""Upstream: where the business systems are. Normally DNS; the demo and the tests map the
`*.acme.test` names to the sample app on loopback, keeping the name for TLS verification."""

from __future__ import annotations

import weakref

from mitmproxy import connection
from mitmproxy.proxy import server_hooks

from .context import Gateway
from .guard import guarded


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
