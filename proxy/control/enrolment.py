"""Enrolment: a one-time code and the device's public key in; the agent's role, the gateway's
CA and the proxy address out."""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations at run
# time, and they name dependencies local to the route factory.
import base64
import binascii

from fastapi import APIRouter

from .context import ControlContext
from .errors import ApiError, refusals
from .schemas import EnrolRequest, EnrolResponse


def enrolment_routes(ctx: ControlContext) -> APIRouter:
    router = APIRouter(tags=["enrolment"])

    @router.post(
        "/enrol",
        responses=refusals(403, 404, 409, 410, 422, 503),
    )
    def enrol(body: EnrolRequest) -> EnrolResponse:
        """Redeem a one-time enrolment code for this device's key (no device signature: the
        device is not known yet). An earlier device of the agent is revoked."""
        try:
            public_key = base64.b64decode(body.public_key, validate=True)
        except binascii.Error:
            raise ApiError("invalid_public_key") from None
        now = ctx.now()
        enrolment = ctx.store.enrol(body.code, public_key, now=now, audit=ctx.audit)
        return EnrolResponse(
            agent=enrolment.agent.id,
            role=enrolment.agent.role,
            device=enrolment.device.fingerprint,
            ca_pem=ctx.ca_pem,
            proxy=ctx.proxy_address,
            server_time=now,
        )

    return router
