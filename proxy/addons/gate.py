"""Gate: only an agent with an open shift session gets through. The session token comes in
`Proxy-Authorization` (on the CONNECT of a tunnel, or on each plain request) and never reaches
the business systems."""

from __future__ import annotations

import weakref

from mitmproxy import connection, http

from ..core.session_token import TokenError
from ..gateway.identity import Agent
from .context import AGENT, Gateway, answered, refuse
from .guard import guarded

HEADER = "Proxy-Authorization"


@guarded
class Gate:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.tunnels: weakref.WeakKeyDictionary[connection.Client, tuple[Agent, str]] = (
            weakref.WeakKeyDictionary()
        )
        """Who opened each tunnel, and the authority its CONNECT named."""

    async def _authenticate(self, flow: http.HTTPFlow) -> Agent | None:
        try:
            return await self.gateway.identities.agent(flow.request.headers.get(HEADER))
        except TokenError as err:
            code = (
                "session-ended"
                if "ended" in str(err) or "expired" in str(err)
                else "not-authenticated"
            )
            refuse(flow, code, "gate.session", str(err))
            return None
        finally:
            flow.request.headers.pop(HEADER, None)

    async def http_connect(self, flow: http.HTTPFlow) -> None:
        self.gateway.start(flow)
        if answered(flow):
            return
        agent = await self._authenticate(flow)
        if agent is None:
            return
        flow.metadata[AGENT] = agent
        self.tunnels[flow.client_conn] = (agent, f"{flow.request.host}:{flow.request.port}")

    async def requestheaders(self, flow: http.HTTPFlow) -> None:
        self.gateway.start(flow)
        if answered(flow) or flow.request.method == "CONNECT":
            return
        tunnel = self.tunnels.get(flow.client_conn)
        if tunnel is not None and HEADER not in flow.request.headers:
            agent, _ = tunnel
            # Re-check the session for every request in a long-lived tunnel: clock-out bites.
            if not await self.gateway.identities.still_valid(agent):
                refuse(
                    flow, "session-ended", "gate.session", "the shift session has ended or expired"
                )
                return
        else:
            authenticated = await self._authenticate(flow)
            if authenticated is None:
                return
            agent = authenticated
        flow.metadata[AGENT] = agent

    def connect_authority(self, flow: http.HTTPFlow) -> str | None:
        tunnel = self.tunnels.get(flow.client_conn)
        return tunnel[1] if tunnel else None
