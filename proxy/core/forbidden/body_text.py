"""Request bodies as the texts a reader would see: JSON strings, form fields, text parts.

Takes bodies whose Content-Encoding (gzip, br…) is already undone, plus their Content-Type.
Anything that cannot be read raises UndecodableBodyError, for the gateway to block.
Where a body could be read more than one way (JSON sent as text/plain, HTML entities in a chat
message), every reading is scanned: the reading a server picks must not hide a phrase.
"""

from __future__ import annotations

import codecs
import contextlib
import email.parser
import email.policy
import html
import json
import re
from bisect import bisect_right
from email.message import Message
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import parse_qsl, unquote_plus

JSON_TYPES = frozenset({"application/json", "text/json"})
FORM_TYPE = "application/x-www-form-urlencoded"
MULTIPART_PREFIX = "multipart/"
MAX_MULTIPART_DEPTH = 4

SEGMENT_SEPARATOR = "\n"
"""Between two texts of one body. A phrase split over two fields still matches (rich-text editors
split a sentence at every bold word), but as a visible separator it keeps the last word of one
field from running into the first word of the next."""

# Labels browsers read as a wider charset than the name says.
_CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030"}
_MARKUP = re.compile(r"<[A-Za-z/!?][^<>]*>|&(?:#\d+|#x[0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);?")
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_JSON_STARTS = frozenset('{["')
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class UndecodableBodyError(ValueError):
    """The body cannot be read as text in the type and charset it claims; the gateway blocks."""


class BodyText(NamedTuple):
    """The texts of a body joined in one string, and which field each part comes from."""

    text: str
    starts: tuple[int, ...]
    """Offset in `text` where each field's text begins, ascending."""
    fields: tuple[str, ...]
    """Field names, one per start: `$.messages[0].text` (JSON), `body`, `form:name`…"""

    def field_at(self, offset: int) -> str:
        """Name of the field holding `offset` of `text`."""
        return self.fields[max(bisect_right(self.starts, offset) - 1, 0)]


def body_text(body: bytes | str, content_type: str | None) -> BodyText:
    """Every text a reader of this request body could see; UndecodableBodyError when none."""
    segments: list[tuple[str, str]] = []
    _read_body(body, content_type, "", segments, 0)
    if len(segments) == 1:  # most chat messages: one plain text, nothing to join
        name, text = segments[0]
        return BodyText(text, (0,), (name,))
    starts: list[int] = []
    names: list[str] = []
    parts: list[str] = []
    offset = 0
    for name, text in segments:
        starts.append(offset)
        names.append(name)
        parts.append(text)
        offset += len(text) + len(SEGMENT_SEPARATOR)
    return BodyText(SEGMENT_SEPARATOR.join(parts), tuple(starts), tuple(names))


@lru_cache(maxsize=256)
def _media_type(content_type: str | None) -> tuple[str, str | None]:
    """Media type and charset; cached, as a gateway sees the same few Content-Types all day."""
    message = Message()
    message["Content-Type"] = content_type or "text/plain"
    charset = message.get_param("charset")
    if isinstance(charset, tuple):  # RFC 2231 form: (charset, language, value)
        charset = charset[2]
    return message.get_content_type(), charset


def _decode(data: bytes | str, charset: str | None, what: str) -> str:
    if isinstance(data, str):
        return data
    if charset is None:
        name = "utf-16" if data.startswith(_UTF16_BOMS) else "utf-8"
    else:
        name = charset.strip().lower()
        name = _CHARSET_ALIASES.get(name, name)
    try:
        return data.decode(name)
    except LookupError:
        raise UndecodableBodyError(f"{what}: unknown charset {charset!r}") from None
    except UnicodeDecodeError as err:
        raise UndecodableBodyError(
            f"{what}: not valid {name} text (byte {err.start}: {err.reason})"
        ) from None


def _read_body(
    body: bytes | str, content_type: str | None, prefix: str, out: list[tuple[str, str]], depth: int
) -> None:
    media, charset = _media_type(content_type)
    where = prefix or "body"
    if media.startswith(MULTIPART_PREFIX):
        _read_multipart(body, content_type or "", prefix, out, depth)
    elif media == FORM_TYPE:
        text = _decode(body, charset, where)
        _read_form(text, charset, prefix, out)
    elif media in JSON_TYPES or media.endswith("+json"):
        if isinstance(body, bytes) and charset is None:
            charset = json.detect_encoding(body)
        text = _decode(body, charset, where)
        _read_json(text, prefix, out, where)
    else:
        _read_text(_decode(body, charset, where), prefix, out)


