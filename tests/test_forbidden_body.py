"""Reading request bodies: every text a reader could see, or a typed error (fail closed)."""

from __future__ import annotations

import pytest

from homeagent.proxy.core.forbidden import UndecodableBodyError, body_text


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b'{"m": "\\u52a0\\u6211\\u5fae\\u4fe1"}', "application/json", "加我微信"),
        (b'{"m": "a", "m": "hidden"}', "application/json", "hidden"),  # duplicate keys kept
        (b'{"\\u52a0\\u6211": 1}', "application/json", "加我"),  # keys too
        (b'[{"x": ["deep"]}]', "application/vnd.api+json", "deep"),
        ('{"m": "加我"}'.encode("utf-16"), "application/json", "加我"),  # detected UTF-16
        (b"m=%E5%8A%A0%E6%88%91&n=a+b", "application/x-www-form-urlencoded", "加我"),
        (b"m=%E5%8A%A0%E6%88%91&n=a+b", "application/x-www-form-urlencoded", "a b"),
        ("m=加我".encode("gbk"), "application/x-www-form-urlencoded; charset=GBK", "加我"),
        ("加我".encode("gb18030"), "text/plain; charset=gb2312", "加我"),
        (b"plain", None, "plain"),
        (b'{"m": "\\u52a0\\u6211"}', "text/plain", "加我"),  # JSON sent as text
        (b"%E5%8A%A0%E6%88%91", "text/plain", "加我"),  # percent-encoded text
        ("加&#25105;微信".encode(), "text/html; charset=utf-8", "加我微信"),  # entities
        ("加<b>我</b>微信".encode(), "text/html", "加我微信"),  # tags
        (b'{"html": "<p>a&amp;b</p>"}', "application/json", "a&b"),
    ],
)
def test_every_reading_of_the_body_is_there(
    body: bytes, content_type: str | None, expected: str
) -> None:
    assert expected in body_text(body, content_type).text.split("\n")


def test_multipart_text_parts_are_read_with_their_own_types() -> None:
    body = (
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="reply"\r\n\r\n'
        b"\xe5\x8a\xa0\xe6\x88\x91\r\n"
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="meta"\r\n'
        b"Content-Type: application/json\r\n\r\n"
        b'{"note": "\\u5fae\\u4fe1"}\r\n'
        b"--XyZ--\r\n"
    )
    read = body_text(body, 'multipart/form-data; boundary="XyZ"')
    lines = read.text.split("\n")
    assert "加我" in lines
    assert "微信" in lines
    assert read.field_at(read.text.index("微信")) == "part:meta $.note"


def test_fields_are_named_for_where_the_text_was() -> None:
    read = body_text(b'{"a": "one", "b": ["two"]}', "application/json")
    assert read.field_at(read.text.index("one")) == "$.a"
    assert read.field_at(read.text.index("two")) == "$.b[0]"


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"\xff\xfe\xfa", "text/plain; charset=utf-8", "not valid utf-8"),
        (b"\xff", None, "not valid utf-8"),
        (b"abc", "text/plain; charset=no-such-charset", "unknown charset"),
        (b"abc", "text/plain; charset=base64", "unknown charset"),
        (b'{"m": ', "application/json", "not valid JSON"),
        (b"[" * 100_000, "application/json", "not valid JSON"),
        (b"m=%FF%FE", "application/x-www-form-urlencoded", "form field not valid text"),
        (b"no parts here", "multipart/form-data", "malformed multipart"),
        (
            b'--B\r\nContent-Disposition: form-data; name="f"\r\n'
            b"Content-Type: image/png\r\n\r\n\x89PNG\xff\r\n--B--\r\n",
            "multipart/form-data; boundary=B",
            "part:f: not valid utf-8",
        ),
    ],
)
def test_unreadable_bodies_raise(body: bytes, content_type: str | None, message: str) -> None:
    with pytest.raises(UndecodableBodyError, match=message):
        body_text(body, content_type)
