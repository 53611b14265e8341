"""Who is calling: the agent and enrolled device whose key signed the request (see
core/device_auth.py for the format), or a 401 that says why."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader
from starlette.concurrency import run_in_threadpool

from ..core.device_auth import (
    MAX_CLOCK_SKEW_SECONDS,
    DeviceAuthError,
    DeviceSignature,
    check_clock,
    parse_authorization,
    verify_request,
)
from ..store import Agent, Device, UnknownAgent
from .context import ControlContext
from .errors import ApiError

# Declared as a security scheme so the OpenAPI document shows which calls need it.
DEVICE_SIGNATURE = APIKeyHeader(
    name="Authorization",
    scheme_name="HA-Device",
    description='HA-Device agent="…", ts="<unix seconds>", sig="<base64 Ed25519 over '
    'METHOD\\nPATH?QUERY\\nTS\\nhex(sha256(body))>"',
    auto_error=False,
)


@dataclass(frozen=True, slots=True)
class Caller:
    agent: Agent
    device: Device


def request_target(request: Request) -> str:
    """The path and query exactly as the client sent them (what it signed)."""
    path = request.scope.get("raw_path") or request.scope["path"].encode()
    query = request.scope.get("query_string", b"")
    target = path.decode("latin-1")
    return f"{target}?{query.decode('latin-1')}" if query else target


def _devices(ctx: ControlContext, agent_id: str) -> tuple[Agent, list[Device]]:
    return ctx.store.get_agent(agent_id), ctx.store.agent_devices(agent_id)


def caller_dependency(ctx: ControlContext) -> Callable[..., Awaitable[Caller]]:
    """The dependency that authenticates a request (reads its body once, for the hash)."""

    async def caller(
        request: Request, header: Annotated[str | None, Depends(DEVICE_SIGNATURE)]
    ) -> Caller:
        if not header:
            raise ApiError("auth_missing")
        try:
            signed = parse_authorization(header)
        except DeviceAuthError as err:
            raise ApiError("auth_malformed", why=str(err)) from None
        body = await request.body()
        try:
            agent, devices = await run_in_threadpool(_devices, ctx, signed.agent)
        except UnknownAgent:
            raise ApiError("unknown_agent", agent=signed.agent) from None
        device = _signing_device(signed, devices, request.method, request_target(request), body)
        try:
            check_clock(signed, ctx.now().timestamp())
        except DeviceAuthError:
            seconds = round(abs(ctx.now().timestamp() - signed.ts))
            raise ApiError("clocks_apart", seconds=seconds, limit=MAX_CLOCK_SKEW_SECONDS) from None
        if not agent.enabled:
            raise ApiError("agent_disabled", agent=agent.id)
        return Caller(agent, device)

    return caller


def _signing_device(
    signed: DeviceSignature, devices: list[Device], method: str, target: str, body: bytes
) -> Device:
    """The agent's active device if its key signed the request. A revoked device that signed
    it gets its own answer: the agent must enrol again rather than look for a typo."""
    for device in sorted(devices, key=lambda d: d.revoked_at is not None):
        try:
            verify_request(signed, device.public_key, method, target, body)
        except DeviceAuthError:
            continue
        if device.revoked_at is not None:
            raise ApiError("device_revoked")
        return device
    raise ApiError("bad_signature")
