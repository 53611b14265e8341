"""Access: the role's allow and deny rules, its hours, and the rate limits against bulk harvesting.
A CONNECT is let through only towards a host some rule of the role allows; each request inside
the tunnel is still decided on its own, with every name it gives its host compared."""

from __future__ import annotations

import time

from mitmproxy import http

from ..core.access import AMBIGUOUS_URL
from .context import DECISION, WOULD_BLOCK, Gateway, agent_of, answered, refuse
from .gate import Gate
from .guard import guarded


@guarded
class Access:
    def __init__(self, gateway: Gateway, gate: Gate) -> None:
        self.gateway = gateway
        self.gate = gate

    def http_connect(self, flow: http.HTTPFlow) -> None:
        agent = agent_of(flow)
        if answered(flow) or agent is None:
            return
        engines = self.gateway.start(flow)
        if not engines.access.may_connect(agent.role, flow.request.host, flow.request.port):
            refuse(
                flow, "denied", "default-deny", f"no rule of role {agent.role!r} reaches this host"
            )

    def request(self, flow: http.HTTPFlow) -> None:
        agent = agent_of(flow)
        if answered(flow) or agent is None:
            return
        engines = self.gateway.start(flow)
        request = flow.request
        named = [request.host_header, self.gate.connect_authority(flow)]
        decision = engines.access.decide(agent.role, request.method, request.url, also_named=named)
        flow.metadata[WOULD_BLOCK].extend(decision.would_block)
        if not decision.allowed:
            if decision.rule == AMBIGUOUS_URL:
                code = "ambiguous"
            elif decision.rule.endswith(".hours"):
                code = "out-of-hours"
            else:
                code = "denied"
            refuse(flow, code, decision.rule, decision.reason)
            return
        limit = engines.limits.hit(agent.id, agent.role, request.method, request.url, time.time())
        flow.metadata[WOULD_BLOCK].extend(limit.would_block)
        if not limit.allowed and limit.rule is not None:
            retry = max(1, round(limit.retry_after))
            refuse(
                flow,
                "rate-limited",
                limit.rule,
                f"try again in {retry} s",
                **{"Retry-After": str(retry)},
            )
            return
        flow.metadata[DECISION] = {"decision": "allow", "rule": decision.rule}
