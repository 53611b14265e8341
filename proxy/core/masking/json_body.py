"""JSON and JSON Lines. The parser undoes `\\u` escapes; numbers are checked as they are
parsed (a masked number becomes a string); field rules are applied to each object as it is
built; then the re-serialised document is scanned as one text, which is what makes it fast."""

from __future__ import annotations

import html
import json
import math
import re
from bisect import bisect_right
from functools import partial
from typing import Any

from mypy_extensions import mypyc_attr

from .errors import UnmaskableBodyError
from .fields import JsonPathRule
from .run import MaskRun
from .scanner import Hit

_MIN_DIGITS = 10
"""No personal number has fewer digits; shorter JSON numbers are never looked at."""
_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|.)")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BETWEEN_STRINGS = frozenset("{}[]:,0123456789.eE+-truefalsn")
"""Every character compact JSON may have outside its strings: a piece of text holding any
other character (and no quote) lies inside a string."""
_KEY_BEFORE = re.compile(r'"((?:[^"\\]|\\.){0,80})"\s*:\s*$')


@mypyc_attr(native_class=False)  # compiled (scripts/native.py), it stays a Python str subclass
class _Masked(str):
    """A value already masked (a number, or by a field rule): never masked twice."""

    __slots__ = ()


def _escaped(text: str, index: int) -> bool:
    backslashes = 0
    while index > 0 and text[index - 1] == "\\":
        backslashes += 1
        index -= 1
    return backslashes % 2 == 1


def _string_around(text: str, index: int) -> tuple[int, int]:
    """(opening quote, closing quote) of the JSON string holding `index` in compact JSON.

    Only for characters that cannot stand outside a string (such as `&`).
    """
    start = text.rfind('"', 0, index)
    while start > 0 and _escaped(text, start):
        start = text.rfind('"', 0, start)
    end = text.find('"', index)
    while end != -1 and _escaped(text, end):
        end = text.find('"', end + 1)
    return start, end


def _where_in(text: str, prefix: str, index: int) -> str:
    """The key nearest before a value in serialised JSON: good enough for `--explain`."""
    opening = text.rfind('"', 0, index)
    match = _KEY_BEFORE.search(text, max(0, opening - 400), max(opening, 0))
    return f"{prefix}..{match.group(1)}" if match else f"{prefix} (char {index})"


