"""Finding personal data in decoded text: the built-in detectors and the policy's custom ones.

Numbers are found as runs of digits (any script's decimal digits, full-width included) joined
by separators, then classified by their digits and validators, so look-alikes stay as they are.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

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
    rf"(?<![\dA-Za-z])(?<!\d[{_DASH_DOT}])"
    rf"(?:[+\uff0b]{_SEP}{{0,2}})?(?:[(\uff08]{_SEP}{{0,2}})?"
    rf"\d(?:{_SEP}{{0,3}}\d){{6,}}(?:{_SEP}{{0,3}}[Xx\uff38\uff58])?"
    rf"(?![\dA-Za-z])(?![{_DASH_DOT}]\d)"
)
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
    return _NOT_DIGIT.sub("", text.translate(_DIGITS))


@dataclass(frozen=True, slots=True)
class Hit:
    """One piece of personal data in a text."""

    detector: str
    start: int
    end: int
    value: str
    """Canonical form: what partial styles show the ends of and pseudonyms are keyed on."""


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


def _overlaps(taken: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(start < t_end and t_start < end for t_start, t_end in taken)


class Scanner:
    """The detectors one request is subject to, compiled once and reused for every text."""

    def __init__(self, enabled: Iterable[str], custom: Iterable[CustomDetector] = ()) -> None:
        enabled = frozenset(enabled)
        self.enabled = enabled
        self._numbers = bool(enabled & NUMBER_DETECTORS)
        self._email = EMAIL in enabled
        self._custom = [(d, re.compile(d.pattern)) for d in custom if d.name in enabled]

    def scan(self, text: str) -> list[Hit]:
        """Every piece of personal data in `text`, in order, none overlapping."""
        hits: list[Hit] = []
        taken: list[tuple[int, int]] = []
        for detector, pattern in self._custom:
            for match in pattern.finditer(text):
                value = _custom_value(detector, match.group())
                if value is not None and not _overlaps(taken, match.start(), match.end()):
                    hits.append(Hit(detector.name, match.start(), match.end(), value))
                    taken.append((match.start(), match.end()))
        if self._email and ("@" in text or "\uff20" in text):
            for match in _EMAIL.finditer(text):
                if not _overlaps(taken, match.start(), match.end()):
                    value = unicodedata.normalize("NFKC", match.group()).lower()
                    hits.append(Hit(EMAIL, match.start(), match.end(), value))
                    taken.append((match.start(), match.end()))
        if self._numbers:
            for match in _RUN.finditer(text):
                if taken and _overlaps(taken, match.start(), match.end()):
                    continue
                self._scan_run(match.group(), match.start(), hits)
        if len(hits) > 1:
            hits.sort(key=lambda hit: hit.start)
        return hits

    def _scan_run(self, run: str, offset: int, hits: list[Hit]) -> None:
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
