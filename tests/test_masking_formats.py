"""Format maskers: JSON (numbers, escapes, keys, field rules), JSON Lines, HTML, text, forms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from homeagent.proxy.core.masking import BodyFormat, Masker, UnmaskableBodyError
from homeagent.proxy.core.masking.json_body import _ESCAPE, _STRING, _inside_strings
from homeagent.proxy.core.masking.masker import sniff_format
from homeagent.proxy.core.masking.scanner import Scanner
from homeagent.proxy.core.policy.loader import load_policy

from .pii_samples import KEY, cn_id, policy

ACME = Path(__file__).resolve().parent.parent / "policies" / "examples" / "acme.yaml"
MOBILE = "13800138000"


@pytest.fixture(scope="module")
def acme() -> Masker:
    return Masker(load_policy(ACME).policy, KEY)


@pytest.fixture(scope="module")
def plain() -> Masker:
    return Masker(policy(), KEY)


def mask_json(masker: Masker, text: str, **kwargs: object) -> object:
    result = masker.mask_body(
        text.encode(),
        content_type="application/json",
        content_encoding=None,
        role="inbound",
        url=None,
        explain=True,
    )
    return json.loads(result.body)


@pytest.mark.parametrize(
    "raw",
    [
        '{"phone": "13800138000"}',
        '{"phone": 13800138000}',
        '{"phone": -13800138000}',
        '{"phone": 13800138000.0}',
        '{"phone": 1.3800138e10}',
        '{"phone": "' + "".join(f"\\u{ord(c):04x}" for c in MOBILE) + '"}',
        '{"phone": "' + "".join(f"\\u{ord(c) + 0xFEE0:04x}" for c in MOBILE) + '"}',
        '{"note": "call &#49;3800138000 now"}',
        '{"note": "call &#x31;&#x33;800138000"}',
        '{"note": "line\\n13800138000\\u0001"}',
        '{"note": "tab\\t13800138000"}',
        '{"a": [[{"b": ["x", "138 0013 8000"]}]]}',
        '"13800138000"',
        "13800138000",
        '{"13800138000": {"orders": 3}}',
    ],
)
def test_json_personal_data_is_masked_in_every_spelling(plain: Masker, raw: str) -> None:
    result = plain.mask_body(
        raw.encode(), content_type="application/json", content_encoding=None, role=None, url=None
    )
    text = result.body.decode()
    json.loads(text)  # still valid JSON
    decoded = json.dumps(json.loads(text), ensure_ascii=False)
    assert MOBILE not in decoded and "13800138000" not in text
    assert "138****8000" in decoded
    assert result.counts == {"cn_mobile": 1}


def test_json_id_written_as_a_number_becomes_a_masked_string(plain: Masker) -> None:
    valid = cn_id("440305", "19800101", "123")
    assert valid.isdigit()
    out = mask_json(plain, f'{{"id": {valid}, "n": 42, "f": 3.25, "big": 1700000000000}}')
    assert out == {
        "id": f"{valid[:6]}********{valid[-4:]}",
        "n": 42,
        "f": 3.25,
        "big": 1700000000000,
    }


def test_json_without_personal_data_comes_back_byte_for_byte(plain: Masker) -> None:
    raw = b'{ "order": "2024051512345678",\n  "ts": 1700000000000, "amount": 13800.50 }'
    result = plain.mask_body(
        raw, content_type="application/json", content_encoding=None, role=None, url=None
    )
    assert result.body == raw
    assert not result.changed


def test_json_field_rules_by_key_path_and_wildcard(acme: Masker) -> None:
    doc = {
        "name": "张三丰",
        "customer_name": "欧阳娜娜",
        "holder": {"name": "John Smith", "address": "北京市海淀区中关村大街1号"},
        "contacts": [{"name": "李四", "relation": "父亲"}],
        "product": {"title": "name is not a rule here"},
        "remark": "张三丰",  # not a field rule: no pattern finds a name
    }
    out = mask_json(acme, json.dumps(doc, ensure_ascii=False))
    assert out == {
        "name": "张**",
        "customer_name": "欧阳**",
        "holder": {"name": "J*** S****", "address": "北京市海淀区****"},
        "contacts": [{"name": "李*", "relation": "父亲"}],
        "product": {"title": "name is not a rule here"},
        "remark": "张三丰",
    }


def test_json_dotted_paths_and_anchors() -> None:
    masker = Masker(
        policy(
            {
                "fields": [
                    {"name": "holder", "kind": "full", "json": ["holder.name"]},
                    {"name": "root-only", "kind": "full", "json": ["$.owner"]},
                    {"name": "nested", "kind": "partial", "json": ["contacts.*.tel"]},
                ]
            }
        ),
        KEY,
    )
    doc = {
        "name": "kept",
        "holder": {"name": "Wang"},
        "other": {"name": "kept", "owner": "kept"},
        "owner": "Zhou",
        "contacts": [{"tel": "internal-7"}, {"tel": 12345}],
    }
    out = mask_json(masker, json.dumps(doc))
    assert out == {
        "name": "kept",
        "holder": {"name": "****"},
        "other": {"name": "kept", "owner": "kept"},
        "owner": "****",
        "contacts": [{"tel": "in******-7"}, {"tel": "1***5"}],
    }


def test_json_lines_masks_each_line_and_keeps_blank_ones(plain: Masker) -> None:
    body = b'{"a": "13800138000"}\n\n{"b": 13900139000}\r\n{"c": "none"}\n'
    result = plain.mask_body(
        body, content_type="application/x-ndjson", content_encoding=None, role=None, url=None
    )
    lines = result.body.decode().split("\n")
    assert lines[1] == "" and lines[2].endswith("\r") and lines[4] == ""
    assert [json.loads(line) for line in lines if line.strip()] == [
        {"a": "138****8000"},
        {"b": "139****9000"},
        {"c": "none"},
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"a": ', "not valid JSON"),
        (b"{'a': 1}", "not valid JSON"),
        (b"[" * 100000 + b"]" * 100000, "nested too deeply|not valid JSON"),
    ],
)
def test_json_that_cannot_be_parsed_is_refused(plain: Masker, raw: bytes, message: str) -> None:
    with pytest.raises(UnmaskableBodyError, match=message):
        plain.mask_body(
            raw, content_type="application/json", content_encoding=None, role=None, url=None
        )


def test_json_lines_error_names_the_line(plain: Masker) -> None:
    with pytest.raises(UnmaskableBodyError, match="line 2"):
        plain.mask_text('{"a": 1}\n{oops}', body_format=BodyFormat.JSONL)


@settings(max_examples=60, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=12,
    ),
    st.sampled_from(["13800138000", 13800138000, "+86 138-0013-8000", "１３８００１３８０００"]),
)
def test_any_json_document_stays_valid_and_loses_the_mobile(
    plain: Masker, document: object, phone: object
) -> None:
    raw = json.dumps({"doc": document, "phone": phone, "more": [phone]})
    out = plain.mask_text(raw, body_format=BodyFormat.JSON).text
    parsed = json.loads(out)
    assert parsed["phone"] == "138****8000" and parsed["more"] == ["138****8000"]
    assert parsed["doc"] == json.loads(
        plain.mask_text(json.dumps(document), body_format=BodyFormat.JSON).text
    )


HTML_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>客户 13800138000</title></head>
<body>
<table><tr><td class="customer-name">张<b>三</b>丰</td>
<td data-field="address">北京市海淀区中关村大街1号</td>
<td title="&#49;3800138000">电话 &#49;3800138000</td></tr></table>
<input class="customer-name" value="李四">
<p>邮箱 zhang.san&#64;example.com，订单 2024051512345678</p>
<!-- debug: 13900139000 -->
<template><span>13700137000</span></template>
<script type="application/json">{"phone": 13600136000, "html": "</b>"}</script>
<script>var tel = "\\u0031\\u0033\\u0035\\u00300135000"; var n = 1700000000000;</script>
</body></html>"""


