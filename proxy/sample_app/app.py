"""The sample app as one ASGI application that routes on the Host header to the four systems."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from . import chat, crm, kb, reports
from .certificates import SYSTEM_HOSTS
from .dataset import DEFAULT_CUSTOMERS, DEFAULT_SEED, build_dataset
from .responses import problem
from .state import RequestError, SampleState


async def _bad_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestError)
    return problem(exc.status, exc.detail)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return problem(exc.status_code, exc.detail)


def _system(routes: list[BaseRoute]) -> Starlette:
    return Starlette(
        routes=routes,
        exception_handlers={RequestError: _bad_request, HTTPException: _http_error},
    )


def host_of(scope: Scope) -> str:
    """The Host header as a name: lower case, without port or trailing dot."""
    for key, value in scope.get("headers", ()):
        if key == b"host":
            host = bytes(value).decode("latin-1").lower()
            if host.startswith("["):  # IPv6 literal
                return host.split("]")[0] + "]"
            return host.rsplit(":", 1)[0].rstrip(".") if ":" in host else host.rstrip(".")
    return ""


class HostRouter:
    """Sends each request to the system named by its Host; 421 for any other host."""

    def __init__(self, systems: Mapping[str, ASGIApp]) -> None:
        self.systems = dict(systems)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        system = self.systems.get(host_of(scope))
        if system is None:
            names = ", ".join(self.systems)
            response = problem(421, f"this server answers only for {names}")
            await response(scope, receive, send)
            return
        await system(scope, receive, send)


def make_app(
    state: SampleState | None = None,
    *,
    customer_count: int = DEFAULT_CUSTOMERS,
    seed: int = DEFAULT_SEED,
) -> HostRouter:
    """The four systems of ACME behind one ASGI app, on one state (fresh unless given)."""
    if state is None:
        state = SampleState(build_dataset(customer_count, seed))
    crm_host, kb_host, chat_host, reports_host = SYSTEM_HOSTS
    return HostRouter(
        {
            crm_host: _system(crm.routes(state)),
            kb_host: _system(kb.routes()),
            chat_host: _system(chat.routes(state)),
            reports_host: _system(reports.routes(state.dataset)),
        }
    )
