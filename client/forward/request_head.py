"""A browser's request head as the forwarder reads it: parsed strictly (anything two parsers could
read two ways is refused), and written again for the gateway with the agent's token."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")
_BEARER = re.compile(r"[\x21-\x7e]+")
_VERSIONS = (b"HTTP/1.1", b"HTTP/1.0")
AUTH_HEADER = "Proxy-Authorization"
CHUNKED = -1
"""`RequestHead.body_length` of a chunked body."""


class BadRequestError(ValueError):
    """The head cannot be carried safely; the browser gets a 400 page."""


@dataclass(frozen=True, slots=True)
class RequestHead:
    method: str
    target: str
    version: str
    headers: tuple[tuple[str, str], ...]
    """As received, names in their own case, in order."""

    def values(self, name: str) -> list[str]:
        wanted = name.lower()
        return [v for n, v in self.headers if n.lower() == wanted]

    @property
    def is_connect(self) -> bool:
        return self.method == "CONNECT"

    @property
    def is_local(self) -> bool:
        """Addressed to the forwarder itself (origin-form, e.g. `GET /proxy.pac`), not proxied."""
        return self.target.startswith("/")

    @property
    def upgrades(self) -> bool:
        """After this request the connection carries another protocol (e.g. WebSocket)."""
        return bool(self.values("Upgrade"))

    @property
    def body_length(self) -> int:
        """Bytes of body that follow the head, or CHUNKED. Checked by `parse_head`."""
        if self.values("Transfer-Encoding"):
            return CHUNKED
        lengths = self.values("Content-Length")
        return int(lengths[0]) if lengths else 0

    def for_gateway(self, token: str) -> bytes:
        """The head to send on: every `Proxy-Authorization` the browser sent is dropped (it
        could name someone else) and the agent's token put in its place."""
        if not _BEARER.fullmatch(token):
            raise ValueError("the session token holds characters a header cannot carry")
        lines = [f"{self.method} {self.target} {self.version}"]
        lines += [f"{n}: {v}" for n, v in self.headers if n.lower() != AUTH_HEADER.lower()]
        lines.append(f"{AUTH_HEADER}: Bearer {token}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def parse_head(raw: bytes) -> RequestHead:
    """`raw`: the request line and headers up to and including the blank line."""
    if not raw.endswith(b"\r\n\r\n"):
        raise BadRequestError("the request head does not end with a blank line")
    lines = raw[:-4].split(b"\r\n")
    if any(b"\n" in line or b"\r" in line or b"\0" in line for line in lines):
        raise BadRequestError("bare CR, LF or NUL in the request head")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]) or not parts[1]:
        raise BadRequestError("the request line is not METHOD TARGET VERSION")
    method, target, version = parts
    if version not in _VERSIONS:
        raise BadRequestError("only HTTP/1.0 and HTTP/1.1 are spoken here")
    if any(b < 0x21 or b > 0x7E for b in target):
        raise BadRequestError("the request target holds spaces or control characters")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        # No space before the colon, no folded lines: both are read differently by different
        # servers, which is how requests are smuggled past a proxy.
        if not colon or not _TOKEN.fullmatch(name) or not _VALUE.fullmatch(value):
            raise BadRequestError("a header line is malformed")
        headers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
    head = RequestHead(
        method.decode("ascii"), target.decode("ascii"), version.decode("ascii"), tuple(headers)
    )
    _check_framing(head)
    return head


def _check_framing(head: RequestHead) -> None:
    encodings = head.values("Transfer-Encoding")
    lengths = head.values("Content-Length")
    if encodings:
        if lengths:
            raise BadRequestError("both Transfer-Encoding and Content-Length")
        if [e.strip().lower() for e in ",".join(encodings).split(",")] != ["chunked"]:
            raise BadRequestError("a Transfer-Encoding other than chunked")
        if head.version == "HTTP/1.0":
            raise BadRequestError("Transfer-Encoding in an HTTP/1.0 request")
    if lengths and (len(set(lengths)) != 1 or not re.fullmatch(r"[0-9]{1,15}", lengths[0])):
        raise BadRequestError("Content-Length is not one plain number")
    if head.is_connect and (encodings or (lengths and int(lengths[0]) != 0)):
        raise BadRequestError("a CONNECT request with a body")


def chunk_size(line: bytes) -> int:
    """The size on a chunk's size line (extensions after `;` ignored); BadRequestError if none."""
    size = line.rstrip(b"\r\n").split(b";", 1)[0].strip(b" \t")
    if not size or len(size) > 15 or not re.fullmatch(rb"[0-9A-Fa-f]+", size):
        raise BadRequestError("a chunk size that is not a hex number")
    return int(size, 16)
