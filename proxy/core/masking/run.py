"""One masking run over one body: the detectors and field rules in force for this request,
the text-level masking every format shares, and the tally of what was masked where."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..policy.masking import FieldRule
from .errors import UnmaskableBodyError
from .fields import JsonPathRule, apply_kind
from .scanner import Classified, Finding, Hit, Scanner
from .styles import Styler

Where = str | Callable[[int], str]
"""Where a value sits (`$..contacts.name`); or a callable, given the offset of the value in the
text, when working it out costs: it is only called for `--explain`."""

_WORTH_SCANNING = re.compile(r"[\d@\uff20]")
"""What the part a field rule keeps must hold to be worth scanning again."""

# JavaScript escapes. What a script shows is what the agent reads, so every escape is read as
# its character, except those that are syntax (a quote, a backslash, `<`, a line break...): had
# they been written out, the masked text would read differently; they stand in the scanned text
# as a placeholder that ends a number as the real character would, and are put back as written.
_JS_ESCAPE = re.compile(
    r"\\u([dD][89abAB][0-9A-Fa-f]{2})\\u([dD][c-fC-F][0-9A-Fa-f]{2})"
    r"|\\u\{([0-9A-Fa-f]{1,6})\}|\\u([0-9A-Fa-f]{4})|\\x([0-9A-Fa-f]{2})"
)
_SYNTAX = frozenset("\"'`\\<>/&${}")  # & too: entities are read after escapes
_KEPT = "\ufdd0"
"""Stands for an escape kept as written: a Unicode noncharacter, which no page holds."""


def _escaped_char(match: re.Match[str]) -> str | None:
    """The character an escape spells, or None for one that must stay written as an escape."""
    high, low, braced, four, two = match.groups()
    if high is not None:
        code = 0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00)
    else:
        code = int(braced or four or two, 16)
    if code >= 0x110000 or 0xD800 <= code < 0xE000:
        return None
    char = chr(code)
    if char in _SYNTAX or unicodedata.category(char) in ("Cc", "Zl", "Zp") or char == _KEPT:
        return None
    return char


def js_unescaped(text: str) -> tuple[str, list[str]]:
    """`text` as a script shows it, and the escapes kept as written (each a placeholder in the
    text, in order; `restore_escapes` puts them back)."""
    if "\\u" not in text and "\\x" not in text:
        return text, []
    if _KEPT in text:
        raise UnmaskableBodyError("text holds U+FDD0, a noncharacter the masker reserves")
    kept: list[str] = []

    def decode(match: re.Match[str]) -> str:
        char = _escaped_char(match)
        if char is None:
            kept.append(match.group())
            return _KEPT
        return char

    return _JS_ESCAPE.sub(decode, text), kept


def restore_escapes(text: str, kept: list[str]) -> str:
    """Masked text with the escapes js_unescaped kept put back where they stood."""
    if not kept:
        return text
    parts = text.split(_KEPT)
    if len(parts) != len(kept) + 1:
        # a custom detector's match took a placeholder in: the text cannot be put back
        raise UnmaskableBodyError("a masked value covered an escape the text must keep")
    return "".join(part + escape for part, escape in zip(parts, [*kept, ""], strict=True))


def entity_unescaped(text: str) -> str:
    """`text` as HTML would show it (`&#49;3800138000`), for text that may land in a page."""
    return html.unescape(text) if "&" in text else text


@dataclass(slots=True)
class Tally:
    """What a run masked: counts per rule, and with `explain` one finding per masked value."""

    explain: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def add(self, rule: str, kind: str, where: Where, offset: int = 0) -> None:
        self.counts[rule] = self.counts.get(rule, 0) + 1
        if self.explain:
            place = where if isinstance(where, str) else where(offset)
            self.findings.append(Finding(rule, kind, place))


class MaskRun:
    """The masking of one body for one request (role and URL already resolved)."""

    def __init__(
        self,
        scanner: Scanner,
        styler: Styler,
        field_rules: Sequence[FieldRule],
        json_rules: Sequence[JsonPathRule],
        *,
        explain: bool = False,
    ) -> None:
        self.scanner = scanner
        self.styler = styler
        self.field_rules = list(field_rules)
        self.json_rules = list(json_rules)
        self.tally = Tally(explain)
        self.classified: Classified = {}
        """Plain numbers read so far in this body, shared by its scans."""
        self._masks: dict[tuple[str, str], str] = {}
        """What each (detector, value) is shown as, styled once per run."""
        self._fields: dict[tuple[str, str], str] = {}
        """What each (field rule, value) became: a customer's record recurs under each ticket."""
        self._field_hits: dict[tuple[str, str], list[str]] = {}
        """The detectors that hit in the part a field rule kept, to count them again."""

    def replace(self, text: str, hits: list[Hit], where: Where) -> str:
        """`text` with each hit replaced by its styled mask."""
        if self.tally.explain:
            return self._replace_explained(text, hits, where)
        # A body repeats its values (a customer's record under each ticket): each distinct
        # value is styled once per run, and counts are kept here rather than per call.
        render = self.styler.render
        masks = self._masks
        counts = self.tally.counts
        parts: list[str] = []
        append = parts.append
        position = 0
        for hit in hits:
            append(text[position : hit.start])
            key = (hit.detector, hit.value)
            masked = masks.get(key)
            if masked is None:
                masked = masks[key] = render(hit)
            append(masked)
            position = hit.end
            counts[hit.detector] = counts.get(hit.detector, 0) + 1
        append(text[position:])
        return "".join(parts)

    def _replace_explained(self, text: str, hits: list[Hit], where: Where) -> str:
        render = self.styler.render
        add = self.tally.add
        parts: list[str] = []
        position = 0
        for hit in hits:
            parts.append(text[position : hit.start])
            parts.append(render(hit))
            position = hit.end
            add(hit.detector, hit.detector, where, hit.start)
        parts.append(text[position:])
        return "".join(parts)

    def text(
        self, text: str, where: Where, *, js: bool = False, entities: bool = False
    ) -> str | None:
        """Masked text, or None when it holds nothing to mask.

        With `js` or `entities`, the text is also read the way a script or a page would show it
        (escapes and character references spelt out); if that reading holds personal data, the
        spelt-out text is what comes back, masked.
        """
        decoded, kept = js_unescaped(text) if js else (text, [])
        if entities:
            decoded = entity_unescaped(decoded)
        if decoded is not text and decoded != text:
            hits = self.scanner.scan(decoded)
            if hits:
                return restore_escapes(self.replace(decoded, hits, where), kept)
        hits = self.scanner.scan(text)
        if not hits:
            return None
        return self.replace(text, hits, where)

    def field(self, rule: FieldRule, value: str, where: Where) -> str:
        """The value masked by a field rule (the part it keeps is scanned too)."""
        self.tally.add(rule.name, rule.kind.value, where)
        key = (rule.name, value)
        done = self._fields.get(key)
        if done is not None and not self.tally.explain:
            # counted as the first time was: what the kept part holds
            counts = self.tally.counts
            for detector in self._field_hits.get(key, ()):
                counts[detector] = counts.get(detector, 0) + 1
            return done
        masked = apply_kind(rule.kind, value)
        if _WORTH_SCANNING.search(masked):
            hits = self.scanner.scan(masked)
            if hits:
                self._field_hits[key] = [hit.detector for hit in hits]
                masked = self.replace(masked, hits, where)
        self._fields[key] = masked
        return masked
