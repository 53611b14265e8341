"""Who is calling: the agent and enrolled device whose key signed the request (see
core/device_auth.py for the format), or a 401 that says why."""

import datetime as dt
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
    signed_text,
    verify_signed_text,
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
    ts: int
    """The request's time, as signed."""
    signed_text: bytes
    """What the device signed for this request."""


def take_once(ctx: ControlContext, who: Caller) -> None:
    """For a request that hands out a session token: refuse it (`replayed`) if the same signed
    request was taken before, here or on another instance, so that a captured copy cannot be
    sent again within the clock window for a token of its own. Blocking (a store write)."""
    until = dt.datetime.fromtimestamp(who.ts + MAX_CLOCK_SKEW_SECONDS + 1, dt.UTC)
    if not ctx.store.first_use(who.agent.id, who.signed_text, until=until):
        raise ApiError("replayed")


def request_target(request: Request) -> str:
    """The path and query exactly as the client sent them (what it signed)."""
    path = request.scope.get("raw_path") or request.scope["path"].encode()
    query = request.scope.get("query_string", b"")
    target = path.decode("latin-1")
    return f"{target}?{query.decode('latin-1')}" if query else target


def _identify(
    ctx: ControlContext, signed: DeviceSignature, method: str, target: str, body: bytes
) -> Caller:
    """Blocking (store reads, signature check): runs in a worker thread."""
    try:
        agent = ctx.store.get_agent(signed.agent)
    except UnknownAgent:
        raise ApiError("unknown_agent", agent=signed.agent) from None
    devices = ctx.store.agent_devices(signed.agent)
    text = signed_text(method, target, signed.ts, body)
    return Caller(agent, _signing_device(signed, devices, text), signed.ts, text)


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
        target = request_target(request)
        who = await run_in_threadpool(_identify, ctx, signed, request.method, target, body)
        now = ctx.now().timestamp()
        try:
            check_clock(signed, now)
        except DeviceAuthError:
            seconds = round(abs(now - signed.ts))
            # the numbers beside the message too, so a client can say how far off its clock is
            raise ApiError(
                "clocks_apart",
                {"seconds": seconds, "limit": MAX_CLOCK_SKEW_SECONDS},
                seconds=seconds,
                limit=MAX_CLOCK_SKEW_SECONDS,
            ) from None
        # Disabling an agent revokes their device too; say which, so they ask the right person.
        if not who.agent.enabled:
            raise ApiError("agent_disabled", agent=who.agent.id)
        if who.device.revoked_at is not None:
            raise ApiError("device_revoked")
        return who

    return caller


def _signing_device(signed: DeviceSignature, devices: list[Device], text: bytes) -> Device:
    """The agent's device whose key signed the request, active ones tried first. A revoked
    device that signed it is returned too: its owner must enrol again, not look for a typo."""
    for device in sorted(devices, key=lambda d: d.revoked_at is not None):
        try:
            verify_signed_text(signed, device.public_key, text)
        except DeviceAuthError:
            continue
        return device
    raise ApiError("bad_signature")
