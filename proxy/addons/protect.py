"""Protect: what comes back is masked, then watermarked for the agent, before the agent sees it.
A body that cannot be protected is replaced by a block page, never passed on."""

from __future__ import annotations

from mitmproxy import http

from ..gateway.protect import CannotProtectError, Job
from .context import PROTECTED, REFERENCE, REFUSAL, Gateway, agent_of, refuse, utc_now
from .guard import guarded


@guarded
class Protect:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None:
            flow.response.stream = False  # every body is inspected whole, whatever its size

    async def response(self, flow: http.HTTPFlow) -> None:
        agent = agent_of(flow)
        response = flow.response
        if (
            response is None
            or REFUSAL in flow.metadata
            or agent is None
            or flow.request.method == "CONNECT"
        ):
            return
        engines = self.gateway.start(flow)
        job = Job(
            body=response.raw_content or b"",
            content_type=response.headers.get("content-type"),
            content_encoding=response.headers.get("content-encoding"),
            csp=response.headers.get("content-security-policy"),
            role=agent.role,
            url=flow.request.url,
            agent=agent.id,
            reference=str(flow.metadata[REFERENCE]),
            now=utc_now(),
        )
        try:
            protected = await self.gateway.pool.run(engines.masker, engines.watermarker, job)
        except CannotProtectError as err:
            refuse(flow, "cannot-inspect", "protect.unreadable", str(err))
            return
        flow.metadata[PROTECTED] = protected
        if protected.body is not job.body:
            response.raw_content = protected.body
            if "content-length" in response.headers:
                response.headers["content-length"] = str(len(protected.body))
        if protected.csp is not None:
            response.headers["content-security-policy"] = protected.csp
        if not protected.passed_binary and job.body:
            response.headers["cache-control"] = (
                "private, no-store"  # shown to one agent, marked for them
            )
