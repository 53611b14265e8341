"""Responses in the encodings the gateway must see through: gzip, br, GB18030, `\\u` escapes.

A compressed route uses its coding whenever the client accepts it (httpx does, and browsers do
over HTTPS; Chromium refuses br over plain HTTP), and sends the body as it is otherwise.
"""

from __future__ import annotations

import gzip
import json
from typing import Literal

import brotli
from starlette.requests import Request
from starlette.responses import Response

Compression = Literal["identity", "gzip", "br"]


def compressed(request: Request, preferred: Compression) -> Compression:
    """`preferred` if the request's Accept-Encoding allows it (q above 0), else identity."""
    for item in request.headers.get("accept-encoding", "").split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() not in (preferred, "*"):
            continue
        quality = params.strip().removeprefix("q=").strip() if params else "1"
        try:
            accepted = float(quality) > 0
        except ValueError:
            accepted = False
        if accepted:
            return preferred
    return "identity"


def encoded(
    body: bytes, media_type: str, compression: Compression = "identity", status: int = 200
) -> Response:
    headers = {"Vary": "Accept, Accept-Encoding"}
    match compression:
        case "gzip":
            # mtime=0 keeps the bytes identical from run to run
            body = gzip.compress(body, mtime=0)
            headers["Content-Encoding"] = "gzip"
        case "br":
            # quality 5, as servers use for dynamic pages: 11 (the default) costs ~5 ms a page
            body = brotli.compress(body, quality=5)
            headers["Content-Encoding"] = "br"
        case "identity":
            pass
    return Response(body, status_code=status, media_type=media_type, headers=headers)


def json_body(value: object, *, ascii_only: bool = False) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only, separators=(",", ":")).encode(
        "ascii" if ascii_only else "utf-8"
    )


def json_response(
    value: object,
    compression: Compression = "identity",
    *,
    status: int = 200,
    ascii_only: bool = False,
) -> Response:
    return encoded(
        json_body(value, ascii_only=ascii_only),
        "application/json",
        compression,
        status,
    )


def html_response(
    page: str,
    compression: Compression = "identity",
    *,
    charset: Literal["utf-8", "gb18030"] = "utf-8",
    status: int = 200,
) -> Response:
    # Starlette would add "; charset=utf-8" to a text/ type, so the charset is spelled out here.
    return encoded(page.encode(charset), f"text/html; charset={charset}", compression, status)


def wants_json(request: Request) -> bool:
    """The request asks for JSON: a `.json` path, or JSON preferred in Accept."""
    if request.url.path.endswith(".json"):
        return True
    accept = request.headers.get("accept", "")
    first = accept.split(",")[0].split(";")[0].strip().lower()
    return first == "application/json" or (
        "application/json" in accept and "text/html" not in accept
    )


def problem(status: int, detail: str) -> Response:
    """An error as JSON a person can read: what happened and what to do."""
    return json_response({"status": status, "detail": detail}, status=status)
