"""Session tokens: short-lived, signed by the gateway, bound to agent and device, so that any
gateway instance can check them without a lookup, and a revoked session is refused.

Format: `ha1.<base64url claims JSON>.<base64url Ed25519 signature>`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PREFIX = "ha1"
CLOCK_LEEWAY_SECONDS = 120.0
"""How far apart instances' clocks may be before a fresh token seems issued in the future."""


class TokenError(ValueError):
    """The token must not be accepted; the message says why (for the audit log)."""


@dataclass(frozen=True, slots=True)
class SessionClaims:
    agent: str
    device: str
    """The device key's fingerprint: the token is only good with the device that clocked in."""
    role: str
    session: str
    """The shift's session ID; clock-out revokes it."""
    issued_at: float
    expires_at: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(claims: SessionClaims, key: Ed25519PrivateKey) -> str:
    body = _b64(json.dumps(asdict(claims), sort_keys=True, separators=(",", ":")).encode())
    signature = _b64(key.sign(f"{PREFIX}.{body}".encode()))
    return f"{PREFIX}.{body}.{signature}"


def read_token(
    token: str,
    keys: list[Ed25519PublicKey],
    *,
    now: float,
    is_revoked: Callable[[str], bool],
) -> SessionClaims:
    """The claims of a valid token, or TokenError. `keys`: the gateway's current and previous
    signing keys (rotation); `is_revoked(session)` asks the store."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise TokenError("not a homeagent session token")
    signed = f"{parts[0]}.{parts[1]}".encode()
    try:
        signature = _unb64(parts[2])
    except (binascii.Error, ValueError) as err:
        raise TokenError("token signature is not base64url") from err
    for key in keys:
        try:
            key.verify(signature, signed)
            break
        except InvalidSignature:
            continue
    else:
        raise TokenError("token signature does not verify")
    try:
        claims = SessionClaims(**json.loads(_unb64(parts[1])))
    except (binascii.Error, ValueError, TypeError) as err:
        raise TokenError("token claims are malformed") from err
    if now >= claims.expires_at:
        raise TokenError("session token has expired; clock in again")
    if claims.issued_at > now + CLOCK_LEEWAY_SECONDS:
        raise TokenError("session token is issued in the future (clocks apart?)")
    if is_revoked(claims.session):
        raise TokenError("session has ended (clocked out, disabled or posture expired)")
    return claims
