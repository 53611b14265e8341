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

_RAW_TEXT = frozenset(
    {"script", "style", "xmp", "iframe", "noembed", "noframes", "noscript", "textarea", "title"}
)
_SKIPPED = frozenset(
    {"head", "pre", "code", "kbd", "samp", "select", "option", "optgroup", "datalist"}
    | {"svg", "math", "template"}
)
_FOREIGN = frozenset({"svg", "math"})
_TAG = re.compile(
    r"<(/?)([A-Za-z][^\t\n\f\r />]*+)"
    r"((?:[\t\n\f\r /]++|[^\t\n\f\r />][^\t\n\f\r /=>]*+"
    r"(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:\"[^\"]*+\"|'[^']*+'|[^\t\n\f\r >]*+))?+)*+)>"
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
    in_body = not _HAS_BODY.search(html)
    open_skipped: dict[str, int] = {}
    skipping = 0
    length = len(html)
    text_start = pos = 0

    def add_text(end: int) -> None:
        if in_body and not skipping and end > text_start and not html[text_start:end].isspace():
            page.spans.append((text_start, end))

    while (lt := html.find("<", pos)) >= 0:
        follower = html[lt + 1 : lt + 2]
        if follower == "/" or (follower.isascii() and follower.isalpha()):
            closing = follower == "/"
            after = html[lt + 2 : lt + 3] if closing else follower
            if closing and not (after.isascii() and after.isalpha()):
                if after == "":
                    break  # "</" at the very end is text; nothing to mark in it
                add_text(lt)
                end = lt + 3 if after == ">" else _bogus_comment_end(html, lt)
                text_start = pos = end
                continue
            tag = _TAG.match(html, lt)
            if tag is None:
                page.understood = False  # a tag the body ends inside
                add_text(lt)
                return page
            add_text(lt)
            name = tag.group(2).lower()
            attributes = tag.group(3)
            text_start = pos = tag.end()
            if closing:
                if name == "body":
                    page.body_close_start = lt
                if open_skipped.get(name):
                    open_skipped[name] -= 1
                    skipping -= 1
                continue
            page.first_tag = page.first_tag or name
            if name == "body" and page.body_open_end is None:
                page.body_open_end = tag.end()
                in_body = True
            elif name == "meta" and _META_CSP.search(attributes):
                page.meta_csp = True
            if name in _SKIPPED and not (name in _FOREIGN and attributes.rstrip().endswith("/")):
                open_skipped[name] = open_skipped.get(name, 0) + 1
                skipping += 1
            if name == "plaintext":
                return page
            if name in _RAW_TEXT:
                closer = re.compile(rf"</{name}[\t\n\f\r />]", re.IGNORECASE)
                end_tag = closer.search(html, tag.end())
                if end_tag is None or (
                    name == "script" and _SCRIPT_TRICK.search(html, tag.end(), end_tag.start())
                ):
                    page.understood = end_tag is not None and name != "script"
                    return page
                text_start = pos = end_tag.start()
            continue
        if html.startswith("<!--", lt):
            add_text(lt)
            if html.startswith("<!-->", lt) or html.startswith("<!--->", lt):
                end = html.index(">", lt + 4) + 1
            else:
                comment_end = _COMMENT_END.search(html, lt + 4)
                end = comment_end.end() if comment_end else length
            text_start = pos = end
        elif follower in ("!", "?"):
            add_text(lt)
            text_start = pos = _bogus_comment_end(html, lt)
        else:
            pos = lt + 1  # a "<" that opens nothing is text
    add_text(length)
    return page


def _bogus_comment_end(html: str, lt: int) -> int:
    end = html.find(">", lt + 2)
    return len(html) if end < 0 else end + 1
