"""Invisible marks in JSON bodies: only prose values, the rest byte for byte."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from homeagent.proxy.core.watermark.errors import WatermarkError
from homeagent.proxy.core.watermark.invisible import INVISIBLE, extract, strip
from homeagent.proxy.core.watermark.json_body import embed_json
from homeagent.proxy.core.watermark.mark import Mark, sign

MARK = sign(Mark("A1023", datetime(2025, 5, 1, tzinfo=UTC), "ABCDEFGH"), b"k" * 32)
FIELDS = ("note", "summary", "comments")
PROSE = "Customer says the parcel arrived damaged and wants a replacement, not a refund."


def without_marks(value: Any) -> Any:
    if isinstance(value, str):
        return strip(value)
    if isinstance(value, list):
        return [without_marks(v) for v in value]
    if isinstance(value, dict):
        return {k: without_marks(v) for k, v in value.items()}
    return value


def has_mark(value: str) -> bool:
    return any(c in INVISIBLE for c in value)


def test_only_named_prose_values_are_marked() -> None:
    record = {
        "id": "T-4471 note",
        "note": PROSE,
        "customer": {"name": "张*", "phone": "138****8000", "summary": PROSE},
        "comments": [PROSE, "Second comment with several words in it."],
        "status": "open and waiting",
        "count": 3,
        "amount": 1250.0,
        "tags": ["note", "summary text here"],
    }
    body = json.dumps(record, ensure_ascii=False, indent=2)
    marked = embed_json(body, MARK, fields=FIELDS, every_chars=40)
    out = json.loads(marked)
    assert without_marks(out) == record
    assert has_mark(out["note"]) and has_mark(out["customer"]["summary"])
    assert any(has_mark(c) for c in out["comments"])
    for key in ("id", "status"):
        assert out[key] == record[key]
    assert out["customer"]["phone"] == "138****8000"
    assert out["tags"] == record["tags"]
    assert not any(has_mark(k) for k in _all_keys(out))
    assert {f.sealed.mark.agent for f in extract(marked)} == {"A1023"}


def _all_keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [*value, *(k for v in value.values() for k in _all_keys(v))]
    if isinstance(value, list):
        return [k for v in value for k in _all_keys(v)]
    return []


def test_everything_outside_prose_values_keeps_its_exact_bytes() -> None:
    body = '{"a":1.50,"note":"Call back later today.","b":"\\u00e9","a":2,"c":[1e3, true]}'
    marked = embed_json(body, MARK, fields=FIELDS, every_chars=200)
    assert marked.startswith('{"a":1.50,"note":"Call')
    assert marked.endswith('","b":"\\u00e9","a":2,"c":[1e3, true]}')
    assert strip(marked) == body


def test_escaped_bodies_stay_escaped() -> None:
    body = json.dumps({"note": "客户来电，要求退款。请尽快处理。"})  # ensure_ascii: \\u escapes
    marked = embed_json(body, MARK, fields=FIELDS, every_chars=200)
    assert marked.isascii()
    assert extract(json.loads(marked)["note"])


def test_a_key_named_like_a_field_inside_a_string_is_not_a_key() -> None:
    body = json.dumps({"id": 'x", "note": "fake', "title": "a b c d"})
    marked = embed_json(body, MARK, fields=FIELDS, every_chars=200)
    assert marked == body


def test_json_lines_each_line_stays_a_document() -> None:
    lines = [json.dumps({"id": i, "note": PROSE}) for i in range(10)]
    body = "\n".join(lines) + "\n"
    marked = embed_json(body, MARK, fields=FIELDS, every_chars=200, lines=True)
    out = marked.splitlines()
    assert len(out) == 10
    assert [without_marks(json.loads(line)) for line in out] == [json.loads(x) for x in lines]
    assert len(extract(marked)) >= 3


@pytest.mark.parametrize(
    ("body", "lines", "message"),
    [
        ('{"note": "unterminated', False, "JSON body does not parse"),
        ('{"note": "a"} trailing', False, "JSON body does not parse"),
        ("<html>not json</html>", False, "JSON body does not parse"),
        ('{"note": "a"}\n{broken\n', True, "line 2"),
    ],
)
def test_bodies_that_do_not_parse_are_refused(body: str, lines: bool, message: str) -> None:
    with pytest.raises(WatermarkError, match=message):
        embed_json(body, MARK, fields=FIELDS, every_chars=200, lines=lines)


def test_an_empty_body_is_left_alone() -> None:
    assert embed_json("  \n", MARK, fields=FIELDS, every_chars=200) == "  \n"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["id", "note", "summary", "x", "comments"]), children)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(value=json_values, ascii_only=st.booleans(), indent=st.sampled_from([None, 2]))
def test_any_document_stays_valid_with_the_same_structure(
    value: Any, ascii_only: bool, indent: int | None
) -> None:
    body = json.dumps(value, ensure_ascii=ascii_only, indent=indent)
    marked = embed_json(body, MARK, fields=FIELDS, every_chars=40)
    assert without_marks(json.loads(marked)) == without_marks(value)
