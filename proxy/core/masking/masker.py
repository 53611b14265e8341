"""The masker the gateway builds once per policy and calls for every response body."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from ..policy.masking import BUILTIN_DETECTORS, Exemption, Style
from ..policy.model import Policy
from ..urls import AmbiguousURLError, parse_pattern, parse_request_url
from .codecs import (
    content_encodings,
    declared_charset,
    decode_content,
    decode_text,
    encode_content,
    encode_text,
    html_meta_charset,
)
from .errors import BodyTooLargeError, UnmaskableBodyError
from .fields import JsonPathRule
from .html_body import check_selectors, mask_html
from .json_body import JsonMasker, mask_json_lines
from .run import MaskRun
from .scanner import Finding, Scanner
from .styles import Styler
from .text_body import mask_form, mask_plain


class BodyFormat(StrEnum):
    JSON = "json"
    JSONL = "jsonl"
    HTML = "html"
    TEXT = "text"
    FORM = "form"


_MEDIA_TYPES = {
    "application/json": BodyFormat.JSON,
    "text/json": BodyFormat.JSON,
    "application/x-ndjson": BodyFormat.JSONL,
    "application/ndjson": BodyFormat.JSONL,
    "application/jsonl": BodyFormat.JSONL,
    "application/x-jsonlines": BodyFormat.JSONL,
    "application/jsonlines": BodyFormat.JSONL,
    "text/html": BodyFormat.HTML,
    "application/xhtml+xml": BodyFormat.HTML,
    "application/x-www-form-urlencoded": BodyFormat.FORM,
    "application/javascript": BodyFormat.TEXT,
    "application/ecmascript": BodyFormat.TEXT,
    "application/xml": BodyFormat.TEXT,
}
_ANY_URL = Exemption.model_fields["url"].default
_FORM_SNIFF = re.compile(r"^[\w.\-%+\[\]]+=[^&\s]*(?:&[\w.\-%+\[\]]+=[^&\s]*)*$")


def format_for(content_type: str | None) -> BodyFormat | None:
    """The format a Content-Type names; None when it names no text format (or is absent)."""
    if not content_type:
        return None
    media = content_type.split(";", 1)[0].strip().lower()
    if media in _MEDIA_TYPES:
        return _MEDIA_TYPES[media]
    if media.endswith("+json"):
        return BodyFormat.JSON
    if media.endswith("+xml") or media.startswith("text/"):
        return BodyFormat.TEXT
    return None


def is_maskable(content_type: str | None) -> bool:
    """Whether the masker can read bodies of this Content-Type (absent: sniffed, so yes)."""
    return content_type is None or format_for(content_type) is not None


def sniff_format(text: str) -> BodyFormat:
    """The format of a body that came without a usable Content-Type, from its first bytes."""
    head = text.lstrip("\ufeff \t\r\n")
    if head[:1] in ("{", "["):
        try:
            json.loads(text)
        except ValueError:
            return BodyFormat.JSONL if "\n" in head.strip() else BodyFormat.JSON
        return BodyFormat.JSON
    if head[:1] == "<":
        return BodyFormat.HTML
    if _FORM_SNIFF.match(head.strip()):
        return BodyFormat.FORM
    return BodyFormat.TEXT


@dataclass(frozen=True, slots=True)
class MaskResult:
    """A masked body, and what was masked in it."""

    body: bytes
    format: BodyFormat
    counts: dict[str, int] = field(default_factory=dict)
    """Masked values per detector or field rule."""
    findings: list[Finding] = field(default_factory=list)
    """One per masked value, when asked for with `explain`."""

    @property
    def changed(self) -> bool:
        return bool(self.counts)


@dataclass(frozen=True, slots=True)
class TextMaskResult:
    text: str
    counts: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


class Masker:
    """Everything the policy's masking section says, compiled once.

    The gateway buffers a body whole (streaming is off for inspected flows) and calls
    `mask_body`; a body that cannot be read raises `UnmaskableBodyError`, and the flow is blocked.
    """

    def __init__(self, policy: Policy, pseudonym_key: bytes) -> None:
        if len(pseudonym_key) < 16:
            raise ValueError("the pseudonym key must be at least 16 bytes")
        masking = policy.masking
        self.policy = policy
        self.max_body_bytes = masking.max_body_bytes
        self._detectors = [name for name in BUILTIN_DETECTORS if masking.setting(name).enabled] + [
            custom.name for custom in masking.custom
        ]
        styles: dict[str, Style] = {name: masking.setting(name).style for name in BUILTIN_DETECTORS}
        styles.update({custom.name: custom.style for custom in masking.custom})
        self._styler = Styler(styles, pseudonym_key)
        self._custom = list(masking.custom)
        self._fields = list(masking.fields)
        self._json_rules = [
            JsonPathRule.parse(rule, path) for rule in masking.fields for path in rule.json_paths
        ]
        check_selectors(self._fields)
        self._exemptions = [
            (exemption, parse_pattern(exemption.url)) for exemption in masking.exempt
        ]
        self._scanner = lru_cache(maxsize=64)(self._build_scanner)

    def _build_scanner(self, active: frozenset[str]) -> Scanner:
        return Scanner(active, self._custom)

    def active_rules(self, role: str | None, url: str | None) -> frozenset[str]:
        """The detectors and field rules in force for this role and URL, after exemptions.

        Without a URL only exemptions for any URL apply; a URL that cannot be read
        unambiguously gets none: masking more is the safe side.
        """
        active = set(self._detectors) | {rule.name for rule in self._fields}
        if not self._exemptions:
            return frozenset(active)
        request_url = None
        if url is not None:
            try:
                request_url = parse_request_url(url)
            except AmbiguousURLError:
                return frozenset(active)
        for exemption, pattern in self._exemptions:
            if exemption.roles and role not in exemption.roles:
                continue
            if request_url is None:
                applies = exemption.url == _ANY_URL
            else:
                applies = pattern.matches(request_url)
            if applies:
                active.difference_update(exemption.detectors)
        return frozenset(active)

    def _run(self, role: str | None, url: str | None, explain: bool) -> MaskRun:
        active = self.active_rules(role, url)
        fields = [rule for rule in self._fields if rule.name in active]
        return MaskRun(
            self._scanner(active),
            self._styler,
            fields,
            [rule for rule in self._json_rules if rule.rule.name in active],
            explain=explain,
        )

    def mask_text(
        self,
        text: str,
        *,
        body_format: BodyFormat = BodyFormat.TEXT,
        role: str | None = None,
        url: str | None = None,
        charset: str = "utf-8",
        explain: bool = False,
    ) -> TextMaskResult:
        """Mask decoded text in one format; `charset` only matters to form bodies."""
        run = self._run(role, url, explain)
        masked = _mask_format(run, text, body_format, charset)
        return TextMaskResult(
            text if masked is None else masked, run.tally.counts, run.tally.findings
        )

    def mask_body(
        self,
        body: bytes,
        *,
        content_type: str | None,
        content_encoding: str | None,
        role: str | None,
        url: str | None,
        body_format: BodyFormat | None = None,
        explain: bool = False,
        then: Callable[[str, BodyFormat], str] | None = None,
    ) -> MaskResult:
        """What the agent may see of a response body: decoded, masked, encoded as it came.

        `body_format` overrides what Content-Type and sniffing say; `explain` collects a
        finding per masked value (counts are always kept); `then` further transforms the
        masked text before it is encoded again (the watermark step). Raises
        UnmaskableBodyError (BodyTooLargeError over the size limit) for anything it cannot read.
        """
        limit = self.max_body_bytes
        if len(body) > limit:
            raise BodyTooLargeError(f"body of {len(body)} bytes is over the limit of {limit}")
        encodings = content_encodings(content_encoding)
        raw = decode_content(body, encodings, limit)
        fmt = body_format or format_for(content_type)
        if fmt is None and content_type is not None and content_type.split(";")[0].strip():
            raise UnmaskableBodyError(
                f"content type {content_type!r} is not a format the masker reads"
            )
        charset = declared_charset(content_type)
        if charset is None and (
            fmt is BodyFormat.HTML or (fmt is None and raw.lstrip()[:1] == b"<")
        ):
            charset = html_meta_charset(raw)
        if charset is None:
            charset = _unicode_charset(raw)
        text = decode_text(raw, charset)
        if fmt is None:
            fmt = sniff_format(text)
        run = self._run(role, url, explain)
        masked = _mask_format(run, text, fmt, charset)
        if then is not None:
            marked = then(text if masked is None else masked, fmt)
            masked = None if masked is None and marked == text else marked
        if masked is None:
            return MaskResult(body, fmt)
        out = encode_content(encode_text(masked, charset), encodings)
        return MaskResult(out, fmt, run.tally.counts, run.tally.findings)

    def mask_chunks(
        self,
        chunks: Iterable[bytes],
        *,
        content_type: str | None,
        content_encoding: str | None,
        role: str | None,
        url: str | None,
        body_format: BodyFormat | None = None,
        explain: bool = False,
    ) -> MaskResult:
        """A body that arrives in pieces, masked as a whole (data split across chunks is found
        like any other); the size limit stops reading early."""
        buffer = bytearray()
        for chunk in chunks:
            buffer += chunk
            if len(buffer) > self.max_body_bytes:
                raise BodyTooLargeError(f"body is over the limit of {self.max_body_bytes} bytes")
        return self.mask_body(
            bytes(buffer),
            content_type=content_type,
            content_encoding=content_encoding,
            role=role,
            url=url,
            body_format=body_format,
            explain=explain,
        )


def _unicode_charset(raw: bytes) -> str:
    """UTF-8 unless a byte-order mark or JSON's null pattern says UTF-16 or UTF-32."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-32" if raw.startswith(b"\xff\xfe\x00\x00") else "utf-16"
    return json.detect_encoding(raw)


def _mask_format(run: MaskRun, text: str, fmt: BodyFormat, charset: str) -> str | None:
    if fmt is BodyFormat.JSON:
        if not text.strip():
            return None
        return JsonMasker(run).mask_text(text.lstrip("\ufeff"))
    if fmt is BodyFormat.JSONL:
        return mask_json_lines(run, text)
    if fmt is BodyFormat.HTML:
        return mask_html(run, text)
    if fmt is BodyFormat.FORM:
        return mask_form(run, text, charset)
    return mask_plain(run, text)
