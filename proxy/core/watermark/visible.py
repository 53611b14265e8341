"""The visible watermark: faint, rotated, repeated text over the whole page, screen and print.

The overlay is an inline <svg> with a text <pattern>, not a CSS background image: it needs no
`data:` image source (so a Content-Security-Policy `img-src` need not change) and it prints as
page content even when the browser leaves backgrounds out. Its layout comes from one <style>
element (position:fixed, inset:0, pointer-events:none, top z-index; repeated under @media print).
The <svg> itself is 0x0 until that style applies, so if a CSP blocks the style the page layout
does not move; `csp_allowing` gives the header value that lets exactly this style in (its hash).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from ..policy.watermark import VisibleWatermark

_PLACEHOLDER = re.compile(r"\{(agent|time|reference)\}")
_STYLE_RULES = (
    "position:fixed!important;inset:0!important;width:100%!important;height:100%!important;"
    "max-width:none!important;max-height:none!important;margin:0!important;padding:0!important;"
    "border:0!important;display:block!important;visibility:visible!important;"
    "opacity:1!important;transform:none!important;filter:none!important;"
    "pointer-events:none!important;user-select:none!important;z-index:2147483647!important;"
    "-webkit-print-color-adjust:exact!important;print-color-adjust:exact!important"
)
_FONT = "system-ui,-apple-system,'Segoe UI','Microsoft YaHei','PingFang SC',sans-serif"


@dataclass(frozen=True, slots=True)
class Overlay:
    """Markup to place in the page body, and the CSP hash source of its <style>."""

    markup: str
    style_hash: str
    """`'sha256-…'`, for a Content-Security-Policy style-src."""


def watermark_text(setting: VisibleWatermark, *, agent: str, now: datetime, reference: str) -> str:
    """The policy's text template with {agent}, {time} and {reference} filled in (unescaped)."""
    values = {
        "agent": agent,
        "time": now.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "reference": reference,
    }
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], setting.text)


def overlay(setting: VisibleWatermark, *, agent: str, now: datetime, reference: str) -> Overlay:
    """The overlay for one response; every value from outside is escaped for HTML and SVG."""
    text = watermark_text(setting, agent=agent, now=now, reference=reference)
    ident = "homeagent-wm-" + hashlib.sha256(reference.encode()).hexdigest()[:12]
    size = setting.font_size_px
    width = max(setting.spacing_px, round(_text_width(text, size) + 2 * size))
    height = setting.spacing_px
    css = f"#{ident}{{{_STYLE_RULES}}}@media print{{#{ident}{{{_STYLE_RULES}}}}}"
    markup = (
        f"<style>{css}</style>"
        f'<svg id="{ident}" xmlns="http://www.w3.org/2000/svg" width="0" height="0"'
        ' aria-hidden="true" focusable="false" pointer-events="none">'
        f'<defs><pattern id="{ident}-p" patternUnits="userSpaceOnUse" width="{width}"'
        f' height="{height}" patternTransform="rotate({setting.angle_degrees:g})">'
        f'<text x="{size}" y="{height // 2}" font-family="{html.escape(_FONT)}"'
        f' font-size="{size}" fill="#808080" fill-opacity="{setting.opacity:g}">'
        f"{html.escape(text)}</text></pattern></defs>"
        f'<rect width="100%" height="100%" fill="url(#{ident}-p)"/></svg>'
    )
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return Overlay(markup, f"'sha256-{digest}'")


def _text_width(text: str, size: int) -> float:
    """A generous estimate of the drawn width, so one tile never clips its text."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else 0.62 * size for c in text)


def csp_allowing(header: str, style_hash: str) -> str | None:
    """The Content-Security-Policy value that also lets the overlay's <style> apply, or None when
    the page's policy already does. Each comma-separated policy is enforced on its own, so each
    gets the hash. Nothing is loosened: a hash source is added, never 'unsafe-inline'."""
    changed = False
    policies = []
    for policy in header.split(","):
        directives = [d.strip() for d in policy.split(";") if d.strip()]
        names = [d.split()[0].lower() for d in directives]
        for name in ("style-src-elem", "style-src", "default-src"):
            if name in names:
                index = names.index(name)
                break
        else:
            policies.append(policy.strip())
            continue
        sources = directives[index].split()[1:]
        if _allows_inline(sources) or style_hash in sources:
            policies.append(policy.strip())
            continue
        kept = [s for s in sources if s.lower() != "'none'"] + [style_hash]
        if name == "default-src":
            directives.append("style-src-elem " + " ".join(kept))
        else:
            directives[index] = f"{directives[index].split()[0]} " + " ".join(kept)
        policies.append("; ".join(directives))
        changed = True
    return ", ".join(policies) if changed else None


def _allows_inline(sources: list[str]) -> bool:
    lowered = [s.lower() for s in sources]
    # a nonce or hash makes browsers ignore 'unsafe-inline'
    return "'unsafe-inline'" in lowered and not any(
        s.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-")) for s in lowered
    )
