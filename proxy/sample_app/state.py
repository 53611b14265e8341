"""What one running sample app holds: the seeded records and what agents posted since start."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from starlette.requests import Request

from .dataset import ChatMessage, Dataset

MAX_POST_BYTES = 64 * 1024


class RequestError(Exception):
    """A request the app refuses, with the status and a sentence saying what to send instead."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass
class SampleState:
    dataset: Dataset
    chats: dict[str, list[ChatMessage]] = field(default_factory=dict)
    notes: dict[int, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for session in self.dataset.chats:
            self.chats[session.id] = list(session.messages)

    def add_note(self, customer_id: int, note: str) -> list[str]:
        with self.lock:
            notes = self.notes.setdefault(customer_id, [])
            notes.append(note)
            return list(notes)

    def add_chat_message(self, session: str, sender: str, text: str) -> list[ChatMessage]:
        with self.lock:
            messages = self.chats.setdefault(session, [])
            messages.append(ChatMessage(len(messages) + 1, sender, text, int(time.time() * 1000)))
            return list(messages)


async def posted_fields(request: Request) -> dict[str, str]:
    """The fields of a JSON object or form-encoded body; RequestError for anything else."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_POST_BYTES):
        raise RequestError(413, f"send at most {MAX_POST_BYTES} bytes")
    body = await request.body()
    if len(body) > MAX_POST_BYTES:
        raise RequestError(413, f"send at most {MAX_POST_BYTES} bytes")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestError(400, "the body is not UTF-8") from None
    if media_type == "application/x-www-form-urlencoded":
        return {key: values[-1] for key, values in parse_qs(text, keep_blank_values=True).items()}
    if media_type == "application/json":
        try:
            value = json.loads(text)
        except json.JSONDecodeError as err:
            raise RequestError(400, f"the body is not valid JSON ({err})") from None
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise RequestError(422, "send a JSON object whose values are strings")
        return value
    raise RequestError(
        415, "send application/json or application/x-www-form-urlencoded, not " + repr(media_type)
    )
