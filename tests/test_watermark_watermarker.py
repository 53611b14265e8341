"""The gateway's entry points: Watermarker per response, MarkReader for the officer."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from homeagent.proxy.core.policy.loader import load_policy
from homeagent.proxy.core.policy.model import Policy
from homeagent.proxy.core.watermark import (
    BodyKind,
    MarkReader,
    Watermarker,
    WatermarkError,
)
from homeagent.proxy.core.watermark.html_body import watermark_html
from homeagent.proxy.core.watermark.invisible import encode, strip
from homeagent.proxy.core.watermark.mark import Mark, sign

POLICIES = Path(__file__).parent.parent / "policies"
POLICY = load_policy(POLICIES / "examples" / "acme.yaml").policy
KEY = bytes(range(32))
NOW = datetime(2025, 5, 1, 9, 30, tzinfo=UTC)
PROSE = "The customer asked about the refund for the broken kettle and will call again. " * 6


def with_watermark(**setting: object) -> Policy:
    data = POLICY.model_dump(by_alias=True)
    for path, value in setting.items():
        section, field = path.split("__")
        data["watermark"][section][field] = value
    return Policy.model_validate(data)


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("text", PROSE),
        ("html", f"<html><body><p>{PROSE}</p></body></html>"),
        ("json", json.dumps({"id": "A-1", "note": PROSE})),
        ("jsonl", json.dumps({"note": PROSE}) + "\n" + json.dumps({"note": PROSE}) + "\n"),
    ],
)
def test_every_kind_traces_back_to_the_agent(kind: str, body: str) -> None:
    marker = Watermarker(POLICY, KEY)
    result = marker.watermark(
        body, kind=cast(BodyKind, kind), agent="A1023", now=NOW, reference="ABCDEFGH"
    )
    assert result.marks >= 2
    assert result.overlay == (kind == "html")
    [found] = MarkReader(KEY).trace(result.body)
    assert (found.agent, found.issued_at, found.reference, found.verified) == (
        "A1023",
        NOW,
        "ABCDEFGH",
        True,
    )
    assert found.count == result.marks


def test_disabled_parts_are_left_out() -> None:
    page = f"<html><body><p>{PROSE}</p></body></html>"
    quiet = Watermarker(with_watermark(visible__enabled=False, invisible__enabled=False), KEY)
    result = quiet.watermark(page, kind="html", agent="A1", now=NOW, reference="ABCDEFGH")
    assert result.body == page and not result.overlay and result.marks == 0
    invisible_only = Watermarker(with_watermark(visible__enabled=False), KEY)
    result = invisible_only.watermark(page, kind="html", agent="A1", now=NOW, reference="ABCDEFGH")
    assert not result.overlay and result.marks >= 2
    text = Watermarker(with_watermark(invisible__enabled=False), KEY)
    assert text.watermark_body(PROSE, kind="text", agent="A1", now=NOW, reference="ABCDEFGH") == (
        PROSE
    )


def test_every_chars_comes_from_the_policy() -> None:
    dense = Watermarker(with_watermark(invisible__every_chars=50), KEY)
    sparse = Watermarker(with_watermark(invisible__every_chars=1000), KEY)
    dense_marks = dense.watermark(PROSE, kind="text", agent="A1", now=NOW, reference="ABCDEFGH")
    sparse_marks = sparse.watermark(PROSE, kind="text", agent="A1", now=NOW, reference="ABCDEFGH")
    assert dense_marks.marks > 3 * sparse_marks.marks


def test_csp_change_is_returned_only_when_needed() -> None:
    marker = Watermarker(POLICY, KEY)
    page = f"<html><body><p>{PROSE}</p></body></html>"
    args = {"kind": "html", "agent": "A1", "now": NOW, "reference": "ABCDEFGH"}
    strict = marker.watermark(page, csp="default-src 'self'", **args)  # type: ignore[arg-type]  # as above
    assert strict.content_security_policy is not None
    assert strict.content_security_policy.startswith(
        "default-src 'self'; style-src-elem 'self' 'sha256-"
    )
    loose = marker.watermark(page, csp="img-src *", **args)  # type: ignore[arg-type]  # as above
    assert loose.content_security_policy is None
    none = marker.watermark(page, **args)  # type: ignore[arg-type]  # as above
    assert none.content_security_policy is None


@pytest.mark.parametrize(
    ("kind", "body", "message"),
    [
        ("json", "{not json", "does not parse"),
        ("jsonl", '{"a": 1}\nnope\n', "line 2"),
        ("xml", "<a/>", "unknown body kind"),
    ],
)
def test_unreadable_bodies_raise_for_the_gateway_to_block(
    kind: str, body: str, message: str
) -> None:
    marker = Watermarker(POLICY, KEY)
    with pytest.raises(WatermarkError, match=message):
        marker.watermark_body(
            body, kind=cast(BodyKind, kind), agent="A1", now=NOW, reference="ABCDEFGH"
        )


@pytest.mark.parametrize(("agent", "reference"), [("A 1", "ABCDEFGH"), ("A1", "abc")])
def test_bad_agent_or_reference_raise(agent: str, reference: str) -> None:
    with pytest.raises(WatermarkError):
        Watermarker(POLICY, KEY).watermark_body(
            PROSE, kind="text", agent=agent, now=NOW, reference=reference
        )


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        Watermarker(POLICY, b"x")
    with pytest.raises(ValueError, match="at least 16 bytes"):
        MarkReader(b"x")


def test_trace_counts_each_mark_and_flags_forgeries() -> None:
    marker = Watermarker(POLICY, KEY)
    first = marker.watermark_body(PROSE, kind="text", agent="A1023", now=NOW, reference="ABCDEFGH")
    second = marker.watermark_body(
        "short one. ", kind="text", agent="B7", now=NOW, reference="BBBBBBBB"
    )
    forged = encode(sign(Mark("C9", NOW, "CCCCCCCC"), b"f" * 32))
    results = MarkReader(KEY).trace(first + second + "x" + forged + " " + forged)
    assert [(r.agent, r.verified, r.count) for r in results] == [
        ("A1023", True, first.count(encode(sign(Mark("A1023", NOW, "ABCDEFGH"), KEY)))),
        ("B7", True, 1),
        ("C9", False, 2),
    ]
    assert results[2].to_json() == {
        "agent": "C9",
        "issued_at": "2025-05-01T09:30:00Z",
        "reference": "CCCCCCCC",
        "verified": False,
        "count": 2,
    }


SOUP = [*"<>/!-?='\" \n\tabpst", "<p>", "</p>", "<script>", "</script>", "<!--", "-->", "<body>"]
SOUP += ["</body>", "<pre>", "word ", "。", "中文"]
html_soup = st.lists(st.sampled_from(SOUP), max_size=60).map("".join)


@settings(max_examples=500, deadline=None)
@given(html_soup)
def test_any_markup_soup_keeps_its_bytes_apart_from_what_was_added(html: str) -> None:
    mark = sign(Mark("A1", NOW, "ABCDEFGH"), KEY)
    result = watermark_html(html, mark=mark, overlay="<i>OVERLAY</i>", every_chars=40)
    assert strip(result.body).replace("<i>OVERLAY</i>", "", 1) == strip(html)


def test_marks_saved_as_escapes_or_character_references_are_traced() -> None:
    marker = Watermarker(POLICY, KEY)
    body = json.dumps({"note": "客户来电，要求退款。请尽快回电处理。" * 3})  # \\u escapes
    marked = marker.watermark_body(body, kind="json", agent="A1", now=NOW, reference="ABCDEFGH")
    assert marked.isascii()
    assert [r.agent for r in MarkReader(KEY).trace(marked)] == ["A1"]
    plain = marker.watermark_body(PROSE, kind="text", agent="A2", now=NOW, reference="ABCDEFGH")
    as_entities = "".join(f"&#{ord(c)};" if ord(c) > 0x2000 else c for c in plain)
    named = plain.replace("\u200c", "&zwnj;").replace("\u200d", "&zwj;")
    for saved in (as_entities, named):
        assert [r.agent for r in MarkReader(KEY).trace(saved)] == ["A2"]