class JsonMasker:
    """Masks one JSON document (a body, a line, a script element)."""

    def __init__(self, run: MaskRun, prefix: str = "$") -> None:
        self.run = run
        self.prefix = prefix
        self._by_key: dict[str, JsonPathRule] = {}
        """Single-key rules (`name`), the common case, applied without a walk."""
        self._by_first: dict[str, list[JsonPathRule]] = {}
        self._any_first: list[JsonPathRule] = []
        self._root_rules: list[JsonPathRule] = []
        for rule in run.json_rules:
            if rule.anchored:
                self._root_rules.append(rule)
            elif rule.segments[0] == "*":
                self._any_first.append(rule)
            elif len(rule.segments) == 1:
                self._by_key.setdefault(rule.segments[0], rule)
            else:
                self._by_first.setdefault(rule.segments[0], []).append(rule)
        self._rule_keys = frozenset(self._by_key) | frozenset(self._by_first)
        self._number_where = f"{prefix} (a number)"
        self._clean_numbers: set[str] = set()
        """Numbers of this document already found to hold no personal data."""
        self._changed = False
        self._out_of_range = False
        """A number read as infinity (1e400): the document can only go out as it came."""

    def mask_text(self, text: str) -> str | None:
        """The masked document as compact JSON, or None when nothing needed masking."""
        has_rules = bool(self._by_key or self._by_first or self._any_first)
        try:
            document = json.loads(
                text,
                parse_int=self._int,
                parse_float=self._float,
                object_hook=self._object if has_rules else None,
            )
            for rule in self._root_rules:
                self._descend(document, rule.segments, rule)
            canonical = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        except RecursionError as err:
            raise UnmaskableBodyError("JSON body is nested too deeply to mask") from err
        except ValueError as err:
            raise UnmaskableBodyError(f"body is not valid JSON: {err}") from err
        masked = self._mask_serialised(canonical)
        if masked is None and not self._changed:
            return None
        if self._out_of_range:
            # 1e400 reads back as inf, which JSON cannot write: the page would break
            raise UnmaskableBodyError("a JSON number is out of range and cannot be written back")
        return canonical if masked is None else masked

    # numbers, as the parser meets them

    def _number(self, digits: str) -> str | None:
        if digits in self._clean_numbers:
            return None  # timestamps and IDs recur through a body
        hits = self.run.scanner.scan_number(digits, self.run.classified)
        if not hits:
            self._clean_numbers.add(digits)
            return None
        self._changed = True
        return _Masked(self.run.replace(digits, hits, self._number_where))

    def _int(self, token: str) -> int | str:
        if len(token) < _MIN_DIGITS:
            return int(token)  # most are: counts, IDs, small amounts
        digits = token[1:] if token[0] == "-" else token
        if len(digits) < _MIN_DIGITS:
            return int(token)
        masked = self._number(digits)
        return int(token) if masked is None else masked

    def _float(self, token: str) -> float | str:
        value = float(token)
        if math.isinf(value):
            self._out_of_range = True
        # JavaScript shows 13800138000.0 as 13800138000
        if value.is_integer() and 1e9 <= abs(value) < 1e20:
            masked = self._number(str(int(abs(value))))
            if masked is not None:
                return masked
        return value

    # field rules, as the parser builds each object

    def _object(self, node: dict[str, Any]) -> dict[str, Any]:
        if not self._any_first and self._rule_keys.isdisjoint(node):
            return node  # most objects hold no key a rule names
        for key, rule in self._by_key.items():
            if key in node:
                node[key] = self._field(node[key], rule)
        for first, rules in self._by_first.items():
            if first in node:
                for rule in rules:
                    self._descend(node, rule.segments, rule)
        for rule in self._any_first:
            self._descend(node, rule.segments, rule)
        return node

    def _descend(self, node: Any, segments: tuple[str, ...], rule: JsonPathRule) -> None:
        segment, rest = segments[0], segments[1:]
        keys: list[Any]
        if type(node) is dict:
            keys = list(node) if segment == "*" else [segment] if segment in node else []
        elif type(node) is list:
            if segment == "*":
                keys = list(range(len(node)))
            else:
                keys = [int(segment)] if segment.isdigit() and int(segment) < len(node) else []
        else:
            return
        for key in keys:
            if rest:
                self._descend(node[key], rest, rule)
            else:
                node[key] = self._field(node[key], rule)

    def _field(self, value: Any, rule: JsonPathRule) -> Any:
        kind = type(value)
        if kind is _Masked:
            return value
        if kind is str or kind is int or kind is float:
            self._changed = True
            where = f"{self.prefix}..{'.'.join(rule.segments)}"
            return _Masked(self.run.field(rule.rule, str(value), where))
        if kind is dict:
            for key in list(value):
                value[key] = self._field(value[key], rule)
        elif kind is list:
            for index, inner in enumerate(value):
                value[index] = self._field(inner, rule)
        return value

    # every string (keys too), scanned in one pass over the serialised document

    def _mask_serialised(self, text: str) -> str | None:
        if "&" in text:
            text = self._mask_entity_strings(text)
        # Escapes (\n, \u0001, \") are hidden from the detectors so that `\n13800138000`
        # reads as a line break then a number, the way the decoded string does.
        view = _ESCAPE.sub(lambda m: '"' * len(m.group()), text) if "\\" in text else text
        hits = self.run.scanner.scan(view, self.run.classified)
        custom = self.run.scanner.custom_names
        if custom and any(hit.detector in custom for hit in hits):
            hits = _inside_strings(text, hits, custom)
        if not hits:
            return text if self._changed else None
        self._changed = True
        return self.run.replace(text, hits, partial(_where_in, text, self.prefix))

    def _mask_entity_strings(self, text: str) -> str:
        """Strings with character references (`&#49;3800138000`) are read as a page shows
        them, since JSON strings often end up in one; those that hold personal data are
        replaced by their masked, spelt-out text."""
        parts: list[str] = []
        position = 0
        index = text.find("&")
        while index != -1:
            start, end = _string_around(text, index)
            if start < 0 or end < 0:
                raise UnmaskableBodyError("serialised JSON has '&' outside a string")
            value = json.loads(text[start : end + 1])
            decoded = html.unescape(value)
            if decoded != value:
                hits = self.run.scanner.scan(decoded)
                if hits:
                    masked = self.run.replace(decoded, hits, f"{self.prefix} (entities)")
                    parts.append(text[position:start])
                    parts.append(json.dumps(masked, ensure_ascii=False))
                    position = end + 1
                    self._changed = True
            index = text.find("&", end + 1)
        if not parts:
            return text
        parts.append(text[position:])
        return "".join(parts)


def _inside_strings(text: str, hits: list[Hit], custom: frozenset[str]) -> list[Hit]:
    """An officer's pattern may match a bare number, which the number check has already dealt
    with: its hits count only within strings. Most hits show it by a character no bare token
    has; the others are placed by the string spans."""
    starts: list[int] | None = None
    ends: list[int] = []
    kept = []
    for hit in hits:
        if hit.detector not in custom:
            kept.append(hit)
            continue
        piece = text[hit.start : hit.end]
        if '"' not in piece and not _BETWEEN_STRINGS.issuperset(piece):
            kept.append(hit)
            continue
        if starts is None:
            starts = []
            for match in _STRING.finditer(text):
                starts.append(match.start())
                ends.append(match.end())
        index = bisect_right(starts, hit.start) - 1
        if index >= 0 and hit.end < ends[index]:
            kept.append(hit)
    return kept


def mask_json_lines(run: MaskRun, text: str) -> str | None:
    """JSON Lines: each line one document; blank lines kept."""
    lines = text.split("\n")
    changed = False
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            new = JsonMasker(run, prefix=f"line {number}: $").mask_text(line)
        except UnmaskableBodyError as err:
            raise UnmaskableBodyError(f"line {number}: {err}") from err
        if new is not None:
            lines[number - 1] = new + ("\r" if line.endswith("\r") else "")
            changed = True
    return "\n".join(lines) if changed else None