def test_html_text_attributes_entities_comments_templates_scripts(acme: Masker) -> None:
    result = acme.mask_body(
        HTML_PAGE.encode(),
        content_type="text/html",
        content_encoding=None,
        role="inbound",
        url=None,
        explain=True,
    )
    out = result.body.decode()
    for secret in (
        "13800138000",
        "13900139000",
        "13700137000",
        "13600136000",
        "13500135000",
        "zhang.san",
        "三丰",
        "中关村",
        "李四",
        "&#49;3800138000",
    ):
        assert secret not in out, secret
    assert "张**" in out and "北京市海淀区****" in out and 'value="李*"' in out
    assert "2024051512345678" in out and "1700000000000" in out
    assert "<\\/b>" in out  # the JSON script cannot close its element early
    assert "debug" not in out  # a comment with personal data goes
    assert result.counts["customer-name"] == 2 and result.counts["customer-address"] == 1


def test_html_fragment_keeps_its_table_rows(plain: Masker) -> None:
    fragment = "<tr><td>13800138000</td><td>ok</td></tr><tr><td>x</td></tr>"
    out = plain.mask_text(fragment, body_format=BodyFormat.HTML).text
    assert out == "<tr><td>138****8000</td><td>ok</td></tr><tr><td>x</td></tr>"


