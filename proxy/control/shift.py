"""Clock-in, token renewal and clock-out: a short-lived signed session token, bound to agent and
device, for as long as the session is open and the posture report fresh."""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations at run
# time, and they name dependencies local to the route factory.
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends

from ..core.agent_status import AgentStatus
from ..core.session_token import SessionClaims, issue_token
from ..store import Session
from .context import ControlContext
from .device import Caller, take_once
from .errors import ApiError, refusals
from .schemas import ClockInRequest, ClockOutResponse, RenewRequest, TokenResponse
from .standing import posture_standing

# A failing re-check takes effect after the current contact, never in the middle of it.
IN_CONTACT = frozenset({AgentStatus.BUSY, AgentStatus.AFTER_CALL_WORK})


def token_lifetime(ctx: ControlContext, posture_expires: dt.datetime, now: dt.datetime) -> float:
    """Seconds the next token lives: the TTL, cut short where the posture report expires."""
    return min(ctx.token_ttl.total_seconds(), (posture_expires - now).total_seconds())


def issue(ctx: ControlContext, session: Session, now: dt.datetime) -> TokenResponse:
    claims = SessionClaims(
        agent=session.agent,
        device=session.device,
        role=session.role,
        session=session.id,
        issued_at=now.timestamp(),
        expires_at=session.token_expires_at.timestamp(),
    )
    return TokenResponse(
        token=issue_token(claims, ctx.token_key),
        session=session.id,
        expires_at=session.token_expires_at,
    )


def open_session_of(ctx: ControlContext, who: Caller) -> Session:
    session = ctx.store.open_session(who.agent.id)
    if session is None or session.device != who.device.fingerprint:
        raise ApiError("not_clocked_in")
    return session


def shift_routes(ctx: ControlContext, caller: Callable[..., Awaitable[Caller]]) -> APIRouter:
    router = APIRouter(tags=["shift"])
    errors = refusals(401, 403, 409, 422, 503)

    @router.post("/clock-in", status_code=201, responses=errors)
    def clock_in(body: ClockInRequest, who: Annotated[Caller, Depends(caller)]) -> TokenResponse:
        """Start a shift: needs the current notice acknowledged and this device's fresh posture
        report passing every required check. An open session elsewhere is superseded."""
        policy = ctx.policy().policy
        if body.notice_version != policy.notice.version:
            raise ApiError(
                "notice_outdated",
                {"notice_version": policy.notice.version},
                current=policy.notice.version,
            )
        standing = posture_standing(ctx, who.agent, who.device)
        refusal = standing.refusal(policy.posture.max_age)
        if refusal is not None:
            raise refusal
        assert standing.expires_at is not None and standing.report is not None
        take_once(ctx, who)
        now = standing.now
        ctx.audit.append(
            "notice.ack",
            {
                "agent": who.agent.id,
                "device": who.device.fingerprint,
                "version": body.notice_version,
            },
            now=now,
        )
        session = ctx.store.start_session(
            who.agent.id,
            who.device.fingerprint,
            token_ttl=dt.timedelta(seconds=token_lifetime(ctx, standing.expires_at, now)),
            now=now,
            audit=ctx.audit,
        )
        return issue(ctx, session, now)

    @router.post("/session/renew", responses=errors)
    def renew(
        who: Annotated[Caller, Depends(caller)], body: RenewRequest | None = None
    ) -> TokenResponse:
        """A new token for the open session while the posture report is fresh. An expired
        report ends the session; a failing one is refused unless a contact is in progress.
        The body is optional: its nonce only tells two renewals in one second apart."""
        session = open_session_of(ctx, who)
        policy = ctx.policy().policy
        standing = posture_standing(ctx, who.agent, who.device)
        now = standing.now
        if standing.expires_at is None or not standing.fresh:
            ctx.store.end_session(session.id, "posture_expired", now=now, audit=ctx.audit)
            raise ApiError("posture_expired")
        if not standing.passed:
            current = ctx.store.current_status(who.agent.id)
            if current is None or current.status not in IN_CONTACT:
                refusal = standing.refusal(policy.posture.max_age)
                assert refusal is not None
                raise refusal
        take_once(ctx, who)
        lifetime = dt.timedelta(seconds=token_lifetime(ctx, standing.expires_at, now))
        renewed = ctx.store.renew_session(session.id, token_ttl=lifetime, now=now)
        return issue(ctx, renewed, now)

    @router.post("/clock-out", responses=errors)
    def clock_out(who: Annotated[Caller, Depends(caller)]) -> ClockOutResponse:
        """End the shift: the session's tokens stop working at once."""
        session = open_session_of(ctx, who)
        ended = ctx.store.end_session(session.id, "clock_out", now=ctx.now(), audit=ctx.audit)
        assert ended.ended_at is not None and ended.end_reason is not None
        return ClockOutResponse(session=ended.id, ended_at=ended.ended_at, reason=ended.end_reason)

    return router
