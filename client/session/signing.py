"""Signing control API requests with the device key, as the gateway checks them (the format is
documented in the gateway's core/device_auth.py; reimplemented here because the client never
imports the gateway)::

    Authorization: HA-Device agent="A1023", ts="1764748800", sig="<base64>"

`sig` is Ed25519 over "METHOD\\nTARGET\\nTS\\nhex(sha256(body))", UTF-8, no trailing newline."""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SCHEME = "HA-Device"


def signed_text(method: str, target: str, ts: int, body: bytes) -> bytes:
    """What the device signs for one request; `target` is the path and `?query` as sent."""
    digest = hashlib.sha256(body).hexdigest()
    return f"{method.upper()}\n{target}\n{ts}\n{digest}".encode()


def authorization_header(
    key: Ed25519PrivateKey, agent: str, method: str, target: str, body: bytes, ts: int
) -> str:
    """The `Authorization` value for one request made at Unix time `ts` (whole seconds)."""
    signature = base64.b64encode(key.sign(signed_text(method, target, ts, body))).decode()
    return f'{SCHEME} agent="{agent}", ts="{ts}", sig="{signature}"'


def sign_report(key: Ed25519PrivateKey, report_json: str) -> str:
    """Standard base64 of the signature over a posture report's exact UTF-8 text."""
    return base64.b64encode(key.sign(report_json.encode())).decode()
