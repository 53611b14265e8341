"""Fuzzing the maskers: bodies (JSON, JSON Lines, HTML, text, forms; any charset and
Content-Encoding) that embed valid personal values, spelt every way a reader still reads them
(separators, full-width and other scripts' digits, escapes, entities, percent-encoding, nesting),
come out with no reading of the value left, or are refused; look-alikes come out unchanged."""

from __future__ import annotations

import contextlib
import datetime as dt
import encodings.aliases
import gzip
import html
import json
import re
import unicodedata
import zlib
from dataclasses import dataclass
from urllib.parse import quote, unquote_plus

import brotli
import zstandard
from hypothesis import example, given
from hypothesis import strategies as st

from homeagent.proxy.core.masking import BodyFormat, Masker, UnmaskableBodyError

from .fuzz_profile import FUZZ
from .pii_samples import KEY, cn_id, luhn_broken, luhn_complete, policy, wrong_checksum

_MASKERS = {
    style: Masker(
        policy(
            {
                "detectors": {
                    name: {"style": style}
                    for name in ("cn_mobile", "cn_landline", "cn_id", "bank_card", "email")
                }
            }
        ),
        KEY,
    )
    for style in ("partial", "full", "pseudonym")
}


@dataclass(frozen=True)
class Value:
    kind: str
    text: str
    """The value as a person writes it plainly (ASCII digits, no separators)."""


# Valid personal values, by construction.

_DIGIT = st.sampled_from("0123456789")


@st.composite
def mobiles(draw: st.DrawFn) -> Value:
    rest = "".join(draw(st.lists(_DIGIT, min_size=9, max_size=9)))
    return Value("cn_mobile", "1" + draw(st.sampled_from("3456789")) + rest)


@st.composite
def ids(draw: st.DrawFn) -> Value:
    region = draw(st.sampled_from("12345678")) + "".join(
        draw(st.lists(_DIGIT, min_size=5, max_size=5))
    )
    birth = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 12, 31)))
    sequence = "".join(draw(st.lists(_DIGIT, min_size=3, max_size=3)))
    return Value("cn_id", cn_id(region, birth.strftime("%Y%m%d"), sequence))


@st.composite
def cards(draw: st.DrawFn) -> Value:
    prefix = draw(st.sampled_from(["4", "51", "55", "62", "6222", "35"]))
    length = draw(st.sampled_from([16, 19]))
    body = prefix + "".join(
        draw(st.lists(_DIGIT, min_size=length - 1 - len(prefix), max_size=length - 1 - len(prefix)))
    )
    return Value("bank_card", luhn_complete(body))


@st.composite
def emails(draw: st.DrawFn) -> Value:
    local = draw(st.from_regex(r"[a-z][a-z0-9._+-]{0,10}[a-z0-9]", fullmatch=True))
    domain = draw(
        st.from_regex(r"[a-z][a-z0-9-]{0,8}[a-z0-9]\.(com|cn|net|com\.cn)", fullmatch=True)
    )
    return Value("email", f"{local}@{domain}")


PERSONAL = st.one_of(mobiles(), ids(), cards(), emails())  # fmt: skip

# How a value is spelt inside the text, before the body format's own escapes.

_SEPARATORS = [" ", "-", ".", "\u00a0", "\u200b", "\u3000", "\uff0d", "\u2013", "\u00ad", "  "]
_DIGIT_FORMS = [0x30, 0xFF10, 0x0660, 0x0966]  # ASCII, full-width, Arabic-Indic, Devanagari


@st.composite
def spellings(draw: st.DrawFn, value: Value) -> str:
    if value.kind == "email":
        at = draw(st.sampled_from(["@", "\uff20"]))
        local, domain = value.text.split("@")
        if draw(st.booleans()):
            local = local.upper()
        return local + at + domain
    out = []
    separator = draw(st.sampled_from(_SEPARATORS))
    for index, char in enumerate(value.text):
        if index and draw(st.integers(0, 3)) == 0:
            out.append(separator)
        base = draw(st.sampled_from(_DIGIT_FORMS))
        out.append(chr(base + int(char)) if char.isdigit() else char)
    spelt = "".join(out)
    if out.count(separator) == 1 and separator == ".":
        spelt = spelt.replace(".", "")  # 1.3800138000 is by contract a decimal number
    if value.kind == "cn_mobile" and draw(st.integers(0, 4)) == 0:
        spelt = draw(st.sampled_from(["+86 ", "+86-", "0086 ", "＋86"])) + spelt
    return spelt


