"""Client settings: the posture thresholds for the caller's role and the notice to acknowledge,
derived from the policy (which itself never leaves the gateway)."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends

from .context import ControlContext
from .device import Caller
from .errors import refusals
from .schemas import NoticeBody, SettingsResponse


def settings_routes(ctx: ControlContext, caller: Callable[..., Awaitable[Caller]]) -> APIRouter:
    router = APIRouter(tags=["settings"])

    @router.get("/settings", responses=refusals(401, 403))
    def settings(who: Annotated[Caller, Depends(caller)]) -> SettingsResponse:
        """What the client needs to run the checks and clock in."""
        policy = ctx.policy().policy
        notice = policy.notice
        return SettingsResponse(
            agent=who.agent.id,
            role=who.agent.role,
            posture=policy.posture.for_role(who.agent.role).model_dump(mode="json"),
            recheck_interval=policy.posture.recheck_interval,
            max_age=policy.posture.max_age,
            notice=NoticeBody(version=notice.version, zh=notice.zh, en=notice.en),
            proxy=ctx.proxy_address,
            token_ttl=ctx.token_ttl.total_seconds(),
            server_time=ctx.now(),
        )

    return router
