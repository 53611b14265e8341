"""DESIGN.md's threat list, one test each, through the same engines the gateway runs with the
worked example policy. Detailed cases live in the per-area test files; this is the index that
shows every listed threat denied, masked or blocked."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import zlib
from collections.abc import Callable
from pathlib import Path

import brotli
import pytest
import zstandard
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from homeagent.proxy.core.access import AccessPolicy
from homeagent.proxy.core.audit_chain import AuditChain, verify_chain
from homeagent.proxy.core.forbidden.scanner import PhraseScanner
from homeagent.proxy.core.limits import RateLimits
from homeagent.proxy.core.masking import BodyTooLargeError, Masker
from homeagent.proxy.core.policy.loader import LoadedPolicy, load_policy
from homeagent.proxy.core.session_token import SessionClaims, TokenError, issue_token, read_token
from homeagent.proxy.core.watermark import MarkReader, Watermarker

ACME = Path(__file__).resolve().parent.parent / "policies" / "examples" / "acme.yaml"
DEFAULT = ACME.parent.parent / "default.yaml"
CRM = "https://crm.acme.test/customers/1001"
CHAT = "https://chat.acme.test/messages/42"
MOBILE, ID_NO, CARD = "13800138000", "11010519491231002X", "6222021234567890128"


@pytest.fixture(scope="module")
def acme() -> LoadedPolicy:
    return load_policy(ACME)


@pytest.fixture(scope="module")
def access(acme: LoadedPolicy) -> AccessPolicy:
    return AccessPolicy(acme.policy)


@pytest.fixture(scope="module")
def masker(acme: LoadedPolicy) -> Masker:
    return Masker(acme.policy, b"k" * 32)


@pytest.mark.parametrize(
    ("threat", "url", "also_named"),
    [
        ("user@host", "https://crm.acme.test@evil.test/customers/1", ()),
        ("percent-encoding", "https://crm.acme.test/customers%2f..%2fadmin", ()),
        ("dot segments", "https://crm.acme.test/customers/../admin/users", ()),
        ("encoded dot segments", "https://crm.acme.test/customers/%2e%2e/admin", ()),
        ("case", "https://crm.acme.test/CUSTOMERS/1", ()),
        ("trailing dot, other host", "https://evil.test./customers/1", ()),
        ("IDNA look-alike host", "https://crm.acme.tеst/customers/1", ()),  # Cyrillic е
        ("IP literal", "https://127.0.0.1/customers/1", ()),
        ("decimal IP literal", "https://2130706433/customers/1", ()),
        ("absolute-form vs Host header", CRM, ("evil.test",)),
        ("CONNECT to one host, SNI of another", CRM, ("crm.acme.test:443", "reports.acme.test")),
    ],
)
def test_url_tricks_are_denied(
    access: AccessPolicy, threat: str, url: str, also_named: tuple[str, ...]
) -> None:
    decision = access.decide("inbound", "GET", url, also_named=also_named)
    assert decision.decision == "deny", threat


CODECS: dict[str, tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]] = {
    "gzip": (gzip.compress, gzip.decompress),
    "deflate": (zlib.compress, zlib.decompress),
    "br": (brotli.compress, brotli.decompress),
    "zstd": (zstandard.ZstdCompressor().compress, zstandard.ZstdDecompressor().decompress),
}


@pytest.mark.parametrize("encoding", sorted(CODECS))
def test_compressed_bodies_are_masked(masker: Masker, encoding: str) -> None:
    compress, decompress = CODECS[encoding]
    body = compress(json.dumps({"phone": MOBILE, "id": ID_NO}).encode())
    result = masker.mask_body(
        body, content_type="application/json", content_encoding=encoding, role="inbound", url=CRM
    )
    seen = decompress(result.body).decode()
    assert MOBILE not in seen and ID_NO not in seen
    assert "138****8000" in seen


@pytest.mark.parametrize(
    ("threat", "body", "content_type", "secret"),
    [
        (
            "GB18030 charset",
            f"客户手机 {MOBILE}".encode("gb18030"),
            "text/plain; charset=gb18030",
            MOBILE,
        ),
        ("GBK charset", f"<p>张先生 {MOBILE}</p>".encode("gbk"), "text/html; charset=gbk", MOBILE),
        ("JSON number", f'{{"m": {MOBILE}}}'.encode(), "application/json", MOBILE),
        (
            "JSON \\u escapes",
            json.dumps({"m": MOBILE}, ensure_ascii=True).replace("1", "\\u0031").encode(),
            "application/json",
            MOBILE,
        ),
        ("HTML entities", b"<p>&#49;3800138000 &#x31;3900139000</p>", "text/html", "3800138000"),
        (
            "full-width digits",
            "电话 １３８００１３８０００".encode(),
            "text/plain; charset=utf-8",
            "１３８００１３８０００",
        ),
        (
            "separators inside numbers",
            b"card 6222-0212-3456-7890-128 tel 138 0013 8000",
            "text/plain",
            "3456-7890",
        ),
    ],
)
def test_personal_data_does_not_slip_through(
    masker: Masker, threat: str, body: bytes, content_type: str, secret: str
) -> None:
    result = masker.mask_body(
        body, content_type=content_type, content_encoding=None, role="inbound", url=CRM
    )
    charset = content_type.partition("charset=")[2] or "utf-8"
    out = result.body.decode("gb18030" if charset in ("gbk", "gb18030") else charset)
    assert secret not in out, threat
    assert "13800138000" not in out and "13900139000" not in out


def test_data_split_across_chunks_is_masked(masker: Masker) -> None:
    body = json.dumps({"note": f"身份证 {ID_NO} 卡 {CARD}"}, ensure_ascii=False).encode()
    chunks = [body[i : i + 7] for i in range(0, len(body), 7)]
    result = masker.mask_chunks(
        chunks, content_type="application/json", content_encoding=None, role="inbound", url=CRM
    )
    assert ID_NO not in result.body.decode() and CARD not in result.body.decode()


def test_very_large_bodies_are_refused_not_passed(masker: Masker, acme: LoadedPolicy) -> None:
    limit = acme.policy.masking.max_body_bytes
    with pytest.raises(BodyTooLargeError):
        masker.mask_body(
            b"x" * (limit + 1),
            content_type="text/plain",
            content_encoding=None,
            role="inbound",
            url=CRM,
        )
    bomb = gzip.compress(b"0" * (limit + 1))  # small on the wire, over the limit unpacked
    with pytest.raises(BodyTooLargeError):
        masker.mask_body(
            bomb, content_type="text/plain", content_encoding="gzip", role="inbound", url=CRM
        )


@pytest.mark.parametrize(
    ("threat", "message"),
    [
        ("full-width forms", "ｇｕａｒａｎｔｅｅｄ ｒｅｆｕｎｄ"),
        ("zero-width characters", "加\u200b我\u200d微\u2060信"),
        ("soft hyphens", "guaran\u00adteed re\u00adfund"),
        ("spacing", "加 我 微 信"),
        ("look-alike characters", "guаrаnteed refund"),  # Cyrillic а
        ("traditional characters", "私下轉賬"),
    ],
)
def test_forbidden_words_do_not_slip_through(acme: LoadedPolicy, threat: str, message: str) -> None:
    result = PhraseScanner.from_policy(acme).scan(message, role="chat", method="POST", url=CHAT)
    assert result.blocked, threat


def test_bulk_harvesting_is_stopped(acme: LoadedPolicy) -> None:
    limits = RateLimits(acme.policy)
    verdicts = [limits.hit("A1023", "inbound", "GET", f"{CRM}{i}", float(i)) for i in range(200)]
    assert not all(v.allowed for v in verdicts)
    assert {v.rule for v in verdicts if not v.allowed} == {"limit.customer-reads"}


def test_access_out_of_hours_is_denied() -> None:
    access = AccessPolicy(load_policy(DEFAULT).policy)
    sunday = dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert (
        access.decide("outbound", "GET", "https://crm.example.test/", when=sunday).rule
        == "outbound.hours"
    )


def test_tampering_with_the_audit_log_is_found() -> None:
    key = Ed25519PrivateKey.generate()
    chain = AuditChain("gw-1", key)
    records = [
        chain.append("flow", {"agent": "A1023", "n": i}, at="2026-12-03T10:00:00Z")
        for i in range(3)
    ]
    records[1]["data"]["agent"] = "A9999"
    assert verify_chain("gw-1", records, key.public_key()).first_bad_seq == 2


def test_forged_watermarks_do_not_verify(acme: LoadedPolicy) -> None:
    text = "客户反映上次的账单有问题，希望尽快处理，并且需要回电确认处理结果。" * 10
    now = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)
    forged = Watermarker(acme.policy, b"f" * 32).watermark_body(
        text, kind="text", agent="A1023", now=now, reference="ABCDEFGH"
    )
    genuine = Watermarker(acme.policy, b"k" * 32).watermark_body(
        text, kind="text", agent="A1023", now=now, reference="ABCDEFGH"
    )
    reader = MarkReader(b"k" * 32)
    assert [m.verified for m in reader.trace(genuine)] == [True]
    assert [m.verified for m in reader.trace(forged)] == [False]


def test_a_session_token_replayed_after_clock_out_is_refused() -> None:
    key = Ed25519PrivateKey.generate()
    token = issue_token(SessionClaims("A1023", "dev", "inbound", "s-9", 0.0, 3600.0), key)
    with pytest.raises(TokenError, match="session has ended"):
        read_token(token, [key.public_key()], now=10.0, is_revoked={"s-9"}.__contains__)