def test_html_without_personal_data_is_not_rewritten(plain: Masker) -> None:
    page = b"<P CLASS=x>hello <b>world</P>"
    result = plain.mask_body(
        page, content_type="text/html", content_encoding=None, role=None, url=None
    )
    assert result.body == page


def test_text_with_script_escapes(plain: Masker) -> None:
    out = plain.mask_text('x = "\\u0031\\u0033800138000"; y = "\\x31\\x33900139000"').text
    assert out == 'x = "138****8000"; y = "139****9000"'


def test_form_fields_are_percent_decoded_masked_and_encoded(acme: Masker) -> None:
    body = "name=%E5%BC%A0%E4%B8%89%E4%B8%B0&phone=%2B86+138-0013-8000&q=2024051512345678&x"
    out = acme.mask_text(body, body_format=BodyFormat.FORM).text
    assert out == "name=%E5%BC%A0**&phone=138****8000&q=2024051512345678&x"


def test_form_in_gbk(plain: Masker) -> None:
    body = "tel=13800138000&memo=" + "".join(f"%{b:02X}" for b in "备注".encode("gbk"))
    result = plain.mask_body(
        body.encode(),
        content_type="application/x-www-form-urlencoded; charset=gbk",
        content_encoding=None,
        role=None,
        url=None,
    )
    assert result.body.decode() == "tel=138****8000&memo=%B1%B8%D7%A2"


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ('{"a": 1}', BodyFormat.JSON),
        ("  [1, 2]", BodyFormat.JSON),
        ('{"a": 1}\n{"a": 2}\n', BodyFormat.JSONL),
        ("<div>x</div>", BodyFormat.HTML),
        ("a=1&b=two", BodyFormat.FORM),
        ("hello 13800138000", BodyFormat.TEXT),
    ],
)
def test_sniffing(text: str, fmt: BodyFormat) -> None:
    assert sniff_format(text) is fmt


@pytest.mark.parametrize(
    ("content_type", "fmt"),
    [
        ("application/json; charset=utf-8", "json"),
        ("application/vnd.api+json", "json"),
        ("application/x-ndjson", "jsonl"),
        ("text/html;charset=gbk", "html"),
        ("application/x-www-form-urlencoded", "form"),
        ("text/plain", "text"),
        ("application/javascript", "text"),
    ],
)
def test_format_from_content_type(plain: Masker, content_type: str, fmt: str) -> None:
    result = plain.mask_body(
        b"", content_type=content_type, content_encoding=None, role=None, url=None
    )
    assert result.format == fmt


