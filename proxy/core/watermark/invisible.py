"""Invisible marks: a sealed mark written in zero-width characters, repeated through a text.

Characters. A mark is U+200C ZERO WIDTH NON-JOINER (the start sentinel) followed by base-6 digits
written with U+200D ZERO WIDTH JOINER, U+2060 WORD JOINER and U+2061-U+2064 (the invisible math
operators). Why these: all are Default_Ignorable_Code_Point, so browsers, word processors and chat
apps draw nothing for them and keep them on copy-paste; ZWNJ and ZWJ cannot be stripped without
breaking Persian, Indic scripts and emoji, so software leaves them alone. Left out: U+200B, which
several chat apps and sanitisers delete; U+FEFF, dropped as a byte-order mark; variation
selectors, which change how a preceding emoji is drawn. Starting with ZWNJ also keeps the ZWJ in
the digits from joining an Arabic letter the mark follows.

Places. A mark goes only where no word, number, URL, e-mail address or masked token is split:
at the end of a word before whitespace (not after a word holding a digit, a URL or an e-mail
address), after CJK punctuation not followed by a digit, at the end of a text
after a full stop, and, when a stretch offers nothing else, between two Han characters. The whole
mark is written at least once every `every_chars` characters, at the last place before that
distance, so any fragment holding `every_chars` consecutive characters carries a whole mark.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .errors import MarkFormatError
from .mark import SealedMark, unseal

SENTINEL = "\u200c"
DIGITS = "\u200d\u2060\u2061\u2062\u2063\u2064"
INVISIBLE = SENTINEL + DIGITS
BASE = len(DIGITS)
MAX_MARK_BYTES = 64

# digits needed for n bytes: the least d with BASE**d >= 256**n; strictly increasing in n, so the
# digit count of a mark tells its byte length
_DIGITS_FOR = [0] * (MAX_MARK_BYTES + 1)
for _n in range(1, MAX_MARK_BYTES + 1):
    _d = 0
    while BASE**_d < 256**_n:
        _d += 1
    _DIGITS_FOR[_n] = _d
_BYTES_FOR = {d: n for n, d in enumerate(_DIGITS_FOR) if n}
_DIGIT_VALUE = {c: i for i, c in enumerate(DIGITS)}

_BOUNDARY = "\x00"  # joins separate texts (JSON values, HTML text nodes) into one stream
_NUMERIC = "0-9\uff10-\uff19*"
_CJK_PUNCT = "、。，！？；：」』）】》〉〕…"
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_SENTENCE_END = ".!?。！？…"
# Ordinary places: after a word's last character before whitespace, after CJK punctuation, after
# a full stop that ends a text. A match is the character before a place, so each ends at one;
# every rule needs a real character after the place.
_ANY_PLACE = re.compile(
    rf"[^\s{_BOUNDARY}{_NUMERIC}](?=\s)"
    rf"|[{_CJK_PUNCT}](?=[^{_NUMERIC}\s{_BOUNDARY}])"
    rf"|[{_SENTENCE_END}](?={_BOUNDARY})"
)
_PLACE = (
    rf"(?<=[^\s{_BOUNDARY}{_NUMERIC}])(?=\s)"
    rf"|(?<=[{_CJK_PUNCT}])(?=[^{_NUMERIC}\s{_BOUNDARY}])"
    rf"|(?<=[{_SENTENCE_END}])(?={_BOUNDARY})"
)
"""The same places as _ANY_PLACE, as lookarounds, for the backward scan of _LAST_PLACE."""
_HAN_PLACE = rf"(?<=[{_HAN}])(?=[{_HAN}])"
# bounded by endpos=hi+1, a match (it needs a character after the place) ends at most at hi
_LAST_PLACE = re.compile(rf"(?s:.*)(?:{_PLACE})")
_LAST_HAN_PLACE = re.compile(rf"(?s:.*){_HAN_PLACE}")
_NEXT_HAN_PLACE = re.compile(_HAN_PLACE)
_LAST_BREAK = re.compile(rf"(?s:.*)[\s{_BOUNDARY}]")
_TOKEN_WORD = re.compile(r"[0-9\uff10-\uff19@]|://|^www\.", re.IGNORECASE)
_WORD_LOOKBACK = 256
_FOUND = re.compile(f"{SENTINEL}([{DIGITS}]+)")
_ANY_INVISIBLE = re.compile(f"[{INVISIBLE}]")
_ESCAPED = re.compile(r"\\u(200[cdCD]|206[0-4])")


@dataclass(frozen=True, slots=True)
class FoundMark:
    """A well-formed mark read from a text, at text[start:end]; its tag is not judged here."""

    sealed: SealedMark
    start: int
    end: int


@lru_cache(maxsize=256)
def encode(data: bytes) -> str:
    """The invisible form of a sealed mark: sentinel, then base-6 digits."""
    if not 0 < len(data) <= MAX_MARK_BYTES:
        raise MarkFormatError(f"a mark must be 1-{MAX_MARK_BYTES} bytes, not {len(data)}")
    value = int.from_bytes(data, "big")
    digits = []
    for _ in range(_DIGITS_FOR[len(data)]):
        value, digit = divmod(value, BASE)
        digits.append(DIGITS[digit])
    return SENTINEL + "".join(reversed(digits))


def decode(digits: str) -> bytes:
    """Bytes from the digits after a sentinel; MarkFormatError when they cannot be a mark."""
    size = _BYTES_FOR.get(len(digits))
    if size is None:
        raise MarkFormatError(f"{len(digits)} digits is no mark length")
    value = 0
    for char in digits:
        value = value * BASE + _DIGIT_VALUE[char]
    if value >= 256**size:
        raise MarkFormatError("digits out of range")
    return value.to_bytes(size, "big")


def strip(text: str) -> str:
    """The text without any of the characters marks are made of."""
    return _ANY_INVISIBLE.sub("", text)


def unescape(text: str) -> str:
    """The text with mark characters written as JSON or JavaScript escapes (`\\u200c`) or as HTML
    character references (`&zwnj;`, `&#8204;`) turned back into characters, so marks in a saved
    JSON body or HTML source can be read; for reading only, never for what agents are sent."""
    if "\\u" in text:
        text = _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)
    if "&" in text:
        text = html.unescape(text)
    return text


def extract(text: str) -> list[FoundMark]:
    """Every whole, well-formed mark in the text, in order; cut or foreign runs are skipped."""
    found = []
    for match in _FOUND.finditer(text):
        try:
            sealed = unseal(decode(match.group(1)))
        except MarkFormatError:
            continue  # a mark cut by the fragment's edge, or invisible text that is not ours
        found.append(FoundMark(sealed, match.start(), match.end()))
    return found


def embed(text: str, mark: bytes, *, every_chars: int = 200) -> str:
    """The text with the sealed mark written at safe places, at least once every `every_chars`."""
    return embed_all([text], mark, every_chars=every_chars)[0]


def embed_all(texts: Sequence[str], mark: bytes, *, every_chars: int = 200) -> list[str]:
    """Several texts read as one stream (e.g. a page's text nodes), marked as one."""
    ink = encode(mark)
    places = plan(texts, every_chars=every_chars)
    out = list(texts)
    by_text: dict[int, list[int]] = {}
    for index, offset in places:
        by_text.setdefault(index, []).append(offset)
    for index, offsets in by_text.items():
        text, previous = texts[index], 0
        pieces: list[str] = []
        for offset in offsets:
            pieces += (text[previous:offset], ink)
            previous = offset
        pieces.append(text[previous:])
        out[index] = "".join(pieces)
    return out


def plan(texts: Sequence[str], *, every_chars: int) -> list[tuple[int, int]]:
    """Where marks go: (text index, offset in that text), in order."""
    if every_chars < 1:
        raise ValueError("every_chars must be positive")
    stream = _BOUNDARY.join(texts) + _BOUNDARY
    end = len(stream) - 1
    places: list[int] = []
    last = 0
    while end - last > every_chars:
        place = _last_place(stream, last, last + every_chars)
        if place is None:
            place = _next_place(stream, last + every_chars)
            if place is None:
                break
        places.append(place)
        last = place
    if not places and (place := _last_place(stream, 0, end)) is not None:
        places.append(place)
    starts, total = [], 0
    for text in texts:
        starts.append(total)
        total += len(text) + 1
    located = []
    for place in places:
        index = bisect.bisect_right(starts, place) - 1
        located.append((index, place - starts[index]))
    return located


def _last_place(stream: str, low: int, high: int) -> int | None:
    """The last safe place p with low < p <= high: an ordinary place not trailing a number or a
    link, else the last place between two Han characters."""
    # the usual case: one backward scan finds the last ordinary place, and it is clear
    last = _LAST_PLACE.match(stream, low + 1, high + 1)
    if last is None or not _clear_of_tokens(stream, last.end()):
        # it trails a number or a link (or there is none so near): list the window's ordinary
        # places in one forward pass and take the last clear one. A match ends at its place,
        # which needs a character after it: bounded by high + 1, each lies in (low, high].
        last = None
        found = [match.end() for match in _ANY_PLACE.finditer(stream, low, high + 1)]
        for place in reversed(found):
            if _clear_of_tokens(stream, place):
                return place
        last = _LAST_HAN_PLACE.match(stream, low + 1, high + 1)
    return None if last is None else last.end()


def _next_place(stream: str, after: int) -> int | None:
    """The first safe place p > after, of either kind."""
    best = None
    for match in _ANY_PLACE.finditer(stream, after):
        if _clear_of_tokens(stream, match.end()):
            best = match.end()
            break
    # Han places only count before the first ordinary one; bounding the search keeps it linear
    stop = len(stream) if best is None else best + 1
    han = _NEXT_HAN_PLACE.search(stream, after + 1, stop)
    return han.start() if han is not None else best


def _clear_of_tokens(stream: str, place: int) -> bool:
    """False when the word just before the place holds a digit, a URL or an e-mail address: a
    mark right after it would be copied with it (double-click selects it as part of the word) or
    taken into the link by a linkifier, and break the number or the link."""
    if place < len(stream) and not (stream[place].isspace() or stream[place] == _BOUNDARY):
        return True  # after CJK punctuation or between Han characters: no token ends there
    low = max(0, place - _WORD_LOOKBACK)
    match = _LAST_BREAK.match(stream, low, place)
    if match is None and low > 0:
        return False  # a "word" this long is a code or a link, whatever its end holds
    word = stream[match.end() if match else low : place]
    return _TOKEN_WORD.search(word) is None
