"""chat.acme.test: chat sessions; agents read and post messages under /messages/{session}."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .pages import render
from .responses import html_response, json_response
from .state import RequestError, SampleState, posted_fields

SYSTEM = "在线客服 Chat"
MAX_TEXT = 2000
_SESSION = re.compile(r"[A-Za-z0-9_-]{1,40}")


class ChatRoutes:
    def __init__(self, state: SampleState) -> None:
        self.state = state

    def _session(self, request: Request) -> str:
        session: str = request.path_params["session"]
        if not _SESSION.fullmatch(session):
            raise RequestError(400, "a session id is 1 to 40 letters, digits, '-' or '_'")
        return session

    def _body(self, session: str) -> dict[str, object]:
        messages = self.state.chats.get(session, [])
        return {"session": session, "messages": [m.as_json() for m in messages]}

    async def console(self, request: Request) -> Response:
        sessions = [
            {"id": s, "messages": [m.as_json() for m in ms]} for s, ms in self.state.chats.items()
        ]
        return html_response(render("chat.html", system=SYSTEM, title="会话", sessions=sessions))

    async def sessions(self, request: Request) -> Response:
        listed = [{"session": s, "count": len(ms)} for s, ms in self.state.chats.items()]
        return json_response({"sessions": listed})

    async def read(self, request: Request) -> Response:
        session = self._session(request)
        if session not in self.state.chats:
            raise RequestError(404, f"no chat session {session!r}; see /messages/ for the list")
        return json_response(self._body(session))

    async def post(self, request: Request) -> Response:
        session = self._session(request)
        fields = await posted_fields(request)
        text = fields.get("text", "").strip()
        if not text or len(text) > MAX_TEXT:
            raise RequestError(422, f"send a 'text' field of 1 to {MAX_TEXT} characters")
        self.state.add_chat_message(session, "agent", text)
        return json_response(self._body(session), status=201)


def routes(state: SampleState) -> list[BaseRoute]:
    chat = ChatRoutes(state)
    return [
        Route("/", chat.console),
        Route("/messages/", chat.sessions),
        Route("/messages/{session}", chat.read, methods=["GET"]),
        Route("/messages/{session}", chat.post, methods=["POST"]),
    ]
