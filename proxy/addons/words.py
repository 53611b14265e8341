"""Words: what an agent sends (chat replies, notes) is refused when it holds a forbidden phrase.
A body that cannot be read where a word list applies is refused too."""

from __future__ import annotations

from mitmproxy import http

from ..core.forbidden.body_text import UndecodableBodyError
from ..core.urls import AmbiguousURLError
from .context import WOULD_BLOCK, Gateway, agent_of, answered, refuse
from .guard import guarded


@guarded
class Words:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def request(self, flow: http.HTTPFlow) -> None:
        agent = agent_of(flow)
        if answered(flow) or agent is None or not flow.request.raw_content:
            return
        engines = self.gateway.start(flow)
        request = flow.request
        if not engines.words.applicable(role=agent.role, method=request.method, url=request.url):
            return
        try:
            body = request.get_content(strict=True)
            assert body is not None
            result = engines.words.scan(
                body,
                role=agent.role,
                method=request.method,
                url=request.url,
                content_type=request.headers.get("content-type"),
            )
        except (ValueError, UndecodableBodyError, AmbiguousURLError) as err:
            refuse(
                flow, "cannot-inspect", "words.unreadable", f"the message could not be read: {err}"
            )
            return
        flow.metadata[WOULD_BLOCK].extend(
            f"words.{m.rule}" for m in result.matches if m.mode != "enforce"
        )
        if result.blocked:
            hit = next(m for m in result.matches if m.mode == "enforce")
            refuse(flow, "forbidden-words", f"words.{hit.rule}", f"phrase: {hit.phrase}")
