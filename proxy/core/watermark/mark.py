"""The mark itself: agent, time and reference, sealed with a truncated HMAC-SHA256.

Wire format, version 1 (big-endian), 23 bytes for an agent ID of 5 characters:

    header   1 byte   version (3 high bits, = 1) | agent length - 1 (5 low bits)
    agent    1-32     printable ASCII
    time     4 bytes  seconds since 1970-01-01 UTC (unsigned, good until 2106)
    ref      5 bytes  the 8-character base32 reference, decoded
    tag      8 bytes  HMAC-SHA256(key, DOMAIN + everything above), first 64 bits

Why 64 bits of tag: a forger has no verification oracle (only the officer's `trace` holds the key,
offline), so each forged mark is one blind guess that passes with probability 2^-64, and seeing any
number of genuine marks does not help against HMAC. RFC 2104's generic advice (>= 80 bits) guards
against online guessing and birthday attacks, neither of which applies here; each further byte
would cost about three more invisible characters in every repetition of the mark.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct
from dataclasses import dataclass
from datetime import UTC, datetime

from .errors import MarkFormatError

VERSION = 1
TAG_BYTES = 8
REFERENCE_CHARS = 8
MIN_KEY_BYTES = 16
MAX_AGENT_CHARS = 32
DOMAIN = b"homeagent/watermark/v1\x00"
"""Domain separation: the same key file can never make a tag valid for another purpose."""

_AGENT = re.compile(r"[\x21-\x7e]{1,32}")
_REFERENCE = re.compile(r"[A-Z2-7]{8}")
_TIME = struct.Struct(">I")


@dataclass(frozen=True, slots=True)
class Mark:
    """Who saw it, when, and the reference the audit log keeps for that response."""

    agent: str
    """Printable ASCII without spaces, 1-32 characters (gateway IDs look like A1023)."""
    issued_at: datetime
    """Timezone-aware; held in UTC, whole seconds."""
    reference: str
    """Eight RFC 4648 base32 characters (A-Z, 2-7): 40 random bits."""

    def __post_init__(self) -> None:
        if not _AGENT.fullmatch(self.agent):
            raise MarkFormatError(
                f"agent ID {self.agent!r} must be 1-{MAX_AGENT_CHARS} printable ASCII characters"
                " without spaces"
            )
        if not _REFERENCE.fullmatch(self.reference):
            raise MarkFormatError(
                f"reference {self.reference!r} must be {REFERENCE_CHARS} base32 characters"
                " (A-Z, 2-7)"
            )
        if self.issued_at.tzinfo is None or self.issued_at.utcoffset() is None:
            raise MarkFormatError("issued_at must be timezone-aware (UTC)")
        moment = self.issued_at.astimezone(UTC).replace(microsecond=0)
        if not 0 <= moment.timestamp() < 2**32:
            raise MarkFormatError(f"issued_at {moment.isoformat()} is outside 1970-2106")
        object.__setattr__(self, "issued_at", moment)


@dataclass(frozen=True, slots=True)
class SealedMark:
    """A mark as read back from a text: the fields, the signed bytes and the tag found."""

    mark: Mark
    signed: bytes
    tag: bytes


def new_reference() -> str:
    """A fresh random reference for one response (the audit log stores it)."""
    return base64.b32encode(secrets.token_bytes(5)).decode("ascii")


def sign(mark: Mark, key: bytes) -> bytes:
    """The compact binary mark with its tag."""
    check_key(key)
    agent = mark.agent.encode("ascii")
    signed = (
        bytes([VERSION << 5 | (len(agent) - 1)])
        + agent
        + _TIME.pack(int(mark.issued_at.timestamp()))
        + base64.b32decode(mark.reference)
    )
    return signed + _tag(signed, key)


def unseal(data: bytes) -> SealedMark:
    """Read a binary mark without judging its tag; MarkFormatError if it is not one."""
    if not data:
        raise MarkFormatError("empty mark")
    version, agent_length = data[0] >> 5, (data[0] & 0x1F) + 1
    if version != VERSION:
        raise MarkFormatError(f"unknown mark version {version}")
    expected = 1 + agent_length + _TIME.size + 5 + TAG_BYTES
    if len(data) != expected:
        raise MarkFormatError(f"mark is {len(data)} bytes, expected {expected}")
    agent_end = 1 + agent_length
    time_end = agent_end + _TIME.size
    try:
        agent = data[1:agent_end].decode("ascii")
    except UnicodeDecodeError:
        raise MarkFormatError("agent ID is not ASCII") from None
    (seconds,) = _TIME.unpack(data[agent_end:time_end])
    try:
        reference = base64.b32encode(data[time_end : time_end + 5]).decode("ascii")
    except binascii.Error as err:  # pragma: no cover - 5 bytes always encode
        raise MarkFormatError(str(err)) from None
    mark = Mark(agent, datetime.fromtimestamp(seconds, UTC), reference)
    return SealedMark(mark, data[:-TAG_BYTES], data[-TAG_BYTES:])


def verify(sealed: SealedMark, key: bytes) -> bool:
    """True only when the tag was made with this key over exactly these fields."""
    check_key(key)
    return hmac.compare_digest(_tag(sealed.signed, key), sealed.tag)


def _tag(signed: bytes, key: bytes) -> bytes:
    return hmac.new(key, DOMAIN + signed, hashlib.sha256).digest()[:TAG_BYTES]


def check_key(key: bytes) -> None:
    """ValueError unless the key is long enough to sign marks with."""
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"a watermark key needs at least {MIN_KEY_BYTES} bytes, got {len(key)}")
