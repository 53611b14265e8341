"""Content-Encoding, charsets, size limits and chunked bodies: nothing slips through, and what
cannot be read is refused with a typed error."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable, Iterator

import brotli
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from homeagent.proxy.core.masking import BodyTooLargeError, Masker, UnmaskableBodyError

from .pii_samples import KEY, policy

BODY = json.dumps({"tel": "13800138000", "memo": "客户张先生"}, ensure_ascii=False).encode()
MASKED = {"tel": "138****8000", "memo": "客户张先生"}

ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": lambda data: gzip.compress(data),
    "x-gzip": lambda data: gzip.compress(data),
    "deflate": lambda data: zlib.compress(data),
    "br": lambda data: brotli.compress(data),
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
}
DECODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.decompress,
    "x-gzip": gzip.decompress,
    "deflate": zlib.decompress,
    "br": brotli.decompress,
    "zstd": lambda data: zstandard.ZstdDecompressor().decompressobj().decompress(data),
}


@pytest.fixture(scope="module")
def masker() -> Masker:
    return Masker(policy({"max_body_bytes": 64 * 1024}), KEY)


def mask(
    masker: Masker, body: bytes, encoding: str | None, content_type: str = "application/json"
) -> bytes:
    return masker.mask_body(
        body, content_type=content_type, content_encoding=encoding, role=None, url=None
    ).body


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_each_content_encoding_is_undone_and_redone(masker: Masker, name: str) -> None:
    out = mask(masker, ENCODERS[name](BODY), name)
    assert json.loads(DECODERS[name](out)) == MASKED


def test_raw_deflate_is_read_too(masker: Masker) -> None:
    engine = zlib.compressobj(wbits=-15)
    raw = engine.compress(BODY) + engine.flush()
    out = mask(masker, raw, "deflate")
    assert json.loads(zlib.decompress(out)) == MASKED


@pytest.mark.parametrize("stack", ["gzip, br", "br, zstd", "deflate, gzip, zstd", "identity, gzip"])
def test_stacked_encodings(masker: Masker, stack: str) -> None:
    names = [n.strip() for n in stack.split(",") if n.strip() != "identity"]
    body = BODY
    for name in names:
        body = ENCODERS[name](body)
    out = mask(masker, body, stack)
    for name in reversed(names):
        out = DECODERS[name](out)
    assert json.loads(out) == MASKED


def test_gzip_with_several_members(masker: Masker) -> None:
    body = b'{"a": "13800138000",'
    rest = b' "b": 1}'
    out = mask(masker, gzip.compress(body) + gzip.compress(rest), "gzip")
    assert json.loads(gzip.decompress(out)) == {"a": "138****8000", "b": 1}


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("gzip", b"not gzip at all", "gzip body is corrupt"),
        ("gzip", gzip.compress(BODY)[:-12], "gzip body is truncated"),
        ("gzip", gzip.compress(BODY) + b"junk", "corrupt|trailing data"),
        ("deflate", b"\x00\x01garbage", "deflate body is corrupt"),
        ("br", b"\xff\xff\xffnot brotli", "br body is corrupt"),
        ("br", brotli.compress(BODY * 50)[:-8], "br body is truncated"),
        ("zstd", b"not zstd", "zstd body is corrupt"),
        ("zstd", zstandard.ZstdCompressor().compress(BODY)[:-5], "zstd body is truncated"),
        ("compress", BODY, "unknown Content-Encoding 'compress'"),
    ],
)
def test_bad_compressed_bodies_are_refused(
    masker: Masker, name: str, body: bytes, message: str
) -> None:
    with pytest.raises(UnmaskableBodyError, match=message):
        mask(masker, body, name)


@pytest.mark.parametrize("name", ["gzip", "deflate", "br", "zstd"])
def test_zip_bombs_are_refused_by_their_decompressed_size(masker: Masker, name: str) -> None:
    bomb = ENCODERS[name](b'{"a": "' + b"0" * (10 * 1024 * 1024) + b'"}')
    assert len(bomb) < 64 * 1024
    with pytest.raises(BodyTooLargeError, match="more than 65536 bytes"):
        mask(masker, bomb, name)


def test_a_body_over_the_limit_is_refused(masker: Masker) -> None:
    with pytest.raises(BodyTooLargeError, match="over the limit"):
        mask(masker, b" " * (64 * 1024 + 1), None)


def test_a_large_body_within_the_limit_is_masked_whole() -> None:
    big = Masker(policy({"max_body_bytes": 8 * 1024 * 1024}), KEY)
    records = [{"i": i, "tel": f"1380013{i % 10000:04d}"} for i in range(60000)]
    body = json.dumps(records).encode()
    assert len(body) > 2 * 1024 * 1024
    out = json.loads(mask(big, body, None))
    assert all(r["tel"].startswith("138****") for r in out)
    assert len(out) == 60000


@pytest.mark.parametrize(
    ("charset", "label", "words"),
    [
        ("gb18030", "gb18030", "客户电话"),
        ("gbk", "gbk", "客户电话"),
        ("gbk", "GB2312", "客户电话"),
        ("big5", "big5", "客戶電話"),
        ("utf-16", "utf-16", "客户电话"),
        ("utf-16-le", "utf-16le", "客户电话"),
        ("shift_jis", "shift_jis", "顧客の電話"),
    ],
)
def test_declared_charsets_are_honoured(
    masker: Masker, charset: str, label: str, words: str
) -> None:
    body = f"{words}：１３８００１３８０００。".encode(charset)
    out = mask(masker, body, None, f"text/plain; charset={label}")
    assert out.decode(charset) == f"{words}：138****8000。"


def test_html_meta_charset_is_honoured(masker: Masker) -> None:
    page = '<html><head><meta charset="gbk"></head><body>张先生 13800138000</body></html>'
    out = mask(masker, page.encode("gbk"), None, "text/html")
    assert "138****8000" in out.decode("gbk") and "张先生" in out.decode("gbk")


def test_json_in_utf16_without_a_declared_charset(masker: Masker) -> None:
    out = mask(masker, BODY.decode().encode("utf-16-le"), None)
    assert json.loads(out.decode("utf-16-le")) == MASKED


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ("张三 13800138000".encode("gbk"), "text/plain", "not valid utf-8"),
        (b"\xff\xfe\xfd 13800138000", "text/plain; charset=utf-8", "not valid utf-8"),
        (b"13800138000", "text/plain; charset=x-no-such", "unknown charset"),
        (b"13800138000", "text/plain; charset=base64", "not a text charset"),
    ],
)
def test_undecodable_text_is_refused(
    masker: Masker, body: bytes, content_type: str, message: str
) -> None:
    with pytest.raises(UnmaskableBodyError, match=message):
        mask(masker, body, None, content_type)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=1), min_size=0, max_size=40),
    st.sampled_from([None, "gzip", "br"]),
)
def test_a_body_split_anywhere_masks_the_same_as_whole(
    masker: Masker, cuts: list[int], encoding: str | None
) -> None:
    body = BODY if encoding is None else ENCODERS[encoding](BODY)
    positions = sorted({(i * 7 + c) % (len(body) + 1) for i, c in enumerate(cuts)})
    chunks = [body[a:b] for a, b in zip([0, *positions], [*positions, len(body)], strict=True)]
    assert b"".join(chunks) == body
    whole = masker.mask_body(
        body, content_type="application/json", content_encoding=encoding, role=None, url=None
    )
    pieces = masker.mask_chunks(
        chunks, content_type="application/json", content_encoding=encoding, role=None, url=None
    )
    assert pieces.body == whole.body and pieces.counts == whole.counts == {"cn_mobile": 1}


def test_chunks_over_the_limit_stop_early(masker: Masker) -> None:
    def endless() -> Iterator[bytes]:
        while True:
            yield b"x" * 4096

    with pytest.raises(BodyTooLargeError):
        masker.mask_chunks(
            endless(), content_type="text/plain", content_encoding=None, role=None, url=None
        )
