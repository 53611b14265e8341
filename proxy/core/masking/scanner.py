"""Finding personal data in decoded text: the built-in detectors and the policy's custom ones.

Numbers are found as runs of digits (any script's decimal digits, full-width included) joined
by separators, then classified by their digits and validators, so look-alikes stay as they are.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from operator import itemgetter
from typing import NamedTuple, cast

from ..policy.masking import CustomDetector, Validator
from .validators import (
    bank_card_ok,
    cn_id_ok,
    cn_landline_split,
    cn_mobile_ok,
    luhn_ok,
)

CN_MOBILE = "cn_mobile"
CN_LANDLINE = "cn_landline"
CN_ID = "cn_id"
BANK_CARD = "bank_card"
EMAIL = "email"
NUMBER_DETECTORS = frozenset({CN_MOBILE, CN_LANDLINE, CN_ID, BANK_CARD})

# Separators that may sit inside a written number. Spaces split a run into groups that may
# be separate numbers; the others bind (a dash or dot inside 13800138000.5 keeps it one float).
_SPACES = " \u00a0\u2000-\u200a\u202f\u205f\u3000"
_BINDERS = "\\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d.\uff0e()\uff08\uff09"
_INVISIBLE = "\u00ad\u200b-\u200d\u2060\ufeff"
_SEP = f"[{_SPACES}{_BINDERS}{_INVISIBLE}]"
_DASH_DOT = "\\-.\uff0d\uff0e"

_RUN = re.compile(
    # not inside a longer alphanumeric token, not the fraction or tail of another number
    rf"(?<![\dA-Za-z])(?<![\dA-Za-z][{_DASH_DOT}])"
    rf"(?:[+\uff0b]{_SEP}{{0,2}})?(?:[(\uff08]{_SEP}{{0,2}})?"
    rf"\d(?:{_SEP}{{0,3}}\d){{9,}}(?:{_SEP}{{0,3}}[Xx\uff38\uff58])?"
    rf"(?![\dA-Za-z])(?![{_DASH_DOT}][\dA-Za-z])"
)
_RUN_LOOKBEHIND = 2
"""The farthest _RUN's lookbehinds look before a match."""
# A cheap first pass (it starts with a digit class, which the regex engine scans for fast):
# anything that could hold a run of 10 digits. Most candidates are plain digits and settle
# without the full pattern.
_CANDIDATE = re.compile(
    f"\\d(?<![A-Za-z\\d]\\d)[\\d{_SPACES}{_BINDERS}{_INVISIBLE}Xx\uff38\uff58]{{9,}}"
)
_ASCII_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_PREFIX_CHARS = frozenset("+\uff0b(\uff08")
_DASH_DOT_CHARS = frozenset("-.\uff0d\uff0e")
_EDGE_BEFORE = _ASCII_ALNUM | _PREFIX_CHARS | _DASH_DOT_CHARS
_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_REMEMBER_TRIAL = 200
"""Numbers that need the full pattern a scan reads before it judges whether remembering pays."""
_REMEMBER_MIN_SHARE = 8
"""Remembering goes on while at least one in this many of those numbers was a repeat."""
_CODE_TAIL = re.compile(r"[0-9]+(?:[\-.\uff0d\uff0e][0-9]+)*[\-.\uff0d\uff0e]?")
"""The tail of a code such as SO-2026-0101-02158: ASCII digits joined by single dashes or dots."""


def _chars_of(pattern: str) -> frozenset[str]:
    # every separator and prefix lies in Latin-1, General Punctuation or the CJK and
    # full-width forms blocks
    ranges = (range(0x100), range(0x2000, 0x2300), range(0x3000, 0x3001), range(0xFE50, 0xFF20))
    found = re.compile(pattern)
    return frozenset(c for r in ranges for c in map(chr, r) if found.fullmatch(c))


_SEP_OR_PREFIX = _chars_of(f"[{_SPACES}{_BINDERS}{_INVISIBLE}+\uff0b]")
"""What may sit just before a run and join a match of the full pattern or veto it."""
_SPACE_CHARS = _chars_of(f"[{_SPACES}]")
_EMAIL_WINDOW = (65, 260)
_AT_SIGNS = ("@", "\uff20")
_DECIMAL = re.compile(r"\d+[.\uff0e]\d+")
_GROUP = re.compile(f"[^{_SPACES}]+")
_EXTENSION = re.compile(r"[\-\u2010-\u2015\uff0d]\s*\d{1,6}$")
_NOT_DIGIT = re.compile(r"[^0-9X]")

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64}[@\uff20]"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
)