# Text around a value: anything, but what touches it is a clear boundary (a number glued to
# letters or other digits is by contract another thing).
_FILLER = st.text(st.characters(codec="utf-8"), max_size=20)
_LEFT = st.sampled_from(["电话：", "客户 ", "号码:", "「", "\n", "ID ", "mail "])
_RIGHT = st.sampled_from(["。", "」", "\n", "，谢谢", "；"])


def _json_escaped(text: str, draw: st.DrawFn) -> str:
    """`text` as the inside of a JSON string, some characters as \\u escapes."""
    out = []
    for char in text:
        if draw(st.integers(0, 3)) == 0 or char in '"\\' or ord(char) < 0x20:
            out.append(f"\\u{ord(char):04x}" if ord(char) < 0x10000 else json.dumps(char)[1:-1])
        else:
            out.append(char)
    return "".join(out)


def _entities(text: str, draw: st.DrawFn) -> str:
    out = []
    for char in text:
        form = draw(st.integers(0, 4))
        if char in "<>&\"'":
            out.append(html.escape(char))
        elif form == 0:
            out.append(f"&#{ord(char)};")
        elif form == 1:
            out.append(f"&#x{ord(char):X};")
        else:
            out.append(char)
    return "".join(out)


def _js_escaped(text: str, draw: st.DrawFn) -> str:
    out = []
    for char in text:
        form = draw(st.integers(0, 4))
        if form == 0 and ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        elif form == 1 and ord(char) < 0x100:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return "".join(out)


@dataclass(frozen=True)
class Body:
    text: str
    content_type: str | None
    format: str


@st.composite
def bodies(draw: st.DrawFn, value: Value) -> Body:
    spelt = draw(spellings(value))
    inner = draw(_FILLER) + draw(_LEFT) + spelt + draw(_RIGHT) + draw(_FILLER)
    fmt = draw(st.sampled_from(["json", "jsonl", "html", "text", "form"]))
    if fmt in ("json", "jsonl"):
        place = draw(st.sampled_from(["string", "key", "number"]))
        if place == "number" and value.kind != "email" and value.text.isdigit():
            leaf = value.text
        elif place == "key":
            leaf = '{"' + _json_escaped(inner, draw) + '": 1}'
        else:
            leaf = '"' + _json_escaped(inner, draw) + '"'
        for _ in range(draw(st.integers(0, 3))):
            key = json.dumps(draw(_FILLER))
            leaf = draw(st.sampled_from([f"[{leaf}]", f"{{{key}: {leaf}}}", f'[1, "x", {leaf}]']))
        if draw(st.integers(0, 3)) == 0:
            odd = draw(st.sampled_from(["1e400", "-1E+400", "-0", "0.1e-999", "1E+2", "-0.0"]))
            leaf = f"[{odd}, {leaf}]"
        if fmt == "jsonl":
            leaf = '{"a": 1}\n' + leaf.replace("\n", " ") + '\n["b"]\n'
        content_type = "application/json" if fmt == "json" else "application/x-ndjson"
        return Body(leaf, content_type, fmt)
    if fmt == "html":
        place = draw(st.sampled_from(["text", "attribute", "script", "comment", "textarea"]))
        page = {
            "text": f"<p>{_entities(inner, draw)}</p>",
            "attribute": f'<a title="{_entities(inner, draw)}">x</a>',
            "script": '<script>var a = "{}";</script>'.format(
                _js_escaped(inner.replace("<", " "), draw)
            ),
            "comment": "<!-- {} -->".format(inner.replace(">", " ")),
            "textarea": f"<textarea>{html.escape(inner)}</textarea>",
        }[place]
        return Body(f"<!doctype html><html><body><div>{page}</div></body></html>", "text/html", fmt)
    if fmt == "form":
        name = quote(draw(_FILLER) or "f", safe="")
        # percent-encoded in UTF-8: a form body in another charset is out of these cases' scope
        field = quote(inner, safe="" if draw(st.booleans()) else " ").replace(" ", "+")
        return Body(f"a=1&{name}={field}&b=2", "application/x-www-form-urlencoded", fmt)
    return Body(_js_escaped(inner, draw) if draw(st.booleans()) else inner, "text/plain", fmt)


_CHARSETS = ["utf-8", "gb18030", "utf-16", "utf-8-sig"]
_ENCODINGS = [None, "gzip", "deflate", "br", "zstd", "gzip, br"]


def _compress(data: bytes, encoding: str | None) -> bytes:
    for name in (encoding or "").split(","):
        name = name.strip()
        if name == "gzip":
            data = gzip.compress(data)
        elif name == "deflate":
            data = zlib.compress(data)
        elif name == "br":
            data = brotli.compress(data)
        elif name == "zstd":
            data = zstandard.ZstdCompressor().compress(data)
    return data


