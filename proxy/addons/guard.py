"""Fail closed: mitmproxy logs an exception in an addon hook and lets the flow carry on. Every
hook of ours is wrapped so that an exception refuses the flow instead (and is logged)."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from mitmproxy import http
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from .context import refuse

log = logging.getLogger(__name__)
GUARDED = "__homeagent_fail_closed__"
STORE_DOWN = (DBAPIError, PoolTimeout)
"""What the store raises when its database cannot be reached: the same as the control API's."""
HOOKS = frozenset(
    {"http_connect", "requestheaders", "request", "responseheaders", "response", "error",
     "http_connect_error", "server_connect", "server_connected"}
)  # fmt: skip


def _stop(flow: Any, owner: str, err: BaseException) -> None:
    log.error("%s failed on a flow; refusing it: %r", owner, err, exc_info=err)
    if not isinstance(flow, http.HTTPFlow):
        server = getattr(flow, "server", None)  # server_connect: no flow, stop the connection
        if server is not None:
            server.error = f"{owner} failed: {err}"
        return
    try:
        if flow.live and isinstance(err, STORE_DOWN):
            # the database is away (restart, failover): say so, not "could not be checked"
            reason = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
            refuse(
                flow,
                "gateway-unavailable",
                f"{owner}.store",
                f"the gateway's database did not answer: {reason}",
            )
        elif flow.live:
            refuse(
                flow,
                "cannot-inspect",
                f"{owner}.error",
                "the gateway could not finish checking this",
            )
    except Exception:
        flow.kill()  # type: ignore[no-untyped-call]  # mitmproxy leaves Flow.kill unannotated


def guarded[A](cls: type[A]) -> type[A]:
    """Wrap every mitmproxy hook the class defines so that an exception refuses the flow."""
    for name in HOOKS & set(vars(cls)):
        hook = getattr(cls, name)
        owner = cls.__name__.lower()
        if inspect.iscoroutinefunction(hook):
            setattr(cls, name, _async_guard(hook, owner))
        else:
            setattr(cls, name, _sync_guard(hook, owner))
    setattr(cls, GUARDED, True)
    return cls


def _sync_guard(hook: Callable[[Any, Any], None], owner: str) -> Callable[[Any, Any], None]:
    @functools.wraps(hook)
    def run(self: Any, flow: Any) -> None:
        try:
            hook(self, flow)
        except Exception as err:
            _stop(flow, owner, err)

    return run


def _async_guard(
    hook: Callable[[Any, Any], Awaitable[None]], owner: str
) -> Callable[[Any, Any], Awaitable[None]]:
    @functools.wraps(hook)
    async def run(self: Any, flow: Any) -> None:
        try:
            await hook(self, flow)
        except Exception as err:
            _stop(flow, owner, err)

    return run
