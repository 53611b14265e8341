"""The control API as one FastAPI app, built by a factory so the gateway and the tests build it
the same way."""

from fastapi import APIRouter, FastAPI

from .activity import activity_routes
from .body_limit import BodyLimit
from .context import ControlContext
from .device import caller_dependency
from .enrolment import enrolment_routes
from .errors import install_error_handlers, refusals
from .posture import posture_routes
from .schemas import API_VERSION, HealthResponse
from .settings import settings_routes
from .shift import shift_routes
from .speedtest import speedtest_routes
from .status import status_routes

PREFIX = "/v1"


def create_control_app(ctx: ControlContext) -> FastAPI:
    app = FastAPI(
        title="homeagent control API",
        version=API_VERSION,
        description="What the agent's client talks to: enrolment, settings, posture, clock-in "
        "and out, status, activity, speed tests. Errors: "
        '{"error": code, "message": {"en": …, "zh": …}}.',
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimit, exempt={f"{PREFIX}/speedtest/upload"})
    caller = caller_dependency(ctx)
    api = APIRouter(prefix=PREFIX)
    api.include_router(enrolment_routes(ctx))
    api.include_router(settings_routes(ctx, caller))
    api.include_router(posture_routes(ctx, caller))
    api.include_router(shift_routes(ctx, caller))
    api.include_router(status_routes(ctx, caller))
    api.include_router(activity_routes(ctx, caller))
    api.include_router(speedtest_routes())
    api.include_router(health_routes(ctx))
    app.include_router(api)
    return app


def health_routes(ctx: ControlContext) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health", responses=refusals(503))
    def health() -> HealthResponse:
        """Up, and its store answers (a load balancer's probe)."""
        # Any cheap read: it fails as store_unavailable (503) when the database is gone.
        ctx.store.is_session_active("health-probe")
        return HealthResponse(status="ok", server_time=ctx.now())

    return router
