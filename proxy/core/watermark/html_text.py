"""Where the text of an HTML page is: a conservative tokenizer that edits nothing.

It follows the HTML tokenizer's rules for tags, attributes, comments and raw-text elements, and
reports the source spans of the text the agent reads, so marks can be spliced into the page
without re-serialising it (which would alter the markup and break fragments such as `<tr>` rows
loaded by htmx). Text is left out when it is not page prose, or when copying it with invisible
characters would break something: <head>, <script>, <style>, <template>, <pre>, <code>, <kbd>,
<samp>, form values (<textarea>, <option>), and inline <svg>/<math>. When the source is too odd to
be sure (a script that plays HTML-comment tricks, a tag cut off by the end of the body) nothing
after that point counts as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

_RAW_TEXT = frozenset(
    {"script", "style", "xmp", "iframe", "noembed", "noframes", "noscript", "textarea", "title"}
)
_SKIPPED = frozenset(
    {"head", "pre", "code", "kbd", "samp", "select", "option", "optgroup", "datalist"}
    | {"svg", "math", "template"}
)
_FOREIGN = frozenset({"svg", "math"})
_SPECIAL = _RAW_TEXT | _SKIPPED | {"body", "meta", "plaintext"}
# the next piece of markup: a whole tag (1 "/", 2 name, 3 attributes), a comment opening (4), a
# tag the text ends inside (5), or a bogus comment / stray "</" (no group)
_MARKUP = re.compile(
    r"<(?:(/?)([A-Za-z][^\t\n\f\r />]*+)"
    r"((?:[\t\n\f\r /]++|[^\t\n\f\r />][^\t\n\f\r /=>]*+"
    r"(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:\"[^\"]*+\"|'[^']*+'|[^\t\n\f\r >]*+))?+)*+)>"
    r"|(!--)|(/?[A-Za-z])|[!?/])"
)
_COMMENT_END = re.compile(r"--!?>")
_HAS_BODY = re.compile(r"<body[\t\n\f\r />]", re.IGNORECASE)
_DOCUMENT = re.compile(r"<(?:!doctype|html|head)[\t\n\f\r />]", re.IGNORECASE)
_META_CSP = re.compile(r"http-equiv\s*=\s*[\"']?\s*content-security-policy", re.IGNORECASE)
_SCRIPT_TRICK = re.compile(r"<!--.*<script", re.IGNORECASE | re.DOTALL)


@dataclass
class PageText:
    """What the tokenizer learnt about one page."""

    spans: list[tuple[int, int]] = field(default_factory=list)
    """Source spans of readable text runs, in order."""
    body_open_end: int | None = None
    """Just after the first <body ...> start tag."""
    body_close_start: int | None = None
    """Just before the last </body> end tag."""
    first_tag: str | None = None
    """Lower-case name of the first element, to tell what kind of fragment this is."""
    is_document: bool = False
    """A doctype, <html>, <head> or <body> appears: a whole page, not a fragment."""
    meta_csp: bool = False
    """A <meta http-equiv="Content-Security-Policy"> the gateway cannot see in the headers."""
    understood: bool = True
    """False when reading stopped early at something too odd to be sure of."""


def read_page(html: str) -> PageText:
    """Spans of readable text and the landmarks an overlay is placed by."""
    page = PageText(is_document=bool(_DOCUMENT.search(html) or _HAS_BODY.search(html)))
    spans = page.spans
    in_body = not _HAS_BODY.search(html)
    open_skipped: dict[str, int] = {}
    skipping = 0
    text_start = pos = 0
    search = _MARKUP.search
    while (markup := search(html, pos)) is not None:
        lt = markup.start()
        if in_body and not skipping and lt > text_start and not html[text_start:lt].isspace():
            spans.append((text_start, lt))
        text_start = pos = markup.end()
        closing, name, attributes, comment, cut = markup.group(1, 2, 3, 4, 5)
        if name is not None:
            name = name.lower()
            if closing:
                if name == "body":
                    page.body_close_start = lt
                if open_skipped.get(name):
                    open_skipped[name] -= 1
                    skipping -= 1
                continue
            if page.first_tag is None:
                page.first_tag = name
            if name not in _SPECIAL:
                continue
            if name == "body" and page.body_open_end is None:
                page.body_open_end = pos
                in_body = True
            elif name == "meta" and _META_CSP.search(attributes):
                page.meta_csp = True
            elif name == "plaintext":
                return page
            if name in _SKIPPED and not (name in _FOREIGN and attributes.rstrip().endswith("/")):
                open_skipped[name] = open_skipped.get(name, 0) + 1
                skipping += 1
            if name in _RAW_TEXT:
                end_tag = _raw_text_end(name).search(html, pos)
                if end_tag is None or (
                    name == "script" and _SCRIPT_TRICK.search(html, pos, end_tag.start())
                ):
                    page.understood = False
                    return page
                text_start = pos = end_tag.start()
        elif comment:
            if html.startswith(">", lt + 4) or html.startswith("->", lt + 4):
                text_start = pos = html.index(">", lt + 4) + 1  # "<!-->" and "<!--->" are closed
                continue
            comment_end = _COMMENT_END.search(html, lt + 4)
            if comment_end is None:
                return page  # the rest of the body is a comment
            text_start = pos = comment_end.end()
        elif cut:
            page.understood = False  # a tag the body ends inside
            return page
        elif html.startswith("</>", lt):
            text_start = pos = lt + 3
        elif html.startswith("</", lt) and lt + 2 == len(html):
            return page  # "</" at the very end is text with nothing to mark in it
        else:
            text_start = pos = _bogus_comment_end(html, lt)
    if in_body and not skipping and len(html) > text_start and not html[text_start:].isspace():
        spans.append((text_start, len(html)))
    return page


@lru_cache(maxsize=16)
def _raw_text_end(name: str) -> re.Pattern[str]:
    return re.compile(rf"</{name}[\t\n\f\r />]", re.IGNORECASE)


def _bogus_comment_end(html: str, lt: int) -> int:
    end = html.find(">", lt + 2)
    return len(html) if end < 0 else end + 1
