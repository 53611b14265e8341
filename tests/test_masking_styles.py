"""Styles (partial, full, pseudonym), field kinds, and exemptions by role, detector and URL."""

from __future__ import annotations

import re

import pytest

from homeagent.proxy.core.masking import Masker
from homeagent.proxy.core.masking.fields import address, person_name

from .pii_samples import FULL_WIDTH, KEY, cn_id, luhn_complete, policy

CARD = luhn_complete("622202123456789")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("13800138000", "138****8000"),
        ("+86 138 0013 8000", "138****8000"),
        ("010-62345678", "010-****5678"),
        ("0755 8600 123", "0755-***0123"),
        (cn_id(), "110105********002X"),
        ("110105491231002", "110105*****1002"),
        (CARD, f"6222 **** **** {CARD[-4:]}"),
        ("Zhang.San@Example.com", "z***@example.com"),
    ],
)
def test_partial_keeps_the_ends(text: str, masked: str) -> None:
    assert Masker(policy(), KEY).mask_text(text).text == masked


def test_full_stars_everything() -> None:
    masker = Masker(policy({"detectors": {"cn_mobile": {"style": "full"}}}), KEY)
    assert masker.mask_text("tel 138-0013-8000").text == "tel ***********"


def test_pseudonym_is_keyed_and_the_same_however_the_value_is_written() -> None:
    settings = {"detectors": {name: {"style": "pseudonym"} for name in ("cn_mobile", "email")}}
    masker = Masker(policy(settings), KEY)
    spellings = [
        "13800138000",
        "+86 138-0013-8000",
        "13800138000".translate(FULL_WIDTH),
        "0086 138 0013 8000",
    ]
    tokens = {masker.mask_text(s).text for s in spellings}
    assert len(tokens) == 1
    (token,) = tokens
    assert re.fullmatch(r"PII-mob-[0-9a-f]{8}", token)
    assert masker.mask_text("13900139000").text != token
    assert (
        Masker(policy(settings), b"another-key-of-at-least-16").mask_text("13800138000").text
        != token
    )
    assert masker.mask_text("A@Example.com").text == masker.mask_text("a@example.COM").text


def test_a_disabled_detector_leaves_its_data() -> None:
    masker = Masker(policy({"detectors": {"email": {"enabled": False}}}), KEY)
    assert masker.mask_text("a@example.com 13800138000").text == "a@example.com 138****8000"


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三丰", "张**"),
        ("王五", "王*"),
        ("欧阳娜娜", "欧阳**"),
        ("诸葛亮", "诸葛*"),
        ("欧阳", "欧*"),
        ("John Smith", "J*** S****"),
        ("  李四 ", "李*"),
        ("", ""),
    ],
)
def test_person_name_keeps_the_surname(name: str, masked: str) -> None:
    assert person_name(name) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("北京市海淀区中关村大街1号", "北京市海淀区****"),
        ("广东省深圳市南山区科技园南区8栋", "广东省深圳市南山区****"),
        ("新疆维吾尔自治区乌鲁木齐市天山区人民路", "新疆维吾尔自治区乌鲁木齐市天山区****"),
        ("上海市浦东新区陆家嘴花园小区3号", "上海市浦东新区****"),
        ("北京市海淀区中关村大街1号院2区", "北京市海淀区****"),
        ("中关村大街1号", "****"),
        ("Room 5, 123 Main St", "****"),
    ],
)
def test_address_keeps_up_to_the_district(text: str, masked: str) -> None:
    assert address(text) == masked


EXEMPT = {
    "exempt": [
        {
            "name": "sup-mail",
            "roles": ["supervisor"],
            "detectors": ["email"],
            "url": "https://crm.acme.test/**",
        },
        {
            "name": "kb-phones",
            "detectors": ["cn_mobile"],
            "url": "https://kb.acme.test/hotlines/**",
        },
    ]
}
TEXT = "a@example.com 13800138000"


@pytest.mark.parametrize(
    ("role", "url", "masked"),
    [
        ("supervisor", "https://crm.acme.test/customers/1", "a@example.com 138****8000"),
        ("inbound", "https://crm.acme.test/customers/1", "a***@example.com 138****8000"),
        ("supervisor", "https://reports.acme.test/x", "a***@example.com 138****8000"),
        ("inbound", "https://kb.acme.test/hotlines/a", "a***@example.com 13800138000"),
        (None, "https://kb.acme.test/hotlines/a", "a***@example.com 13800138000"),
        ("supervisor", None, "a***@example.com 138****8000"),
        # a URL that can be read two ways gets no exemption
        ("supervisor", "https://crm.acme.test/a/../customers", "a***@example.com 138****8000"),
        ("supervisor", "https://user@crm.acme.test/customers", "a***@example.com 138****8000"),
    ],
)
def test_exemptions(role: str | None, url: str | None, masked: str) -> None:
    assert Masker(policy(EXEMPT), KEY).mask_text(TEXT, role=role, url=url).text == masked


def test_a_field_rule_can_be_exempted_by_name() -> None:
    settings = {
        "fields": [{"name": "customer-name", "kind": "person_name", "json": ["name"]}],
        "exempt": [{"name": "sup", "roles": ["supervisor"], "detectors": ["customer-name"]}],
    }
    masker = Masker(policy(settings), KEY)
    body = '{"name": "张三丰"}'
    from homeagent.proxy.core.masking import BodyFormat

    assert masker.mask_text(body, body_format=BodyFormat.JSON, role="supervisor").text == body
    assert "张**" in masker.mask_text(body, body_format=BodyFormat.JSON, role="inbound").text


@pytest.mark.parametrize(
    ("settings", "key", "message"),
    [
        ({}, b"short", "at least 16 bytes"),
        ({"fields": [{"name": "x", "kind": "full", "html": ["td[[["]}]}, KEY, "bad CSS selector"),
        ({"fields": [{"name": "x", "kind": "full", "json": ["a..b"]}]}, KEY, "empty segment"),
    ],
)
def test_masker_refuses_what_it_cannot_compile(
    settings: dict[str, object], key: bytes, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Masker(policy(settings), key)
