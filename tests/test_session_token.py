"""Session tokens: signed, bound, short-lived; a replay after clock-out is refused."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from homeagent.proxy.core.session_token import SessionClaims, TokenError, issue_token, read_token

KEY = Ed25519PrivateKey.generate()
CLAIMS = SessionClaims(
    "A1023", "dev-7f3a", "inbound", "s-1", issued_at=1000.0, expires_at=1000.0 + 8 * 3600
)


def _never(session: str) -> bool:
    return False


def test_a_fresh_token_reads_back_its_claims() -> None:
    token = issue_token(CLAIMS, KEY)
    assert read_token(token, [KEY.public_key()], now=1100.0, is_revoked=_never) == CLAIMS


def test_a_token_signed_by_a_previous_key_still_reads_during_rotation() -> None:
    token = issue_token(CLAIMS, KEY)
    keys = [Ed25519PrivateKey.generate().public_key(), KEY.public_key()]
    assert read_token(token, keys, now=1100.0, is_revoked=_never).agent == "A1023"


def test_a_token_replayed_after_clock_out_is_refused() -> None:
    token = issue_token(CLAIMS, KEY)
    revoked = {"s-1"}
    with pytest.raises(TokenError, match="session has ended"):
        read_token(token, [KEY.public_key()], now=1100.0, is_revoked=revoked.__contains__)


@pytest.mark.parametrize(
    ("mangle", "now", "message"),
    [
        (lambda t: t, 1000.0 + 8 * 3600, "expired"),
        (lambda t: t, 800.0, "issued in the future"),
        (lambda t: t.replace("ha1.", "ha2.", 1), 1100.0, "not a homeagent session token"),
        (
            lambda t: t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB"),
            1100.0,
            "does not verify",
        ),
        (
            lambda t: t.split(".")[0] + "." + t.split(".")[1][:-2] + "." + t.split(".")[2],
            1100.0,
            "does not verify",
        ),
        (lambda t: "x", 1100.0, "not a homeagent session token"),
    ],
)
def test_bad_tokens_are_refused_with_a_reason(
    mangle: Callable[[str], str], now: float, message: str
) -> None:
    token = mangle(issue_token(CLAIMS, KEY))
    with pytest.raises(TokenError, match=message):
        read_token(token, [KEY.public_key()], now=now, is_revoked=_never)


def test_a_token_with_changed_claims_does_not_verify() -> None:
    head, body, sig = issue_token(CLAIMS, KEY).split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["role"] = "supervisor"
    forged_body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(TokenError, match="does not verify"):
        read_token(f"{head}.{forged_body}.{sig}", [KEY.public_key()], now=1100.0, is_revoked=_never)
