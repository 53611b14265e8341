"""Invisible marks in JSON and JSON Lines bodies: only in prose values the policy names.

A value is marked when its key is one of `watermark.invisible.json_fields` and it is a string or a
list of strings. Keys, IDs and every other value keep their exact bytes: the body is edited in
place, so number formatting, key order, duplicate keys and escapes elsewhere are untouched.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache

from .errors import WatermarkError
from .invisible import embed_all

_STRING = r'"[^"\\]*+(?:\\.[^"\\]*+)*+"'
_ONE_STRING = re.compile(_STRING, re.DOTALL)


@lru_cache(maxsize=32)
def _prose_values(fields: tuple[str, ...]) -> re.Pattern[str]:
    # The pattern starts at the key's opening quote, which the regex engine finds much faster
    # than a `[{,]` class followed by blanks (JSON has a comma every few characters); the
    # character before is checked in Python, for the few keys that match.
    keys = "|".join(re.escape(json.dumps(field)[1:-1]) for field in fields)
    return re.compile(
        rf'"(?:{keys})"\s*+:\s*+'
        rf"(?P<value>{_STRING}|\[\s*+{_STRING}(?:\s*+,\s*+{_STRING})*+\s*+\])",
        re.DOTALL,
    )


_BLANKS = " \t\r\n"


def _prose_spans(text: str, fields: tuple[str, ...]) -> list[tuple[int, int]]:
    """(start, end) of each prose string in the members named, in order."""
    spans: list[tuple[int, int]] = []
    for member in _prose_values(fields).finditer(text):
        # In valid JSON a quote after `{` or `,` (and blanks) always opens an object key, never
        # sits inside a string (a quote there is escaped), so this finds exactly the members
        # named, without a full tokenizer.
        before = member.start() - 1
        while before >= 0 and text[before] in _BLANKS:
            before -= 1
        if before < 0 or text[before] not in "{,":
            continue
        start, end = member.span("value")
        if text[start] == '"':
            spans.append((start, end))
        else:
            spans.extend(m.span() for m in _ONE_STRING.finditer(text, start, end))
    return spans


def check_json(text: str) -> None:
    """WatermarkError unless the body is one JSON document."""
    try:
        json.loads(text.removeprefix("\ufeff"))
    except ValueError as err:
        raise WatermarkError(f"JSON body does not parse: {err}") from None


def check_json_lines(text: str) -> None:
    """WatermarkError unless every non-blank line is a JSON document."""
    for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), 1):
        if line.strip():
            try:
                json.loads(line)
            except ValueError as err:
                raise WatermarkError(
                    f"JSON Lines body, line {number}, does not parse: {err}"
                ) from None


def embed_json(
    text: str,
    mark: bytes,
    *,
    fields: Iterable[str],
    every_chars: int,
    lines: bool = False,
    parsed: bool = False,
) -> str:
    """The body with the mark in its prose values; WatermarkError if it is not valid JSON.
    `parsed`: the caller has just read the body as JSON (the masker has), so it is not read
    again here."""
    if not text.strip():
        return text  # an empty body carries nothing to mark or to leak
    if not parsed:
        (check_json_lines if lines else check_json)(text)
    names = tuple(sorted(set(fields)))
    if not names:
        return text
    spans = _prose_spans(text, names)
    if not spans:
        return text
    literals = [text[start:end] for start, end in spans]
    # A literal without a backslash is its value between quotes (JSON has no raw control
    # characters in strings), and marks need no escaping: most skip the JSON codec both ways.
    values = [json.loads(lit) if "\\" in lit else lit[1:-1] for lit in literals]
    marked = embed_all(values, mark, every_chars=every_chars)
    pieces: list[str] = []
    previous = 0
    for (start, end), literal, before, after in zip(spans, literals, values, marked, strict=True):
        if after is before:
            continue
        if "\\" in literal:
            written = json.dumps(after, ensure_ascii="\\u" in literal)
        else:
            written = f'"{after}"'
        pieces += (text[previous:start], written)
        previous = end
    pieces.append(text[previous:])
    return "".join(pieces)