def _decompress(data: bytes, encoding: str | None) -> bytes:
    for name in reversed((encoding or "").split(",")):
        name = name.strip()
        if name == "gzip":
            data = gzip.decompress(data)
        elif name == "deflate":
            data = zlib.decompress(data)
        elif name == "br":
            data = brotli.decompress(data)
        elif name == "zstd":
            data = zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return data


_JS = re.compile(r"\\u\{([0-9A-Fa-f]{1,6})\}|\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})")
# What the scanner reads as separators inside a number (its _SPACES, _BINDERS, _INVISIBLE).
_SEPARATOR_CHARS = re.compile(
    "[ \u00a0\u2000-\u200a\u202f\u205f\u3000"
    "\\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d.\uff0e()\uff08\uff09"
    "\u00ad\u200b-\u200d\u2060\ufeff+\uff0b]"
)


def _js_unescaped(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2) or match.group(3), 16)
        return chr(code) if code < 0x110000 and not 0xD800 <= code < 0xE000 else match.group()

    return _JS.sub(one, text)


def _readings(text: str) -> list[str]:
    """Every way a person or a browser may read the text: as it is, with JSON, JavaScript and
    HTML escapes and percent-encoding spelt out; digits of any script as ASCII."""
    views = {text, html.unescape(text), _js_unescaped(text), html.unescape(_js_unescaped(text))}
    views |= {unquote_plus(v, errors="replace") for v in list(views)}
    for line in text.splitlines() or [text]:
        with contextlib.suppress(ValueError):
            views.add(json.dumps(json.loads(line), ensure_ascii=False))
    with contextlib.suppress(ValueError):
        views.add(json.dumps(json.loads(text), ensure_ascii=False))
    out = []
    for view in views:
        view = unicodedata.normalize("NFKC", view)
        out.append(
            "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in view).lower()
        )
    return out


def _still_readable(value: Value, text: str) -> bool:
    for view in _readings(text):
        if value.kind == "email":
            if value.text.lower() in view:
                return True
            continue
        # a run of digits with separators between them, read as the digits alone
        for run in re.finditer(r"\d(?:(?:" + _SEPARATOR_CHARS.pattern + r"){0,3}[\dx])*", view):
            digits = re.sub(r"[^0-9x]", "", run.group())
            if value.text.lower() in digits:
                return True
    return False


@st.composite
def cases(draw: st.DrawFn) -> tuple[Value, Body, str, str | None, str]:
    value = draw(PERSONAL)
    body = draw(bodies(value))
    return (
        value,
        body,
        "utf-8" if body.format == "form" else draw(st.sampled_from(_CHARSETS)),
        draw(st.sampled_from(_ENCODINGS)),
        draw(st.sampled_from(sorted(_MASKERS))),
    )


def _mask(body: Body, charset: str, encoding: str | None, style: str) -> str | None:
    """The masked body as text, or None when the masker refused it."""
    declared = body.content_type and f"{body.content_type}; charset={charset.removesuffix('-sig')}"
    raw = body.text.encode(charset)
    try:
        result = _MASKERS[style].mask_body(
            _compress(raw, encoding),
            content_type=declared,
            content_encoding=encoding,
            role="inbound",
            url="https://crm.acme.test/customers/1",
        )
    except UnmaskableBodyError:
        return None
    return _decompress(result.body, encoding).decode(charset)


def _text_case(text: str) -> tuple[Value, Body, str, str | None, str]:
    return (
        Value("cn_mobile", "13800138000"),
        Body(text, "text/plain", "text"),
        "utf-8",
        None,
        "full",
    )


@FUZZ
@given(cases())
# an escape the masker kept as written (a colon, a quote) glued its hex digits to the number
@example(_text_case("电话\\uff1a13800138000。"))
@example(_text_case('var a = "\\u002213800138000";'))
# zero-width spaces written as escapes split the number in two
@example(_text_case("138\\u200b0013\\u200b8000"))
@example(_text_case("\\ud83d\\ude0013800138000"))
# a number out of range came back as Infinity, which is not JSON
@example(
    (
        Value("cn_mobile", "13800138000"),
        Body('[1e400, "13800138000"]', "application/json", "json"),
        "utf-8",
        None,
        "partial",
    )
)
def test_personal_values_come_out_unreadable_or_refused(
    case: tuple[Value, Body, str, str | None, str],
) -> None:
    value, body, charset, encoding, style = case
    assert _still_readable(value, body.text), "the generator must embed a readable value"
    masked = _mask(body, charset, encoding, style)
    if masked is None:
        return  # refused: the gateway blocks the response (fail closed)
    assert not _still_readable(value, masked), (value, body.text, masked)
    if body.format in ("json", "jsonl"):
        for line in masked.split("\n"):  # not splitlines: U+0085 and U+2028 sit in strings
            if line.strip():
                json.loads(line, parse_constant=_not_json)  # still strict JSON


