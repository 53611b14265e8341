"""The agent's recent decisions for the client's activity pane: what was blocked (and by which
rule) or masked, read from the audit log's flow records.

A flow record's data, as the gateway's audit addon writes it: `agent`, `decision`, `rule`,
`url` (or `host` and `path`), `masked` ({detector: count}). Only host and path are shown: a
query string may carry customer data.
"""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations at run
# time, and they name dependencies local to the route factory.
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query

from .context import ControlContext
from .device import Caller
from .errors import refusals
from .schemas import ActivityItem, ActivityResponse

MAX_ITEMS = 200
LOOKBACK = dt.timedelta(hours=24)
"""Without an open shift, how far back to look (the scan is bounded by time)."""


def activity_item(record: Mapping[str, Any]) -> ActivityItem:
    data = record["data"]
    host, path = data.get("host"), data.get("path")
    url = data.get("url")
    if isinstance(url, str) and (host is None or path is None):
        parts = urlsplit(url)
        host = host if host is not None else parts.hostname
        path = path if path is not None else parts.path
    masked_raw = data.get("masked")
    masked = (
        {str(k): int(v) for k, v in masked_raw.items() if isinstance(v, int)}
        if isinstance(masked_raw, dict)
        else {}
    )
    return ActivityItem(
        at=str(record["at"]),
        decision=_text(data.get("decision")),
        rule=_text(data.get("rule")),
        host=_text(host),
        path=_text(path),
        masked=masked,
        masked_total=sum(masked.values()),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def activity_routes(ctx: ControlContext, caller: Callable[..., Awaitable[Caller]]) -> APIRouter:
    router = APIRouter(tags=["activity"])

    @router.get("/activity", responses=refusals(401, 503))
    def activity(
        who: Annotated[Caller, Depends(caller)],
        limit: Annotated[int, Query(ge=1, le=MAX_ITEMS)] = 50,
    ) -> ActivityResponse:
        """This agent's latest flow decisions, newest first: this shift's, or the last 24 h's."""
        session = ctx.store.open_session(who.agent.id)
        since = session.started_at if session is not None else ctx.now() - LOOKBACK
        records = ctx.store.agent_flows(who.agent.id, limit=limit, since=since)
        return ActivityResponse(
            agent=who.agent.id, items=[activity_item(record) for record in records]
        )

    return router