def _digit_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for code in range(0x110000):
        char = chr(code)
        if char.isdecimal() and not char.isascii():
            table[code] = str(unicodedata.decimal(char))
    for char in "Xx\uff38\uff58":
        table[ord(char)] = "X"
    return table


_DIGITS = _digit_table()


def normalise_digits(text: str) -> str:
    """ASCII digits (and a final X) of a written number: other scripts' digits folded,
    separators, signs and brackets dropped."""
    if text.isascii():
        return _NOT_DIGIT.sub("", text.replace("x", "X"))
    return _NOT_DIGIT.sub("", text.translate(_DIGITS))


class Hit(NamedTuple):
    """One piece of personal data in a text (a tuple: millions are made on large bodies)."""

    detector: str
    start: int
    end: int
    value: str
    """Canonical form: what partial styles show the ends of and pseudonyms are keyed on."""


Classified = dict[str, tuple[str, str] | None]
"""Plain ASCII digit strings and what classify_number made of them."""

_new_hit = cast(Callable[[tuple[str, int, int, str]], Hit], partial(tuple.__new__, Hit))
"""Hit from a tuple, without the Python-level `__new__` NamedTuple writes (a body makes
thousands of hits)."""

_START = itemgetter(1)
"""A hit's start, for sorting (a C-level key)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """What `--explain` and the audit log say about one masked value."""

    rule: str
    """The detector or field rule that masked it."""
    kind: str
    """What was found: a detector name or a field kind (person_name, address…)."""
    where: str


def classify_number(digits: str, international: bool) -> tuple[str, str] | None:
    """(detector, canonical value) for a number's digits, or None for a look-alike."""
    length = len(digits)
    if length != 11 and length != 15 and length != 18 and digits[:1] == "1":
        # millisecond timestamps and the like, a good share of a body's numbers: of personal
        # numbers only a mobile (11 digits) or a resident ID (15, 18) starts with 1
        return None
    if length in (15, 18) and cn_id_ok(digits):
        return CN_ID, digits
    if "X" in digits:
        return None
    if bank_card_ok(digits):
        return BANK_CARD, digits
    national = None
    if digits.startswith("0086"):
        national = digits[4:]
    elif digits.startswith("86") and (international or length in (12, 13)):
        national = digits[2:]
    if cn_mobile_ok(digits):
        return CN_MOBILE, digits
    if national is not None and cn_mobile_ok(national):
        return CN_MOBILE, national
    split = cn_landline_split(digits)
    if split is None and national is not None:
        split = cn_landline_split(national if national.startswith("0") else "0" + national)
    if split is not None:
        return CN_LANDLINE, f"{split[0]}-{split[1]}"
    return None


def _custom_value(detector: CustomDetector, text: str) -> str | None:
    value = unicodedata.normalize("NFKC", text)
    if detector.validator is Validator.LUHN:
        digits = normalise_digits(value).replace("X", "")
        return value if len(digits) >= 2 and luhn_ok(digits) else None
    if detector.validator is Validator.CN_ID:
        return value if cn_id_ok(normalise_digits(value)) else None
    return value


def _at_signs(text: str) -> Iterator[int]:
    """Where `@` and its full-width form stand, in order (str.find outruns a regex here)."""
    found = []
    for sign in _AT_SIGNS:
        position = text.find(sign)
        while position != -1:
            found.append(position)
            position = text.find(sign, position + 1)
    if "\uff20" in text:
        found.sort()
    return iter(found)


class _Taken:
    """Spans already claimed by a detector, kept sorted: long texts have many."""

    __slots__ = ("ends", "starts")

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def __bool__(self) -> bool:
        return bool(self.starts)

    def overlaps(self, start: int, end: int) -> bool:
        index = bisect_right(self.starts, start)
        if index and self.ends[index - 1] > start:
            return True
        return index < len(self.starts) and self.starts[index] < end

    def without_overlaps(self, hits: list[Hit]) -> list[Hit]:
        """`hits` (in order of start) less those overlapping a taken span:
        one walk of both sorted lists, since a body has hundreds of each."""
        kept: list[Hit] = []
        starts, ends = self.starts, self.ends
        index, count = 0, len(starts)
        for hit in hits:
            # taken spans that end before this hit cannot overlap it nor any later hit
            while index < count and ends[index] <= hit.start:
                index += 1
            if index < count and starts[index] < hit.end:
                continue
            kept.append(hit)
        return kept

    def add(self, start: int, end: int) -> None:
        index = bisect_right(self.starts, start)
        self.starts.insert(index, start)
        self.ends.insert(index, end)


