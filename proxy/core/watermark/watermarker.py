"""What the gateway calls: watermark each response for an agent, and trace marks back."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ..policy.model import Policy
from .errors import WatermarkError
from .html_body import watermark_html
from .invisible import embed, encode, extract, unescape
from .json_body import embed_json
from .mark import Mark, SealedMark, check_key, sign, verify
from .visible import csp_allowing, overlay

BodyKind = Literal["json", "jsonl", "html", "text"]


@dataclass(frozen=True, slots=True)
class Watermarked:
    """A watermarked body and what the gateway must do with the response headers."""

    body: str
    marks: int
    """Invisible marks embedded (for JSON: values changed)."""
    overlay: bool
    """The visible overlay was placed (HTML only)."""
    content_security_policy: str | None = None
    """The Content-Security-Policy header value to send instead of the page's, or None to keep
    it: set when the page's CSP would block the overlay's style."""
    meta_csp: bool = False
    """The page has a CSP in a <meta> tag the gateway cannot adjust: the overlay may not show."""


class Watermarker:
    """Marks bodies per the policy's `watermark` section with one deployment key."""

    def __init__(self, policy: Policy, key: bytes) -> None:
        self._setting = policy.watermark
        self._key = key
        check_key(key)

    def watermark(
        self,
        text: str,
        *,
        kind: BodyKind,
        agent: str,
        now: datetime,
        reference: str,
        csp: str | None = None,
        parsed: bool = False,
    ) -> Watermarked:
        """Mark one response body. `csp` is the response's Content-Security-Policy header, if
        any; `parsed` says a JSON body has just been read as JSON by the caller. Raises
        WatermarkError (block the response) when the body cannot be read as `kind`."""
        mark = sign(Mark(agent, now, reference), self._key)
        invisible = self._setting.invisible
        every = invisible.every_chars
        if kind == "html":
            visible = self._setting.visible
            layer = overlay(visible, agent=agent, now=now, reference=reference)
            page = watermark_html(
                text,
                mark=mark if invisible.enabled else None,
                overlay=layer.markup if visible.enabled else None,
                every_chars=every,
            )
            new_csp = csp_allowing(csp, layer.style_hash) if csp and page.overlay else None
            return Watermarked(page.body, page.marks, page.overlay, new_csp, page.meta_csp)
        if not invisible.enabled:
            return Watermarked(text, 0, False)
        if kind in ("json", "jsonl"):
            body = embed_json(
                text,
                mark,
                fields=invisible.json_fields,
                every_chars=every,
                lines=kind == "jsonl",
                parsed=parsed,
            )
        elif kind == "text":
            body = embed(text, mark, every_chars=every)
        else:
            raise WatermarkError(f"unknown body kind {kind!r}")
        ink = encode(mark)
        return Watermarked(body, body.count(ink) - text.count(ink), False)

    def watermark_body(
        self, text: str, *, kind: BodyKind, agent: str, now: datetime, reference: str
    ) -> str:
        """Just the body, for callers with no response headers to adjust (CLI, tests)."""
        return self.watermark(text, kind=kind, agent=agent, now=now, reference=reference).body


@dataclass(frozen=True, slots=True)
class TraceResult:
    """One distinct mark found in a text."""

    agent: str
    issued_at: datetime
    reference: str
    verified: bool
    """True only when the mark's tag checks out with the key: it was made by this deployment."""
    count: int
    """How many times it was found."""

    def to_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "issued_at": self.issued_at.isoformat().replace("+00:00", "Z"),
            "reference": self.reference,
            "verified": self.verified,
            "count": self.count,
        }


class MarkReader:
    """Finds and checks marks in any text (a leaked page, JSON, a pasted chat)."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        check_key(key)

    def trace(self, text: str) -> list[TraceResult]:
        """Each distinct mark once, in order of first appearance, with how often it was seen.
        Marks written as JSON escapes or HTML character references count too."""
        seen: Counter[tuple[bytes, bytes]] = Counter()
        first: dict[tuple[bytes, bytes], SealedMark] = {}
        for found in extract(unescape(text)):
            identity = (found.sealed.signed, found.sealed.tag)
            seen[identity] += 1
            first.setdefault(identity, found.sealed)
        return [
            TraceResult(
                sealed.mark.agent,
                sealed.mark.issued_at,
                sealed.mark.reference,
                verify(sealed, self._key),
                seen[identity],
            )
            for identity, sealed in first.items()
        ]
