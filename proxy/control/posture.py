"""Posture reports: signed by the device key, judged by the gateway under the role's
thresholds, kept with their measurements and audited."""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations at run
# time, and they name dependencies local to the route factory.
import base64
import binascii
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends

from ..core.posture_check import evaluate_report
from ..core.posture_report import PostureReportError
from .context import ControlContext
from .device import Caller
from .errors import ApiError, refusals
from .schemas import PostureRequest, PostureResponse


def posture_routes(ctx: ControlContext, caller: Callable[..., Awaitable[Caller]]) -> APIRouter:
    router = APIRouter(tags=["posture"])

    @router.post(
        "/posture",
        status_code=201,
        responses=refusals(401, 403, 422, 503),
    )
    def posture(body: PostureRequest, who: Annotated[Caller, Depends(caller)]) -> PostureResponse:
        """Send a posture report; the answer is the gateway's verdict, check by check. A
        failing report is stored too (it is the latest, so it blocks clock-in)."""
        report = body.report_json.encode()
        try:
            signature = base64.b64decode(body.signature, validate=True)
        except binascii.Error:
            raise ApiError("bad_report_signature") from None
        policy = ctx.policy().policy
        try:
            verdict = evaluate_report(report, policy.posture.for_role(who.agent.role))
        except PostureReportError as err:
            raise ApiError("malformed_report", why=str(err)) from None
        stored = ctx.store.record_posture(
            who.agent.id,
            who.device.fingerprint,
            report,
            signature,
            passed=verdict.passed,
            failing_checks=verdict.failing,
            now=ctx.now(),
            audit=ctx.audit,
        )
        expires = stored.received_at + dt.timedelta(seconds=policy.posture.max_age)
        return PostureResponse(
            report=stored.id,
            received_at=stored.received_at,
            expires_at=expires,
            **verdict.as_json(),
        )

    return router