class Scanner:
    """The detectors one request is subject to, compiled once and reused for every text."""

    def __init__(self, enabled: Iterable[str], custom: Iterable[CustomDetector] = ()) -> None:
        enabled = frozenset(enabled)
        self.enabled = enabled
        self._numbers = bool(enabled & NUMBER_DETECTORS)
        self._email = EMAIL in enabled
        self._custom = [(d, re.compile(d.pattern)) for d in custom if d.name in enabled]
        self.custom_names = frozenset(d.name for d, _ in self._custom)

    def scan(self, text: str, classified: Classified | None = None) -> list[Hit]:
        """Every piece of personal data in `text`, in order, none overlapping. `classified`
        remembers plain numbers already read (one body's scans may share it)."""
        hits: list[Hit] = []
        taken = _Taken()
        self._scan_custom(text, hits, taken)
        if self._email:
            for start, end in self._emails(text):
                if not taken.overlaps(start, end):
                    value = unicodedata.normalize("NFKC", text[start:end]).lower()
                    hits.append(Hit(EMAIL, start, end, value))
                    taken.add(start, end)
        if self._numbers:
            numbers: list[Hit] = []
            self._scan_numbers(text, numbers, {} if classified is None else classified)
            if taken and numbers:
                # e-mail and custom hits came first; a number inside one is already masked
                numbers.sort(key=_START)
                numbers = taken.without_overlaps(numbers)
            hits.extend(numbers)
        if len(hits) > 1:
            hits.sort(key=_START)
        return hits

    def _scan_custom(self, text: str, hits: list[Hit], taken: _Taken) -> None:
        for detector, pattern in self._custom:
            for match in pattern.finditer(text):
                value = _custom_value(detector, match.group())
                if value is not None and not taken.overlaps(match.start(), match.end()):
                    hits.append(Hit(detector.name, match.start(), match.end(), value))
                    taken.add(match.start(), match.end())

    @staticmethod
    def _emails(text: str) -> Iterator[tuple[int, int]]:
        """E-mail addresses, looked for only around each `@` (a long text has few)."""
        before, after = _EMAIL_WINDOW
        last_end = 0
        for position in _at_signs(text):
            if position < last_end:
                continue
            match = _EMAIL.search(text, max(last_end, position - before), position + after)
            if match is not None and match.start() <= position < match.end():
                last_end = match.end()
                yield match.start(), match.end()

    def scan_number(self, digits: str, classified: Classified | None = None) -> list[Hit]:
        """Personal data in a JSON number's digits (no separators, no sign)."""
        if self._numbers and len(digits) <= 19:
            if classified is None:
                found = classify_number(digits, False)
            else:
                try:
                    found = classified[digits]
                except KeyError:
                    found = classified[digits] = classify_number(digits, False)
            if found is not None:
                return [Hit(found[0], 0, len(digits), found[1])] if found[0] in self.enabled else []
        hits: list[Hit] = []
        # most numbers match no officer's pattern: one search each says so, cheaper than the
        # full custom scan
        if any(pattern.search(digits) for _, pattern in self._custom):
            self._scan_custom(digits, hits, _Taken())
        return hits

    def _scan_numbers(self, text: str, hits: list[Hit], plain: Classified) -> None:
        enabled = self.enabled
        length = len(text)
        append = hits.append
        classify = classify_number
        # A page repeats its values (a customer's record under each of their tickets): each
        # distinct number, with the few characters the pattern looks at around it, is read once.
        # Remembering costs where values do not repeat (an export of distinct records), so a
        # scan that finds few repeats among its first numbers reads the rest one by one.
        spelt: dict[tuple[str, int], list[Hit]] = {}
        alone: dict[str, list[Hit]] = {}
        remember = True
        looked = repeats = 0
        for candidate in _CANDIDATE.finditer(text):
            run = candidate.group()
            start, end = candidate.span()
            if (
                run.isascii()
                and run.isdigit()
                and (not start or text[start - 1] not in _EDGE_BEFORE)
                and (end == length or text[end] not in _ASCII_ALNUM)
            ):
                # plain digits with clean edges, the common case, settle here
                if remember:
                    try:
                        found = plain[run]
                    except KeyError:
                        found = plain[run] = classify(run, False) if len(run) <= 19 else None
                else:
                    found = classify(run, False) if len(run) <= 19 else None
                if found is not None and found[0] in enabled:
                    append(_new_hit((found[0], start, end, found[1])))
                continue
            # separators, a prefix or a doubtful edge: the full pattern decides.
            before = text[start - 1] if start else ""
            if (
                before in _DASH_DOT_CHARS
                and start > 1
                and text[start - 2] in _ASCII_LETTERS
                and _CODE_TAIL.fullmatch(run)
            ):
                # An order or parcel number glued to its letters (SO-2026-0101-02158): every
                # digit follows a digit or a dash or dot that follows one, which the pattern's
                # lookbehinds refuse, and nothing before the letter can start a match.
                continue
            if not remember:
                self._runs_at(text, start, end, hits)
                continue
            looked += 1
            if looked == _REMEMBER_TRIAL and repeats * _REMEMBER_MIN_SHARE < looked:
                remember = False
            if (end == length or text[end] not in _ASCII_LETTERS) and (
                before not in _SEP_OR_PREFIX
                or (before in _SPACE_CHARS and (start < 2 or text[start - 2] not in _SEP_OR_PREFIX))
            ):
                # Nothing around the run can start, end or veto a match of the pattern (no
                # prefix or separator just before it, no letter just after it): what it finds
                # depends on the run alone, wherever it stands.
                found_alone = alone.get(run)
                if found_alone is None:
                    found_alone = alone[run] = self._runs_in(text, start, end, start)
                else:
                    repeats += 1
                for hit in found_alone:
                    append(_new_hit((hit[0], hit[1] + start, hit[2] + start, hit[3])))
                continue
            # Its lookbehind reaches 2 characters before the window, so those are part of what
            # is remembered.
            low = max(0, start - 3)
            seen = max(0, low - _RUN_LOOKBEHIND)
            key = (text[seen : min(length, end + 2)], low - seen)
            found_here = spelt.get(key)
            if found_here is None:
                found_here = spelt[key] = self._runs_in(text, start, end, low)
            else:
                repeats += 1
            for hit in found_here:
                append(_new_hit((hit[0], hit[1] + low, hit[2] + low, hit[3])))

    def _runs_at(self, text: str, start: int, end: int, hits: list[Hit]) -> None:
        """Hits of the full pattern around a candidate at text[start:end], where they stand."""
        for match in _RUN.finditer(text, max(0, start - 3), min(len(text), end + 2)):
            self._scan_run(match.group(), match.start(), hits)

    def _runs_in(self, text: str, start: int, end: int, origin: int) -> list[Hit]:
        """Hits of the full pattern around a candidate at text[start:end], placed from origin."""
        found: list[Hit] = []
        low = max(0, start - 3)
        for match in _RUN.finditer(text, low, min(len(text), end + 2)):
            self._scan_run(match.group(), match.start() - origin, found)
        return found

    def _scan_run(self, run: str, offset: int, hits: list[Hit]) -> None:
        if _DECIMAL.fullmatch(run):
            return  # 1.3800138000 is a decimal number, not a dotted phone number
        international = run.lstrip("(\uff08")[:1] in ("+", "\uff0b")
        whole = self._classify(run, international)
        if whole is not None:
            if whole[0] in self.enabled:
                hits.append(Hit(whole[0], offset, offset + len(run), whole[1]))
            return
        groups = [(m.start(), m.end()) for m in _GROUP.finditer(run)]
        if len(groups) < 2:
            return
        # Spaces may separate several numbers: try the longest spans of groups, left first.
        i = 0
        while i < len(groups):
            for j in range(len(groups), i, -1):
                if i == 0 and j == len(groups):
                    continue
                start, end = groups[i][0], groups[j - 1][1]
                found = self._classify(run[start:end], international and i == 0)
                if found is not None:
                    if found[0] in self.enabled:
                        hits.append(Hit(found[0], offset + start, offset + end, found[1]))
                    i = j
                    break
            else:
                i += 1

    @staticmethod
    def _classify(text: str, international: bool) -> tuple[str, str] | None:
        digits = normalise_digits(text)
        if not 10 <= len(digits) <= 19:
            return None
        found = classify_number(digits, international)
        if found is None and (ext := _EXTENSION.search(text)):
            # a landline with an extension: 010-12345678-123
            landline = classify_number(normalise_digits(text[: ext.start()]), international)
            if landline is not None and landline[0] == CN_LANDLINE:
                return landline
        return found
