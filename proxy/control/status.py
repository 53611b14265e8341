"""The agent's status in the shift (DESIGN.md's state model) with server time stamps, delivered
once however often the client's offline queue repeats it, and the shift's heartbeat."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from ..core.agent_status import (
    NEEDS_REASON,
    TAKES_REASON,
    AgentStatus,
    StatusError,
    parse_status,
)
from ..core.posture_hints import Hint
from ..store import StatusEvent
from .context import ControlContext
from .device import Caller
from .errors import ApiError, refusals
from .schemas import (
    HeartbeatResponse,
    StatusEventBody,
    StatusRequest,
    StatusResponse,
)
from .shift import open_session_of
from .standing import posture_standing

STATUS_NAMES: dict[AgentStatus, Hint] = {
    AgentStatus.NOT_READY: Hint("not ready", "未就绪"),
    AgentStatus.READY: Hint("ready", "就绪"),
    AgentStatus.BUSY: Hint("busy", "通话中"),
    AgentStatus.AFTER_CALL_WORK: Hint("after-call work", "话后处理"),
    AgentStatus.BREAK: Hint("break", "休息"),
    AgentStatus.OFFLINE: Hint("offline", "离线"),
}
# What the client may ask for; offline is reached by clock-out only.
CLIENT_STATUSES = frozenset(AgentStatus) - {AgentStatus.OFFLINE}


def event_body(event: StatusEvent) -> StatusEventBody:
    return StatusEventBody(
        id=event.id,
        status=event.status.value,
        reason=event.reason,
        session=event.session,
        client_event_id=event.client_event_id,
        client_time=event.client_time,
        server_time=event.server_time,
        duplicate=event.duplicate,
    )


def status_routes(ctx: ControlContext, caller: Callable[..., Awaitable[Caller]]) -> APIRouter:
    router = APIRouter(tags=["status"])
    errors = refusals(401, 403, 409, 422, 503)

    @router.post(
        "/status",
        status_code=201,
        responses={200: {"model": StatusEventBody}, **errors},
    )
    def set_status(
        body: StatusRequest, who: Annotated[Caller, Depends(caller)], response: Response
    ) -> StatusEventBody:
        """Record a status change (201). The same client_event_id again returns the stored
        event (200, duplicate true). Going ready needs a fresh, passing posture report."""
        try:
            target = parse_status(body.status)
        except StatusError:
            target = None
        if target not in CLIENT_STATUSES:
            known = ", ".join(sorted(s.value for s in CLIENT_STATUSES))
            problem = f"status: one of {known}"
            raise ApiError("invalid_request", {"problems": [problem]}, problems=problem)
        assert target is not None
        if target in NEEDS_REASON and not body.reason:
            raise ApiError("reason_required", target=STATUS_NAMES[target])
        if body.reason and target not in TAKES_REASON:
            raise ApiError("reason_not_taken", target=STATUS_NAMES[target])
        open_session = ctx.store.open_session(who.agent.id)
        if target is AgentStatus.READY and open_session is not None:
            standing = posture_standing(ctx, who.agent, who.device)
            refusal = standing.refusal(ctx.policy().policy.posture.max_age)
            if refusal is not None:
                raise refusal
        try:
            event = ctx.store.record_status(
                who.agent.id,
                # An unknown session still lets a redelivered event be found.
                open_session.id if open_session is not None else "",
                target,
                body.reason,
                client_event_id=body.client_event_id,
                client_time=body.client_time,
                now=ctx.now(),
                audit=ctx.audit,
            )
        except StatusError:
            current = ctx.store.current_status(who.agent.id)
            now_in = current.status if current is not None else AgentStatus.OFFLINE
            raise ApiError(
                "status_transition",
                {"current": now_in.value, "target": target.value},
                current=STATUS_NAMES[now_in],
                target=STATUS_NAMES[target],
            ) from None
        if event.duplicate:
            response.status_code = 200
        return event_body(event)

    @router.get("/status", responses=errors)
    def get_status(who: Annotated[Caller, Depends(caller)]) -> StatusResponse:
        """The agent's current status, since when, and the shift's start."""
        current = ctx.store.current_status(who.agent.id)
        session = ctx.store.open_session(who.agent.id)
        standing = posture_standing(ctx, who.agent, who.device)
        return StatusResponse(
            status=(current.status if current else AgentStatus.OFFLINE).value,
            reason=current.reason if current else None,
            since=current.server_time if current else None,
            session=session.id if session else None,
            shift_start=session.started_at if session else None,
            posture_passed=standing.passed if standing.report is not None else None,
            posture_expires_at=standing.expires_at,
            server_time=standing.now,
        )

    @router.post("/heartbeat", responses=errors)
    def heartbeat(who: Annotated[Caller, Depends(caller)]) -> HeartbeatResponse:
        """The client is still there. A posture report that expired ends the session here."""
        session = open_session_of(ctx, who)
        standing = posture_standing(ctx, who.agent, who.device)
        if standing.expires_at is None or not standing.fresh:
            ctx.store.end_session(session.id, "posture_expired", now=standing.now, audit=ctx.audit)
            raise ApiError("posture_expired")
        ctx.store.heartbeat(session.id, now=standing.now)
        return HeartbeatResponse(
            session=session.id,
            server_time=standing.now,
            token_expires_at=session.token_expires_at,
            posture_expires_at=standing.expires_at,
        )

    return router