def _not_json(token: str) -> None:
    raise ValueError(f"{token} is not JSON")


@st.composite
def look_alikes(draw: st.DrawFn) -> Value:
    """Numbers that look personal and by contract are not (see test_masking_detectors)."""
    kind = draw(st.sampled_from(["bad-id", "bad-card", "no-mobile", "order", "timestamp"]))
    digits = "".join(draw(st.lists(_DIGIT, min_size=12, max_size=12)))
    if kind == "bad-id":
        return Value(kind, wrong_checksum(draw(ids()).text))
    if kind == "bad-card":
        return Value(kind, luhn_broken("62220" + digits[:10]))
    if kind == "no-mobile":
        return Value(kind, "12" + digits[:9])
    if kind == "order":
        return Value(kind, "SF" + digits + "9")
    return Value(kind, "17" + digits[:11])


_FORMAT = {"json": BodyFormat.JSON, "html": BodyFormat.HTML, "text": BodyFormat.TEXT}


@FUZZ
@given(look_alikes(), st.sampled_from(["json", "html", "text"]), _FILLER, _FILLER)
def test_look_alikes_come_out_unchanged(value: Value, fmt: str, left: str, right: str) -> None:
    inner = f"{left}：{value.text}。{right}"
    text = {
        "json": json.dumps({"note": inner, "n": [inner]}, ensure_ascii=False),
        "html": f"<p>{html.escape(inner)}</p>",
        "text": inner,
    }[fmt]
    masker = _MASKERS["partial"]
    # only the look-alike is in question: the filler may hold a real value by chance
    before = masker.mask_text(text.replace(value.text, ""), body_format=_FORMAT[fmt]).counts
    result = masker.mask_text(text, body_format=_FORMAT[fmt])
    if not before:
        assert result.text == text
    assert value.text in result.text


_CHARSET_LABELS = sorted(set(encodings.aliases.aliases) | set(encodings.aliases.aliases.values()))
_CONTENT_TYPES = st.one_of(
    st.none(),
    st.sampled_from(
        [
            *["application/json", "application/x-ndjson", "text/html", "text/plain", "text/css"],
            *["application/x-www-form-urlencoded", "application/xml", "image/png", ""],
        ]
    ),
    st.text(max_size=30),
)


@st.composite
def any_bodies(draw: st.DrawFn) -> tuple[bytes, str | None, str | None]:
    """Bytes with a Content-Type (any charset label Python knows, or none) and Content-Encoding:
    real bodies compressed and then damaged, or noise."""
    content_type = draw(_CONTENT_TYPES)
    if content_type is not None and draw(st.booleans()):
        content_type += "; charset=" + draw(st.sampled_from(_CHARSET_LABELS) | st.text(max_size=8))
    encoding = draw(st.sampled_from([*_ENCODINGS, "gzip, gzip", "x-gzip", "compress", ", ,"]))
    value = draw(PERSONAL)
    body = draw(bodies(value)).text.encode("utf-8")
    # an encoding _compress does not know leaves the bytes as they are
    data = bytearray(
        draw(st.binary(max_size=200)) if draw(st.integers(0, 4)) == 0 else _compress(body, encoding)
    )
    for _ in range(draw(st.integers(0, 3))):
        if data:
            data[draw(st.integers(0, len(data) - 1))] ^= 1 << draw(st.integers(0, 7))
    if data and draw(st.booleans()):
        del data[draw(st.integers(0, len(data) - 1)) :]
    return bytes(data), content_type, encoding


@FUZZ
@given(any_bodies(), st.sampled_from(sorted(_MASKERS)))
@example((b"13800138000", "text/plain; charset=undefined", None), "partial")
def test_any_body_is_masked_or_refused(
    case: tuple[bytes, str | None, str | None], style: str
) -> None:
    data, content_type, encoding = case
    try:
        result = _MASKERS[style].mask_body(
            data, content_type=content_type, content_encoding=encoding, role=None, url=None
        )
    except UnmaskableBodyError:
        return
    assert isinstance(result.body, bytes)
