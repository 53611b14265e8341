"""Audit: every flow, refused ones too, is committed to the hash-chained log before its response
leaves. If the record cannot be committed, the agent gets a block page instead."""

from __future__ import annotations

import logging

from mitmproxy import http

from ..gateway.audit_sink import AuditUnavailableError
from .context import REFERENCE, REFUSAL, Gateway, describe, refuse
from .guard import guarded

REFERENCE_HEADER = "X-Homeagent-Reference"

log = logging.getLogger(__name__)


@guarded
class Audit:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def response(self, flow: http.HTTPFlow) -> None:
        if flow.request.method == "CONNECT" and REFUSAL not in flow.metadata:
            return  # an opened tunnel: each request inside it is recorded on its own
        await self._record(flow)

    async def http_connect_error(self, flow: http.HTTPFlow) -> None:
        await self._record(flow)  # a refused CONNECT

    async def error(self, flow: http.HTTPFlow) -> None:
        await self._record(flow)

    async def _record(self, flow: http.HTTPFlow) -> None:
        try:
            await self.gateway.audit.record("flow", describe(flow))
        except AuditUnavailableError as err:
            log.error("flow not audited, refusing it: %s", err)
            if flow.response is not None and flow.live:
                # the store's own words (e.g. "database or disk is full") tell the help desk why
                refuse(
                    flow,
                    "gateway-unavailable",
                    "audit.unavailable",
                    f"the audit log could not record this: {_first_line(err)}",
                )
            return
        if flow.response is not None:
            # The reference an agent quotes to the help desk; it names the audit record.
            flow.response.headers[REFERENCE_HEADER] = str(flow.metadata.get(REFERENCE, ""))


def _first_line(err: Exception) -> str:
    """SQLAlchemy puts the statement and its parameters on the lines after the reason."""
    lines = str(err).splitlines()
    return lines[0][:200] if lines else type(err).__name__
