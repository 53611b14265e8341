"""Requests signed by an agent's device key, as the control API checks them. Pure.

The client signs every control request (except enrolment, speed tests and health) with its
Ed25519 device key and sends::

    Authorization: HA-Device agent="A1023", ts="1764748800", sig="<base64>"

`ts` is the client's Unix time in whole seconds; `sig` is standard base64 (with padding) of the
Ed25519 signature over these four lines, joined by "\\n" with no newline at the end, UTF-8::

    POST                        the method, upper case
    /v1/status?x=1              the request target as sent: path, and "?query" when there is one
    1764748800                  ts, exactly as in the header
    9f86d081884c7d65...         hex SHA-256 of the body bytes as sent (of b"" when none)

The gateway refuses a `ts` more than 300 s from its own clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SCHEME = "HA-Device"
MAX_CLOCK_SKEW_SECONDS = 300

_PARAM = re.compile(r'\s*([a-z]+)="([^"]*)"\s*(?:,|$)')
_AGENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_TS = re.compile(r"[0-9]{1,12}")


class DeviceAuthError(ValueError):
    """A request that must not be trusted. `reason`: `malformed`, `clocks_apart` or
    `bad_signature`."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class DeviceSignature:
    agent: str
    ts: int
    signature: bytes


def signed_text(method: str, target: str, ts: int, body: bytes) -> bytes:
    """What the device signs for one request."""
    digest = hashlib.sha256(body).hexdigest()
    return f"{method.upper()}\n{target}\n{ts}\n{digest}".encode()


def authorization(
    key: Ed25519PrivateKey, agent: str, method: str, target: str, body: bytes, ts: int
) -> str:
    """The `Authorization` header value for one request (what the client sends)."""
    signature = base64.b64encode(key.sign(signed_text(method, target, ts, body))).decode()
    return f'{SCHEME} agent="{agent}", ts="{ts}", sig="{signature}"'


def parse_authorization(value: str) -> DeviceSignature:
    """The agent, time and signature in an `Authorization` header, or DeviceAuthError."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme != SCHEME:
        raise DeviceAuthError("malformed", f'expected the "{SCHEME}" scheme')
    params: dict[str, str] = {}
    position = 0
    rest = rest.strip()
    while position < len(rest):
        match = _PARAM.match(rest, position)
        if match is None or match.end() == position:
            raise DeviceAuthError("malformed", 'expected agent="…", ts="…", sig="…"')
        name, text = match.groups()
        if name in params:
            raise DeviceAuthError("malformed", f"{name} appears twice")
        params[name] = text
        position = match.end()
    if set(params) != {"agent", "ts", "sig"}:
        raise DeviceAuthError("malformed", "expected exactly agent, ts and sig")
    if not _AGENT.fullmatch(params["agent"]):
        raise DeviceAuthError("malformed", "agent is not an agent ID")
    if not _TS.fullmatch(params["ts"]):
        raise DeviceAuthError("malformed", "ts must be Unix time in whole seconds")
    try:
        signature = base64.b64decode(params["sig"], validate=True)
    except binascii.Error:
        raise DeviceAuthError("malformed", "sig is not base64") from None
    if len(signature) != 64:
        raise DeviceAuthError("malformed", "sig is not an Ed25519 signature (64 bytes)")
    return DeviceSignature(params["agent"], int(params["ts"]), signature)


def verify_request(
    signed: DeviceSignature,
    public_key: bytes,
    method: str,
    target: str,
    body: bytes,
) -> None:
    """DeviceAuthError(`bad_signature`) unless the device key signed this request."""
    verify_signed_text(signed, public_key, signed_text(method, target, signed.ts, body))


def verify_signed_text(signed: DeviceSignature, public_key: bytes, text: bytes) -> None:
    """As verify_request, for a request whose `signed_text` is already made (one text, tried
    against each of an agent's devices)."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signed.signature, text)
    except (InvalidSignature, ValueError):
        raise DeviceAuthError("bad_signature", "the signature does not verify") from None


def check_clock(signed: DeviceSignature, now: float) -> None:
    """DeviceAuthError(`clocks_apart`) when the request's time is too far from `now`."""
    apart = abs(now - signed.ts)
    if apart > MAX_CLOCK_SKEW_SECONDS:
        raise DeviceAuthError(
            "clocks_apart",
            f"clocks apart: the request is {apart:.0f} s from the gateway's time "
            f"(at most {MAX_CLOCK_SKEW_SECONDS})",
        )
