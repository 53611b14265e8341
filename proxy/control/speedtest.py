"""Speed-test endpoints: a download and an upload of bounded size and time, unauthenticated (the
client measures before it has a session) and so also bounded in how many run at once."""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations at run
# time, and they name dependencies local to the route factory.
import os
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from .errors import ApiError, refusals
from .schemas import UploadResponse

MAX_BYTES = 64 * 1024 * 1024
MAX_SECONDS = 30.0
MAX_RUNNING = 8
CHUNK = 256 * 1024
# Incompressible, made once: the figures measure the line, not a compressor or the CPU.
_NOISE = os.urandom(1024 * 1024)


class SpeedTestSlots:
    """How many tests run now (one event loop: no lock needed)."""

    def __init__(self, limit: int = MAX_RUNNING) -> None:
        self.limit = limit
        self.running = 0

    def take(self) -> None:
        if self.running >= self.limit:
            raise ApiError("speed_test_busy")
        self.running += 1

    def give_back(self) -> None:
        self.running -= 1


def speedtest_routes(slots: SpeedTestSlots | None = None) -> APIRouter:
    router = APIRouter(prefix="/speedtest", tags=["speed test"])
    running = slots or SpeedTestSlots()

    @router.get(
        "/download",
        response_class=StreamingResponse,
        responses={
            200: {"content": {"application/octet-stream": {}}},
            **refusals(422, 429),
        },
    )
    async def download(
        size: Annotated[int, Query(alias="bytes", ge=1, le=MAX_BYTES)],
    ) -> StreamingResponse:
        """`bytes` of random data (at most 64 MiB), never compressed; cut off after 30 s."""
        running.take()

        async def body() -> AsyncIterator[bytes]:
            try:
                deadline = time.monotonic() + MAX_SECONDS
                left, offset = size, 0
                while left > 0 and time.monotonic() < deadline:
                    n = min(CHUNK, left, len(_NOISE) - offset)
                    yield _NOISE[offset : offset + n]
                    left -= n
                    offset = (offset + n) % len(_NOISE)
            finally:
                running.give_back()

        return StreamingResponse(
            body(),
            media_type="application/octet-stream",
            headers={
                "Content-Length": str(size),
                "Cache-Control": "no-store",
                "Content-Encoding": "identity",
            },
        )

    @router.post(
        "/upload",
        responses=refusals(408, 413, 429),
        openapi_extra={
            "requestBody": {"content": {"application/octet-stream": {}}, "required": True}
        },
    )
    async def upload(request: Request) -> UploadResponse:
        """Reads and discards the body (at most 64 MiB, 30 s); answers how much and how long."""
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BYTES:
            raise ApiError("body_too_large", limit=MAX_BYTES)
        running.take()
        try:
            started = time.monotonic()
            received = 0
            async for chunk in request.stream():
                received += len(chunk)
                if received > MAX_BYTES:
                    raise ApiError("body_too_large", limit=MAX_BYTES)
                if time.monotonic() - started > MAX_SECONDS:
                    raise ApiError("speed_test_timeout", limit=int(MAX_SECONDS))
            return UploadResponse(bytes=received, seconds=round(time.monotonic() - started, 6))
        finally:
            running.give_back()

    return router
