"""Bounds request bodies before anything buffers them: control requests are small, and the
enrolment and speed-test calls take requests from anyone."""

from __future__ import annotations

from collections.abc import Collection

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ApiError

MAX_BODY = 256 * 1024


class BodyLimit:
    """Answers 413 to a request whose body is (declared or found) larger than `limit`; paths in
    `exempt` keep their own limits."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY, exempt: Collection[str] = ()) -> None:
        self.app = app
        self.limit = limit
        self.exempt = frozenset(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                await ApiError("body_too_large", limit=self.limit).response()(scope, receive, send)
                return
        received = 0

        async def bounded() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise ApiError("body_too_large", limit=self.limit)
            return message

        await self.app(scope, bounded, send)
