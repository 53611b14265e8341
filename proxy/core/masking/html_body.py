"""HTML: text nodes, attribute values, comments, `<template>` contents, and scripts (JSON
ones as JSON), read through lexbor so entities are decoded the way the browser decodes them;
field rules select elements with CSS."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ..policy.masking import FieldRule
from .errors import UnmaskableBodyError
from .json_body import JsonMasker
from .run import MaskRun

_DOCUMENT = re.compile(r"<(?:!doctype|html|head|body)[\s>]", re.IGNORECASE)
_FIRST_TAG = re.compile(r"<([A-Za-z][A-Za-z0-9]*)")
# The element a fragment must be parsed in so its first tag survives (a <tr> outside a table
# would be dropped, its cells' text run together).
_FRAGMENT_CONTEXT = {
    "tr": "tbody",
    "td": "tr",
    "th": "tr",
    "tbody": "table",
    "thead": "table",
    "tfoot": "table",
    "caption": "table",
    "colgroup": "table",
    "col": "colgroup",
    "li": "ul",
    "option": "select",
    "optgroup": "select",
    "dt": "dl",
    "dd": "dl",
}
_JSON_SCRIPT = re.compile(r"^\s*application/(?:[\w.+-]*\+)?json\s*(?:;.*)?$", re.IGNORECASE)
_FIELD_ATTRIBUTES = ("value", "title", "alt", "placeholder", "aria-label")


def _parser(text: str) -> LexborHTMLParser:
    if _DOCUMENT.search(text[:4096]):
        return LexborHTMLParser(text)
    first = _FIRST_TAG.search(text)
    context = _FRAGMENT_CONTEXT.get(first.group(1).lower(), "div") if first else "div"
    return LexborHTMLParser(text, is_fragment=True, fragment_tag=context)


def _all_nodes(start: LexborNode | None) -> Iterator[LexborNode]:
    """Every node from `start` on, the contents of `<template>` elements included."""
    if start is None:
        return
    for node in start.traverse(include_text=True):
        yield node
        if node.tag == "template":
            for fragment in node.template_fragments():
                yield from _all_nodes(fragment)


def check_selectors(rules: Sequence[FieldRule]) -> None:
    """ValueError naming the rule whose CSS selector lexbor cannot read."""
    probe = LexborHTMLParser("<p></p>")
    for rule in rules:
        for selector in rule.html_selectors:
            try:
                probe.css(selector)
            except Exception as err:  # lexbor raises a bare Exception for bad selectors
                raise ValueError(
                    f"field rule {rule.name!r}: bad CSS selector {selector!r}"
                ) from err


def mask_html(run: MaskRun, text: str) -> str | None:
    """The masked page or fragment, or None when nothing in it needed masking."""
    parser = _parser(text)
    changed = False
    done: set[int] = set()
    for rule in run.field_rules:
        for selector in rule.html_selectors:
            for element in parser.css(selector):
                changed |= _mask_element(run, rule, element, selector, done)
    start = parser.root
    # Mutating while lexbor walks the tree crashes it: collect first, then change.
    nodes = list(_all_nodes(start))
    for node in nodes:
        if node.is_text_node:
            if node.mem_id in done:
                continue
            changed |= _mask_text_node(run, node)
        elif node.is_comment_node:
            content = node.comment_content or ""
            if run.text(content, "html comment", entities=True) is not None:
                node.decompose()  # an agent never needs a comment; one with data goes
                changed = True
        elif node.is_element_node:
            changed |= _mask_attributes(run, node)
    if not changed:
        return None
    return parser.html or ""


def _mask_element(
    run: MaskRun, rule: FieldRule, element: LexborNode, selector: str, done: set[int]
) -> bool:
    where = f"html {selector}"
    texts = [n for n in element.traverse(include_text=True) if n.is_text_node]
    whole = "".join(n.text_content or "" for n in texts)
    changed = False
    if whole.strip():
        masked = run.field(rule, whole.strip(), where)
        texts[0].replace_with(masked)
        for other in texts[1:]:
            other.replace_with("")
        done.update(n.mem_id for n in texts)
        changed = True
    attributes = element.attributes
    for name in _FIELD_ATTRIBUTES:
        value = attributes.get(name)
        if value:
            element.attrs[name] = run.field(rule, value, f"{where} @{name}")
            changed = True
    return changed


def _mask_text_node(run: MaskRun, node: LexborNode) -> bool:
    content = node.text_content or ""
    if not content.strip():
        return False
    parent = node.parent
    tag = parent.tag if parent is not None else None
    where = f"html <{tag}>" if tag else "html text"
    if tag == "script":
        masked = _mask_script(run, parent, content, where)
    else:
        masked = run.text(content, where)
    if masked is None:
        return False
    node.replace_with(masked)
    return True


def _mask_script(run: MaskRun, script: LexborNode | None, content: str, where: str) -> str | None:
    kind = (script.attributes.get("type") or "") if script is not None else ""
    stripped = content.lstrip()
    if _JSON_SCRIPT.match(kind) or (not kind and stripped[:1] in "{["):
        try:
            masked = JsonMasker(run, prefix=f"{where} $").mask_text(content)
        except UnmaskableBodyError:
            masked = run.text(content, where, js=True, entities=True)
        else:
            if masked is not None and "</" in masked:
                masked = masked.replace("</", "<\\/")  # keep the script element closed
        return masked
    return run.text(content, where, js=True, entities=True)


def _mask_attributes(run: MaskRun, node: LexborNode) -> bool:
    changed = False
    for name, value in node.attributes.items():
        if value and len(value) > 5:
            masked = run.text(value, f"html <{node.tag}> @{name}")
            if masked is not None:
                node.attrs[name] = masked
                changed = True
    return changed
