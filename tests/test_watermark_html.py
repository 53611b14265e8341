"""HTML: marks only in readable body text, the overlay in the body, CSP, escaping."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from selectolax.lexbor import LexborHTMLParser, LexborNode

from homeagent.proxy.core.policy.watermark import VisibleWatermark
from homeagent.proxy.core.watermark.html_body import watermark_html
from homeagent.proxy.core.watermark.html_text import read_page
from homeagent.proxy.core.watermark.invisible import INVISIBLE, extract, strip
from homeagent.proxy.core.watermark.mark import Mark, sign
from homeagent.proxy.core.watermark.visible import csp_allowing, overlay

NOW = datetime(2025, 5, 1, 9, 30, tzinfo=UTC)
MARK = sign(Mark("A1023", NOW, "ABCDEFGH"), b"k" * 32)
PROSE = "The customer asked about the refund for the broken kettle and will call again. " * 4
HASH = "'sha256-abc='"

PAGE = f"""<!DOCTYPE html>
<html lang="zh"><head><meta charset="utf-8"><title>Ticket {PROSE}</title>
<style>body {{ font: 14px sans-serif }} /* {PROSE} */</style>
<script>var s = "{PROSE}"; if (a < b) {{ x = "</div> <p>"; }}</script></head>
<body class="crm" data-note="{PROSE}">
<h1 title="a > b, {PROSE}">Ticket 4471</h1>
<p>{PROSE}</p>
<!-- {PROSE} <p>commented out</p> -->
<pre>{PROSE}</pre><code>{PROSE}</code>
<table><tr><td>张*</td><td>138****8000</td><td>{PROSE}</td></tr></table>
<textarea name="reply">{PROSE}</textarea>
<select><option>{PROSE}</option></select>
<svg><text>{PROSE}</text></svg>
<p>客户来电反映快递延误了三天，要求退款。已告知客户会在两个工作日内处理完毕，请注意跟进。</p>
</body>
</html>
"""


def mark_page(html: str, *, agent: str = "A1023") -> tuple[str, str]:
    layer = overlay(VisibleWatermark(), agent=agent, now=NOW, reference="ABCDEFGH")
    return watermark_html(html, mark=MARK, overlay=layer.markup, every_chars=200).body, layer.markup


def test_marks_go_only_into_readable_body_text() -> None:
    marked, layer = mark_page(PAGE)
    assert strip(marked.replace(layer, "")) == PAGE
    tree = LexborHTMLParser(marked)
    assert len(extract(marked)) >= 3
    for selector in ("head", "title", "style", "script", "pre", "code", "textarea", "option"):
        for node in tree.css(selector):
            assert not set(node.text(deep=True)) & set(INVISIBLE), selector
    for node in tree.css("svg text"):
        if "A1023" not in node.text():
            assert not set(node.text()) & set(INVISIBLE)
    for node in tree.css("*"):
        for value in node.attributes.values():
            assert not set(value or "") & set(INVISIBLE)
    assert "<!-- " + PROSE + " <p>commented out</p> -->" in marked
    cells = [td.text() for td in tree.css("td")]
    assert cells[:2] == ["张*", "138****8000"]
    assert set(cells[2]) & set(INVISIBLE)


def test_the_page_still_parses_to_the_same_elements_plus_the_overlay() -> None:
    marked, _ = mark_page(PAGE)
    before = [n.tag for n in body_of(PAGE).traverse()]
    after = [n.tag for n in body_of(marked).traverse()]
    added = ["style", "svg", "defs", "pattern", "text", "rect"]
    assert after == before + added
    assert [t.text() for t in LexborHTMLParser(marked).css("title")] == [f"Ticket {PROSE}"]


def body_of(html: str) -> LexborNode:
    body = LexborHTMLParser(html).body
    assert body is not None
    return body


def test_overlay_is_last_in_body_and_does_not_block_clicks_and_prints() -> None:
    marked, _ = mark_page(PAGE)
    body = body_of(marked)
    svg = [n for n in body.iter() if n.tag == "svg"][-1]
    assert svg.attributes["pointer-events"] == "none"
    assert svg.attributes["width"] == "0"
    style = [n for n in body.iter() if n.tag == "style"][-1].text()
    ident = svg.attributes["id"]
    rules = re.search(rf"#{ident}\{{([^}}]*)\}}", style)
    assert rules is not None
    for declaration in (
        "position:fixed",
        "inset:0",
        "pointer-events:none",
        "z-index:2147483647",
        "print-color-adjust:exact",
        "-webkit-print-color-adjust:exact",
    ):
        assert declaration + "!important" in rules.group(1)
    assert f"@media print{{#{ident}{{" in style
    assert "A1023 · 2025-05-01 09:30 UTC · ABCDEFGH" in svg.text(deep=True)


def test_an_agent_id_with_markup_is_escaped() -> None:
    marked, layer = mark_page(PAGE, agent="<script>alert(1)</script>")
    assert "<script>alert" not in layer
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in layer
    tree = LexborHTMLParser(marked)
    assert len(tree.css("script")) == 1
    assert "<script>alert(1)</script>" in tree.css("svg text")[-1].text()


def test_quotes_in_an_agent_id_cannot_leave_the_svg_text() -> None:
    _, layer = mark_page(PAGE, agent='A"/><img src=x onerror=alert(1)>')
    tree = LexborHTMLParser(f"<body>{layer}</body>")
    assert tree.css("img") == []


@pytest.mark.parametrize(
    ("html", "where"),
    [
        ("<html><body><p>Hello there friend</p></body></html>", "before </body>"),
        ("<html><body class=x><p>Hello there friend</p>", "after <body>"),
        ("<!doctype html><title>t</title><p>Hello there friend</p>", "at the end"),
        ("<div><p>Hello there friend</p></div>", "at the start"),
    ],
)
def test_overlay_placement(html: str, where: str) -> None:
    marked, layer = mark_page(html)
    at = marked.index(layer)
    if where == "before </body>":
        assert marked[at + len(layer) :].startswith("</body>")
    elif where == "after <body>":
        assert marked[:at].endswith("<body class=x>")
    elif where == "at the end":
        assert at + len(layer) == len(marked)
    else:
        assert at == 0
    assert body_of(marked).css_first("svg") is not None


@pytest.mark.parametrize(
    "fragment", ["<tr><td>a b c d</td></tr>", "<option>a b</option>", "<li>x y</li>"]
)
def test_fragments_bound_to_a_parent_get_marks_but_no_overlay(fragment: str) -> None:
    result = watermark_html(fragment, mark=MARK, overlay="<svg></svg>", every_chars=200)
    assert not result.overlay
    assert "<svg>" not in result.body


def test_a_tag_cut_by_the_end_of_the_body_stops_marking() -> None:
    html = "<p>one two three four</p><a href='unterminated five six seven"
    page = read_page(html)
    assert not page.understood
    assert [html[a:b] for a, b in page.spans] == ["one two three four"]


def test_script_comment_tricks_stop_marking() -> None:
    html = "<body><p>a b</p><script><!-- <script>x</script> y z --></script><p>c d</p></body>"
    page = read_page(html)
    assert [html[a:b] for a, b in page.spans] == ["a b"]


def test_meta_csp_is_reported() -> None:
    html = (
        '<html><head><meta http-equiv="Content-Security-Policy" content="x"></head><body>a</body>'
    )
    assert watermark_html(html, mark=MARK, overlay="", every_chars=200).meta_csp


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("script-src 'self'", None),
        ("style-src 'self' 'unsafe-inline'", None),
        ("default-src 'self'", f"default-src 'self'; style-src-elem 'self' {HASH}"),
        ("default-src 'none'", f"default-src 'none'; style-src-elem {HASH}"),
        ("style-src 'self'; img-src *", f"style-src 'self' {HASH}; img-src *"),
        (
            "style-src 'self' 'unsafe-inline' 'nonce-r4nd'",
            f"style-src 'self' 'unsafe-inline' 'nonce-r4nd' {HASH}",
        ),
        (
            "style-src-elem 'self'; style-src 'none'",
            f"style-src-elem 'self' {HASH}; style-src 'none'",
        ),
        (
            "default-src 'self', style-src https:",
            f"default-src 'self'; style-src-elem 'self' {HASH}, style-src https: {HASH}",
        ),
    ],
)
def test_csp_gets_just_the_overlay_style_hash(header: str, expected: str | None) -> None:
    assert csp_allowing(header, HASH) == expected


def test_the_style_hash_is_the_hash_of_the_style_element() -> None:
    import base64
    import hashlib

    layer = overlay(VisibleWatermark(), agent="A1", now=NOW, reference="ABCDEFGH")
    css = re.search(r"<style>(.*?)</style>", layer.markup, re.DOTALL)
    assert css is not None
    digest = base64.b64encode(hashlib.sha256(css.group(1).encode()).digest()).decode()
    assert layer.style_hash == f"'sha256-{digest}'"
