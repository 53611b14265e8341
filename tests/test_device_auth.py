"""Device-signed control requests: the format the client re-implements, checked strictly."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from homeagent.proxy.core.device_auth import (
    DeviceAuthError,
    authorization,
    check_clock,
    parse_authorization,
    signed_text,
    verify_request,
)

from .store_fixtures import raw_public

KEY = Ed25519PrivateKey.generate()
PUBLIC = raw_public(KEY)
BODY = b'{"status":"ready"}'
TS = 1_764_748_800


def signed(target: str = "/v1/status", body: bytes = BODY, method: str = "POST") -> str:
    return authorization(KEY, "A1023", method, target, body, TS)


def test_the_signed_text_is_four_lines_as_documented() -> None:
    digest = hashlib.sha256(BODY).hexdigest()
    assert signed_text("post", "/v1/status?x=1", TS, BODY) == (
        f"POST\n/v1/status?x=1\n{TS}\n{digest}".encode()
    )


def test_a_signed_request_verifies() -> None:
    parsed = parse_authorization(signed())
    assert (parsed.agent, parsed.ts) == ("A1023", TS)
    verify_request(parsed, PUBLIC, "POST", "/v1/status", BODY)


def test_a_header_written_by_hand_parses() -> None:
    sig = base64.b64encode(KEY.sign(signed_text("GET", "/v1/settings", TS, b""))).decode()
    header = f'HA-Device   agent="A1023",ts="{TS}" ,  sig="{sig}"'
    verify_request(parse_authorization(header), PUBLIC, "GET", "/v1/settings", b"")


@pytest.mark.parametrize(
    ("method", "target", "body", "key"),
    [
        ("GET", "/v1/status", BODY, PUBLIC),
        ("POST", "/v1/status?x=1", BODY, PUBLIC),
        ("POST", "/v1/heartbeat", BODY, PUBLIC),
        ("POST", "/v1/status", BODY + b" ", PUBLIC),
        ("POST", "/v1/status", BODY, raw_public(Ed25519PrivateKey.generate())),
        ("POST", "/v1/status", BODY, b"\x00" * 31),
    ],
)
def test_anything_changed_fails_the_signature(
    method: str, target: str, body: bytes, key: bytes
) -> None:
    with pytest.raises(DeviceAuthError, match="does not verify") as caught:
        verify_request(parse_authorization(signed()), key, method, target, body)
    assert caught.value.reason == "bad_signature"


SIG = base64.b64encode(b"\x01" * 64).decode()


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (f'Bearer agent="A1023", ts="{TS}", sig="{SIG}"', 'expected the "HA-Device" scheme'),
        (f'HA-Device agent="A1023", ts="{TS}"', "exactly agent, ts and sig"),
        (f'HA-Device agent="A1023", ts="{TS}", sig="{SIG}", x="1"', "exactly agent, ts and sig"),
        (f'HA-Device agent="A1023", agent="B", ts="{TS}", sig="{SIG}"', "agent appears twice"),
        (f"HA-Device agent=A1023, ts={TS}, sig={SIG}", 'expected agent="…"'),
        (f'HA-Device agent="A 1023", ts="{TS}", sig="{SIG}"', "not an agent ID"),
        (f'HA-Device agent="A1023", ts="-5", sig="{SIG}"', "whole seconds"),
        (f'HA-Device agent="A1023", ts="1.5", sig="{SIG}"', "whole seconds"),
        (f'HA-Device agent="A1023", ts="{TS}", sig="%%%"', "not base64"),
        (f'HA-Device agent="A1023", ts="{TS}", sig="AAAA"', "64 bytes"),
        ("HA-Device", "exactly agent, ts and sig"),
    ],
)
def test_a_malformed_header_is_refused(header: str, message: str) -> None:
    with pytest.raises(DeviceAuthError, match=message) as caught:
        parse_authorization(header)
    assert caught.value.reason == "malformed"


@pytest.mark.parametrize(("offset", "ok"), [(0, True), (300, True), (-300, True), (301, False),
                                            (-301, False), (86_400, False)])  # fmt: skip
def test_the_clock_may_be_five_minutes_off_either_way(offset: int, ok: bool) -> None:
    parsed = parse_authorization(signed())
    if ok:
        check_clock(parsed, TS + offset)
    else:
        with pytest.raises(DeviceAuthError, match="clocks apart") as caught:
            check_clock(parsed, TS + offset)
        assert caught.value.reason == "clocks_apart"