@pytest.mark.parametrize(
    "content_type", ["image/png", "application/octet-stream", "application/pdf"]
)
def test_content_types_the_masker_cannot_read_are_refused(plain: Masker, content_type: str) -> None:
    with pytest.raises(UnmaskableBodyError, match="not a format the masker reads"):
        plain.mask_body(
            b"\x89PNG", content_type=content_type, content_encoding=None, role=None, url=None
        )


@pytest.fixture(scope="module")
def custom_digits() -> Masker:
    """Officers' patterns that a bare JSON number, or the text between two, could match."""
    return Masker(
        policy(
            {
                "custom": [
                    {"name": "member", "pattern": r"\d{6}-?\d{6}", "style": "full"},
                    {"name": "pair", "pattern": r"\d{3},\d{3}", "style": "full"},
                ]
            }
        ),
        KEY,
    )


@pytest.mark.parametrize(
    ("raw", "masked", "kept"),
    [
        ('{"m": "会员 123456789012"}', "123456789012", None),
        ('{"m": 123456789012}', "123456789012", None),  # the number check runs them too
        ('{"m": "123456-789012"}', "123456-789012", None),
        ('{"p": "111,222"}', "111,222", None),
        ('{"p": "x\\"111,222"}', "111,222", None),
        ('{"p": [111,222]}', None, ("p", [111, 222])),
        ('{"p": [111,222,"a"]}', None, ("p", [111, 222, "a"])),
        ('{"b": "\\\\", "p": [111,222]}', None, ("p", [111, 222])),
    ],
)
def test_json_custom_patterns_count_inside_strings_only(
    custom_digits: Masker, raw: str, masked: str | None, kept: tuple[str, object] | None
) -> None:
    out = custom_digits.mask_text(raw, body_format=BodyFormat.JSON).text
    parsed = json.loads(out)  # a pattern matching across bare tokens must not break the JSON
    if masked is not None:
        assert masked not in out
    if kept is not None:
        assert parsed[kept[0]] == kept[1]


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(min_value=-(10**14), max_value=10**14)
        | st.text(alphabet='0123456789,-"\\ ab会', max_size=16),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=12,
    )
)
def test_json_custom_hits_are_kept_exactly_when_inside_a_string(
    custom_digits: Masker, document: object
) -> None:
    """The quick test (a character no bare token has) agrees with placing every hit by the
    string spans, on any document."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    view = _ESCAPE.sub(lambda m: '"' * len(m.group()), text)
    custom = custom_digits.policy.masking.custom
    scanner = Scanner([d.name for d in custom], custom)
    hits = scanner.scan(view)
    spans = [m.span() for m in _STRING.finditer(text)]
    exact = [h for h in hits if any(s <= h.start and h.end < e for s, e in spans)]
    assert _inside_strings(text, hits, scanner.custom_names) == exact


def test_json_repeated_records_are_masked_and_counted_each_time(acme: Masker) -> None:
    # a customer's record recurs under each of their tickets: the run remembers what a field
    # became, and must still count (and mask) every occurrence, as `explain` does without it
    record = {
        "name": "张三丰",
        "address": "北京市海淀区中关村大街1号院 13800138000",
        # a Latin name keeps its words' first letters and whatever is not a word: the number
        # in it is masked too, and counted each time
        "contacts": [{"name": "John 13700137000", "mobile": "13900139000"}],
    }
    raw = json.dumps([record, record, {"name": "张三丰"}], ensure_ascii=False).encode()
    outcomes = [
        acme.mask_body(
            raw,
            content_type="application/json",
            content_encoding=None,
            role="inbound",
            url=None,
            explain=explain,
        )
        for explain in (False, True)
    ]
    fast, explained = outcomes
    assert fast.body == explained.body
    assert fast.counts == explained.counts
    assert fast.counts["customer-name"] == 5 and fast.counts["customer-address"] == 2
    assert fast.counts["cn_mobile"] == 4
    assert len(explained.findings) == sum(explained.counts.values())
    for secret in ("13800138000", "13700137000", "三丰"):
        assert secret not in fast.body.decode()
