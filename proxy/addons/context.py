"""What the addons share: the policy in force, who is who, the audit sink, the masking workers,
and the per-flow state they leave for each other in `flow.metadata`."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from mitmproxy import http

from ..core.limits import LimitVerdict, SlidingWindow
from ..core.watermark import new_reference
from ..gateway.audit_sink import AuditSink
from ..gateway.block_page import Refusal, render
from ..gateway.engines import Engines, PolicyHolder
from ..gateway.identity import Agent, Identities
from ..gateway.protect import ProtectPool
from ..gateway.upstream_retry import RETRIED

log = logging.getLogger(__name__)
ENGINES = "homeagent.engines"
AGENT = "homeagent.agent"
REFERENCE = "homeagent.reference"
DECISION = "homeagent.decision"
REFUSAL = "homeagent.refusal"
WOULD_BLOCK = "homeagent.would_block"
PROTECTED = "homeagent.protected"
STARTED = "homeagent.started"

STATUS = {
    "not-authenticated": 407,
    "session-ended": 407,
    "denied": 403,
    "ambiguous": 403,
    "out-of-hours": 403,
    "forbidden-words": 403,
    "rate-limited": 429,
    "cannot-inspect": 502,
    "upstream-failed": 502,
    "upstream-timeout": 504,
    "too-large": 502,
    "request-too-large": 413,
    "gateway-unavailable": 503,
}


class RateCounter(Protocol):
    def count_request(
        self,
        agent_id: str,
        limits: Sequence[str],
        judge: Callable[[Mapping[str, SlidingWindow]], LimitVerdict],
    ) -> LimitVerdict:
        """Judge one request against the agent's windows of `limits`, atomically (blocking)."""
        ...


@dataclass
class Gateway:
    """The running gateway as the addons see it."""

    policy: PolicyHolder
    identities: Identities
    audit: AuditSink
    pool: ProtectPool
    instance: str
    rates: RateCounter
    """Where agents' rate-limit windows are kept: the store, shared by every instance."""
    upstream_map: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Host → address to connect to instead of resolving it (the demo's *.acme.test)."""
    upstream_timeout: float = 30.0
    """Seconds a business system has to answer a request whole before the agent gets a 504."""
    client_head_timeout: float = 60.0
    """Seconds a client connection has to send each request head whole (slowloris)."""

    def start(self, flow: http.HTTPFlow) -> Engines:
        """Pin the policy and give the flow its reference, once, at its first hook."""
        if ENGINES not in flow.metadata:
            flow.metadata[ENGINES] = self.policy.engines
            flow.metadata[REFERENCE] = new_reference()
            flow.metadata[STARTED] = time.monotonic()
            flow.metadata[WOULD_BLOCK] = []
        engines: Engines = flow.metadata[ENGINES]
        return engines


def agent_of(flow: http.HTTPFlow) -> Agent | None:
    agent = flow.metadata.get(AGENT)
    return agent if isinstance(agent, Agent) else None


def answered(flow: http.HTTPFlow) -> bool:
    """Already refused, failed or gone: later steps leave it alone."""
    return flow.response is not None or flow.error is not None or not flow.live


def refuse(flow: http.HTTPFlow, code: str, rule: str, detail: str = "", **headers: str) -> None:
    """Answer the flow with a block page instead of letting it through."""
    reference = str(flow.metadata.get(REFERENCE) or new_reference())
    refusal = Refusal(STATUS.get(code, 403), code, rule, reference, detail)
    accept = flow.request.headers.get("accept", "")
    body, content_type = render(refusal, accept)
    extra = {"Content-Type": content_type, "Cache-Control": "no-store", **headers}
    if refusal.status == 407:
        extra["Proxy-Authenticate"] = 'Bearer realm="homeagent"'
    flow.response = http.Response.make(refusal.status, body, extra)
    request = flow.request
    log.info("refused %s %s [%s %s] %s", request.method, request.pretty_url, code, rule, detail)
    flow.metadata[REFUSAL] = refusal
    flow.metadata[DECISION] = {"decision": "deny", "rule": rule, "code": code}


def _refused_status(flow: http.HTTPFlow) -> int | None:
    """The status of the block page sent in place of mitmproxy's error page (upstream.py)."""
    refusal = flow.metadata.get(REFUSAL)
    return refusal.status if isinstance(refusal, Refusal) else None


def _path(path: str) -> str:
    return path.split("?", 1)[0]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def describe(flow: http.HTTPFlow) -> dict[str, Any]:
    """The audit record of a flow (no query strings: they may hold personal data)."""
    agent = agent_of(flow)
    request = flow.request
    response = flow.response
    started = flow.metadata.get(STARTED, time.monotonic())
    engines = flow.metadata.get(ENGINES)
    protected = flow.metadata.get(PROTECTED)
    record: dict[str, Any] = {
        "agent": agent.id if agent else None,
        "role": agent.role if agent else None,
        "session": agent.session if agent else None,
        "method": request.method,
        "url": f"{request.scheme}://{request.pretty_host}:{request.port}{_path(request.path)}",
        "reference": flow.metadata.get(REFERENCE),
        "policy": engines.version if isinstance(engines, Engines) else None,
        "status": response.status_code if response else _refused_status(flow),
        "bytes_up": len(request.raw_content or b""),
        "bytes_down": len(response.raw_content or b"") if response else 0,
        "ms": round((time.monotonic() - started) * 1000, 1),
        "client": flow.client_conn.peername[0] if flow.client_conn.peername else None,
        "would_block": list(flow.metadata.get(WOULD_BLOCK, [])),
        **flow.metadata.get(DECISION, {"decision": "allow", "rule": None}),
    }
    if protected is not None:
        record["masked"] = dict(protected.counts)
        record["watermarks"] = protected.marks
        record["passed_binary"] = protected.passed_binary
    if flow.metadata.get(RETRIED):
        record["upstream_retried"] = True  # the system closed a kept-alive connection on it
    if flow.error is not None:
        record["error"] = str(flow.error.msg)[:200]
    return record