def _read_text(text: str, prefix: str, out: list[tuple[str, str]]) -> None:
    """Plain text, and what it reads as if a server takes it for JSON or percent-encoded."""
    name = prefix or "body"
    _add(out, [(name, text)])
    if text[:1] in _JSON_STARTS or text.lstrip()[:1] in _JSON_STARTS:
        # not JSON after all: then the text itself is all there is to read
        with contextlib.suppress(UndecodableBodyError):
            _read_json(text, prefix, out, name)
    if "%" in text and _PERCENT_ESCAPE.search(text):
        # escapes that are not UTF-8 decode to nothing a reader could see
        with contextlib.suppress(UnicodeDecodeError):
            _add(out, [(f"{name} (percent-decoded)", unquote_plus(text, errors="strict"))])


def _add(out: list[tuple[str, str]], texts: list[tuple[str, str]]) -> None:
    """Named texts that a reader sees one after the other; and, when any carries HTML tags or
    entities, all of them once more as rendered, so a phrase split over two of them still meets."""
    out.extend(texts)
    for _, text in texts:
        # the `in` tests skip the regex for nearly every chat message
        if ("<" in text or "&" in text) and _MARKUP.search(text):
            out.extend((f"{name} (as HTML)", _rendered(text)) for name, text in texts)
            return


def _rendered(text: str) -> str:
    return html.unescape(_MARKUP.sub(_tag_to_nothing, text))


def _tag_to_nothing(match: re.Match[str]) -> str:
    token = match.group()
    return token if token.startswith("&") else ""


class _Pairs(list[tuple[str, object]]):
    """A JSON object with every key kept, duplicates too: a server may read either one."""


def _read_json(text: str, prefix: str, out: list[tuple[str, str]], where: str) -> None:
    try:
        document = json.loads(text, object_pairs_hook=_Pairs)
    except (ValueError, RecursionError) as err:
        raise UndecodableBodyError(f"{where}: not valid JSON ({err})") from None
    stack: list[tuple[str, object]] = [(_join(prefix, "$"), document)]
    values: list[tuple[str, str]] = []
    keys: list[tuple[str, str]] = []
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            values.append((path, node))
        elif isinstance(node, _Pairs):
            stack.extend((f"{path}.{key}", value) for key, value in reversed(node))
            keys.extend((f"{path}.{key} (key)", key) for key, _ in node)
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", item) for i, item in reversed(list(enumerate(node))))
    # values side by side as the page shows them (rich-text editors split a sentence at every
    # change of style); keys after them, so they never come between two halves of a phrase
    _add(out, values)
    _add(out, keys)


def _read_form(text: str, charset: str | None, prefix: str, out: list[tuple[str, str]]) -> None:
    encoding = _CHARSET_ALIASES.get((charset or "utf-8").lower(), charset or "utf-8")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding=encoding, errors="strict")
    except (UnicodeDecodeError, LookupError) as err:
        raise UndecodableBodyError(
            f"{prefix or 'body'}: form field not valid text ({err})"
        ) from None
    _add(out, [(_join(prefix, f"form:{name}"), value) for name, value in pairs])
    _add(out, [(_join(prefix, f"form:{name} (name)"), name) for name, _ in pairs])


def _read_multipart(
    body: bytes | str, content_type: str, prefix: str, out: list[tuple[str, str]], depth: int
) -> None:
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if "\r" in content_type or "\n" in content_type:
        raise UndecodableBodyError(f"{prefix or 'body'}: line break in the Content-Type")
    header = f"Content-Type: {content_type}\r\n\r\n".encode("utf-8", "surrogateescape")
    parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + raw)
    _read_parts(parsed, prefix, out, depth)


def _read_parts(message: Message, prefix: str, out: list[tuple[str, str]], depth: int) -> None:
    where = prefix or "body"
    if depth >= MAX_MULTIPART_DEPTH:
        raise UndecodableBodyError(f"{where}: multipart nested more than {depth} deep")
    if not message.is_multipart() or message.defects:
        problems = ", ".join(type(d).__name__ for d in message.defects) or "no parts"
        raise UndecodableBodyError(f"{where}: malformed multipart body ({problems})")
    parts = message.get_payload()
    if not isinstance(parts, list):
        raise UndecodableBodyError(f"{where}: malformed multipart body")
    for index, part in enumerate(parts):
        name = part.get_param("name", header="content-disposition")
        label = _join(prefix, f"part:{name if isinstance(name, str) else index}")
        if part.defects:
            problems = ", ".join(type(d).__name__ for d in part.defects)
            raise UndecodableBodyError(f"{label}: malformed part ({problems})")
        if part.is_multipart():
            _read_parts(part, label, out, depth + 1)
            continue
        payload = part.get_payload(decode=True)
        part_type = part["Content-Type"]
        _read_body(
            payload if isinstance(payload, bytes) else b"",
            str(part_type) if part_type else None,
            label,
            out,
            depth + 1,
        )


def _join(prefix: str, name: str) -> str:
    return f"{prefix} {name}" if prefix else name
