"""Watermarking an HTML body: invisible marks in its text, the visible overlay in its body."""

from __future__ import annotations

from dataclasses import dataclass

from .html_text import PageText, read_page
from .invisible import encode, plan

# a fragment starting with one of these is parsed in a table or select context, where an <svg>
# would be dropped or moved and could take the rows with it: such fragments get no overlay
_CONTEXT_BOUND = frozenset(
    {"tr", "td", "th", "tbody", "thead", "tfoot", "caption", "col", "colgroup"}
    | {"option", "optgroup", "li", "dt", "dd", "area", "param", "source", "track"}
)


@dataclass(frozen=True, slots=True)
class MarkedPage:
    body: str
    marks: int
    """How many invisible marks went in."""
    overlay: bool
    """Whether the visible overlay went in."""
    meta_csp: bool
    """The page carries its own CSP in a <meta> tag, which may block the overlay's style."""


def watermark_html(
    html: str, *, mark: bytes | None, overlay: str | None, every_chars: int
) -> MarkedPage:
    """The page with `mark` in its readable text and `overlay` markup in its body (either may be
    None to leave it out). The source is spliced, never re-serialised."""
    page = read_page(html)
    inserts: list[tuple[int, int, str]] = []  # (position, order, text): marks before overlay
    if mark is not None and page.spans:
        ink = encode(mark)
        texts = [html[start:end] for start, end in page.spans]
        for index, offset in plan(texts, every_chars=every_chars):
            inserts.append((page.spans[index][0] + offset, 0, ink))
    marks = len(inserts)
    placed = False
    if overlay is not None:
        where = _overlay_place(page, len(html))
        if where is not None:
            inserts.append((where, 1, overlay))
            placed = True
    inserts.sort()
    pieces: list[str] = []
    previous = 0
    for position, _, text in inserts:
        pieces += (html[previous:position], text)
        previous = position
    pieces.append(html[previous:])
    return MarkedPage("".join(pieces), marks, placed, page.meta_csp)


def _overlay_place(page: PageText, length: int) -> int | None:
    if page.body_close_start is not None:
        return page.body_close_start  # last in the body: above the page's own top layers
    if page.body_open_end is not None:
        return page.body_open_end
    if page.is_document:
        return length  # the parser moves trailing content into the body
    if page.first_tag in _CONTEXT_BOUND:
        return None
    return 0
