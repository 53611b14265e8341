"""Detectors: every kind of personal data found in its written forms, look-alikes left alone."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from homeagent.proxy.core.masking import Masker
from homeagent.proxy.core.masking.scanner import (
    _ASCII_ALNUM,
    _CANDIDATE,
    _EDGE_BEFORE,
    _RUN,
    BANK_CARD,
    CN_ID,
    CN_LANDLINE,
    CN_MOBILE,
    Hit,
    Scanner,
    classify_number,
)
from homeagent.proxy.core.masking.validators import (
    bank_card_ok,
    cn_id_ok,
    cn_landline_split,
    cn_mobile_ok,
    luhn_ok,
)
from homeagent.proxy.core.policy.masking import BUILTIN_DETECTORS

from .pii_samples import FULL_WIDTH, KEY, cn_id, luhn_broken, luhn_complete, policy, wrong_checksum

SCANNER = Scanner(BUILTIN_DETECTORS)
VALID_ID = cn_id()
CARD16 = luhn_complete("622202123456789")
CARD19 = luhn_complete("621700123456789012")


def found(text: str) -> list[tuple[str, str]]:
    return [(hit.detector, text[hit.start : hit.end]) for hit in SCANNER.scan(text)]


@pytest.mark.parametrize(
    ("text", "detector", "written"),
    [
        ("手机13800138000谢谢", "cn_mobile", "13800138000"),
        ("tel: 138 0013 8000.", "cn_mobile", "138 0013 8000"),
        ("138-0013-8000", "cn_mobile", "138-0013-8000"),
        ("138.0013.8000", "cn_mobile", "138.0013.8000"),
        ("+86 138 0013 8000", "cn_mobile", "+86 138 0013 8000"),
        ("+8613800138000", "cn_mobile", "+8613800138000"),
        ("0086-138-0013-8000", "cn_mobile", "0086-138-0013-8000"),
        ("86-13800138000", "cn_mobile", "86-13800138000"),
        ("电话：１３８００１３８０００", "cn_mobile", "１３８００１３８０００"),
        ("1３８0013８000", "cn_mobile", "1３８0013８000"),
        ("138\u200b0013\u200b8000", "cn_mobile", "138\u200b0013\u200b8000"),
        ("199 1234 5678", "cn_mobile", "199 1234 5678"),
        ("010-62345678", "cn_landline", "010-62345678"),
        ("(010)62345678", "cn_landline", "(010)62345678"),
        ("（0755）86001234", "cn_landline", "（0755）86001234"),
        ("0755 8600 1234", "cn_landline", "0755 8600 1234"),
        ("+86 10 62345678", "cn_landline", "+86 10 62345678"),
        ("010-62345678-801", "cn_landline", "010-62345678-801"),
        (f"身份证{VALID_ID}", "cn_id", VALID_ID),
        (f"id {VALID_ID.lower()}", "cn_id", VALID_ID.lower()),
        (f"{VALID_ID[:6]} {VALID_ID[6:14]} {VALID_ID[14:]}", "cn_id", None),
        (VALID_ID.translate(FULL_WIDTH), "cn_id", None),
        ("110105491231002", "cn_id", "110105491231002"),
        (f"卡号{CARD16}", "bank_card", CARD16),
        (CARD19, "bank_card", CARD19),
        (" ".join(CARD16[i : i + 4] for i in range(0, 16, 4)), "bank_card", None),
        ("-".join(CARD16[i : i + 4] for i in range(0, 16, 4)), "bank_card", None),
        ("4111111111111111", "bank_card", "4111111111111111"),
        ("邮箱zhang.san@example.com。", "email", "zhang.san@example.com"),
        ("Zhang_San+crm@Mail.Example.COM", "email", "Zhang_San+crm@Mail.Example.COM"),
        ("13800138000@163.com", "email", "13800138000@163.com"),
        ("zhang＠example.com", "email", "zhang＠example.com"),
    ],
)
def test_personal_data_is_found(text: str, detector: str, written: str | None) -> None:
    hits = found(text)
    assert [d for d, _ in hits] == [detector]
    assert hits[0][1] == (written if written is not None else text)


@pytest.mark.parametrize(
    "text",
    [
        "订单号 2024051512345678",  # order number
        "SF1234567890123",  # tracking numbers
        "YT8812345678901",
        "JD0012345678901",
        "773123456789012",
        "created 1700000000000",  # 13-digit millisecond timestamp
        "1715760000123",
        f"身份证 {wrong_checksum(VALID_ID)}",  # ID with a wrong checksum
        f"卡 {luhn_broken('622202123456789')}",  # card-like, Luhn fails
        "金额 13800138000.50 元",  # amount with decimals
        "13800138000.5",  # float
        "1.3800138000",
        "550e8400-e29b-41d4-a716-446655440000",  # UUIDs
        "07322112-8112-a531-4f60-a4e76a88fadf",
        "12345678-1234-1234-1234-123456789012",
        "400-820-8820",  # service numbers
        "4008208820",
        "800-810-8888",
        "95588",
        "95555-1",
        "10086",
        "12306",
        "ORD13800138000",  # glued to letters: an identifier
        "13800138000X1",
        "2024-05-15 10:30:00",  # dates and times
        "20240515103000",
        "1234567890",  # too short for anything but a landline, which starts with 0
        "12800138000",  # 12x is no mobile range
        "010-12345678",  # local numbers never start with 1
        "not an email@",
        "user@localhost",
    ],
)
def test_look_alikes_are_left_alone(text: str) -> None:
    assert found(text) == []


def test_several_numbers_separated_by_spaces_are_each_found() -> None:
    assert found("13800138000 13900139000") == [
        ("cn_mobile", "13800138000"),
        ("cn_mobile", "13900139000"),
    ]


def test_a_number_after_unrelated_digits_is_still_found() -> None:
    assert found("编号 12 13800138000") == [("cn_mobile", "13800138000")]


@pytest.mark.parametrize(
    ("digits", "ok"),
    [
        ("4111111111111111", True),
        ("4111111111111112", False),
        ("79927398713", True),
        ("79927398710", False),
    ],
)
def test_luhn(digits: str, ok: bool) -> None:
    assert luhn_ok(digits) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (cn_id(), True),
        (cn_id("440305", "20000229", "123"), True),
        (wrong_checksum(cn_id()), False),
        (cn_id("110105", "19490231", "002"), False),  # 31 February
        (cn_id("110105", "18800101", "002"), False),  # implausible birth year
        (cn_id("910105", "19491231", "002"), False),  # no such region
        ("110105491231002", True),
        ("110105491331002", False),  # month 13
        ("11010519491231002", False),
    ],
)
def test_resident_id(value: str, ok: bool) -> None:
    assert cn_id_ok(value) is ok


@pytest.mark.parametrize(
    ("digits", "ok"),
    [("13800138000", True), ("19912345678", True), ("12800138000", False), ("1380013800", False)],
)
def test_mobile_prefixes(digits: str, ok: bool) -> None:
    assert cn_mobile_ok(digits) is ok


@pytest.mark.parametrize(
    ("digits", "split"),
    [
        ("01062345678", ("010", "62345678")),
        ("02162345678", ("021", "62345678")),
        ("075586001234", ("0755", "86001234")),
        ("01162345678", None),
        ("4008208820", None),
        ("01012345678", None),
    ],
)
def test_landline_area_codes(digits: str, split: tuple[str, str] | None) -> None:
    assert cn_landline_split(digits) == split


def test_timestamps_and_id_shaped_numbers_are_never_cards() -> None:
    timestamp = luhn_complete("170000000000")  # 13 digits, Luhn-valid, starts with 1
    assert luhn_ok(timestamp)
    assert not bank_card_ok(timestamp)
    id_like = wrong_checksum(cn_id("510107", "19800101", "123"))
    assert not bank_card_ok(id_like)


def test_custom_detector_with_validator() -> None:
    masker = Masker(
        policy(
            {
                "custom": [
                    {"name": "policy_no", "pattern": r"PN\d{10}", "validator": "luhn"},
                    {"name": "member", "pattern": r"M-\d{6}", "style": "partial"},
                ]
            }
        ),
        KEY,
    )
    good = "PN" + luhn_complete("123456789")
    bad = "PN" + luhn_broken("123456789")
    result = masker.mask_text(f"{good} {bad} M-123456")
    assert good not in result.text
    assert bad in result.text
    assert "M-123456" not in result.text
    assert result.counts == {"policy_no": 1, "member": 1}


@given(
    prefix=st.sampled_from(["130", "135", "138", "150", "166", "177", "186", "199"]),
    rest=st.text(alphabet="0123456789", min_size=8, max_size=8),
    layout=st.sampled_from(["plain", "spaced", "dashed", "full", "plus86", "0086", "dots"]),
    before=st.sampled_from(["", "电话", "tel: ", "(", "手机号：", " "]),
    after=st.sampled_from(["", "。", " ", ",", "）", "转人工"]),
)
def test_any_mobile_in_any_layout_is_found(
    prefix: str, rest: str, layout: str, before: str, after: str
) -> None:
    digits = prefix + rest
    a, b, c = digits[:3], digits[3:7], digits[7:]
    written = {
        "plain": digits,
        "spaced": f"{a} {b} {c}",
        "dashed": f"{a}-{b}-{c}",
        "full": digits.translate(FULL_WIDTH),
        "plus86": f"+86 {digits}",
        "0086": f"0086 {a} {b} {c}",
        "dots": f"{a}.{b}.{c}",
    }[layout]
    hits = SCANNER.scan(before + written + after)
    assert [(h.detector, h.value) for h in hits] == [("cn_mobile", digits)]


def _numbers_read_one_by_one(scanner: Scanner, text: str) -> list[Hit]:
    """What the number scan finds when it reads every candidate afresh, as it did before it
    remembered the values a text repeats."""
    hits: list[Hit] = []
    for candidate in _CANDIDATE.finditer(text):
        run, (start, end) = candidate.group(), candidate.span()
        if run.isascii() and run.isdigit():
            before = text[start - 1] if start else ""
            after = text[end] if end < len(text) else ""
            if before not in _EDGE_BEFORE and after not in _ASCII_ALNUM:
                found = classify_number(run, False) if len(run) <= 19 else None
                if found is not None and found[0] in scanner.enabled:
                    hits.append(Hit(found[0], start, end, found[1]))
                continue
        for match in _RUN.finditer(text, max(0, start - 3), min(len(text), end + 2)):
            scanner._scan_run(match.group(), match.start(), hits)
    return hits


PIECES = [
    "13800138000", "138 0013 8000", "+86 138-0013-8000", "010-12345678", "(0755) 2243 2708",
    VALID_ID, CARD16, f"{CARD16[:4]} {CARD16[4:8]} {CARD16[8:12]} {CARD16[12:]}", "1700000000000",
    "2026-0101-02158", "13800138.38", "a", "A-", "-", ".", " ", "，", "x", "号", "0", "12",
    "+", "(", "\u3000", "X", "\"", "9 ", "SO-", "SF.", "P\uff0d", "2026-0101-", "2026--0101",
    "1380013800\uff0e0",
]  # fmt: skip


@given(st.lists(st.sampled_from(PIECES), max_size=30))
def test_numbers_a_text_repeats_are_found_as_if_read_one_by_one(pieces: list[str]) -> None:
    text = "".join(pieces) * 2
    hits: list[Hit] = []
    SCANNER._scan_numbers(text, hits, {})
    assert hits == _numbers_read_one_by_one(SCANNER, text)


@given(st.lists(st.sampled_from(PIECES), max_size=30))
def test_a_text_of_distinct_numbers_is_read_one_by_one_alike(pieces: list[str]) -> None:
    # hundreds of distinct spelt numbers first: the scan stops remembering them (it does not
    # pay), and what follows must be found just the same
    distinct = " ".join(
        f"138-{n:04d}-{n * 7 % 10000:04d}，+86 139 {n:04d} 0000" for n in range(300)
    )
    text = distinct + "。" + "".join(pieces) * 2
    hits: list[Hit] = []
    SCANNER._scan_numbers(text, hits, {})
    assert hits == _numbers_read_one_by_one(SCANNER, text)
    assert sum(hit.detector == "cn_mobile" and hit.end <= len(distinct) for hit in hits) == 600


@pytest.mark.parametrize(
    "text",
    [
        "SO-2026-0101-02158",
        "SF.2026.0101.0215",
        "order -13800138000",
        "tel:-13800138000",
        "A-13800138000 and SO-2026-13800138000",
        "SO-2026--13800138000",
        "SO-2026-0101 13800138000",
        "SO-2026-0101(13800138000)",
        "P\uff0d13800138000\uff0e",
    ],
)
def test_codes_glued_to_letters_read_as_the_full_pattern_does(text: str) -> None:
    hits: list[Hit] = []
    SCANNER._scan_numbers(text, hits, {})
    assert hits == _numbers_read_one_by_one(SCANNER, text)


def test_emails_with_either_at_sign_are_found_in_order() -> None:
    text = "b@example.com, zhang＠example.com; li@example.cn 和 wang＠example.com"
    assert found(text) == [
        ("email", "b@example.com"),
        ("email", "zhang＠example.com"),
        ("email", "li@example.cn"),
        ("email", "wang＠example.com"),
    ]


def _classified_in_full(digits: str, international: bool) -> tuple[str, str] | None:
    """classify_number as it read every number, before 1-led numbers were settled early."""
    length = len(digits)
    if length in (15, 18) and cn_id_ok(digits):
        return CN_ID, digits
    if "X" in digits:
        return None
    if bank_card_ok(digits):
        return BANK_CARD, digits
    national = None
    if digits.startswith("0086"):
        national = digits[4:]
    elif digits.startswith("86") and (international or length in (12, 13)):
        national = digits[2:]
    if cn_mobile_ok(digits):
        return CN_MOBILE, digits
    if national is not None and cn_mobile_ok(national):
        return CN_MOBILE, national
    split = cn_landline_split(digits)
    if split is None and national is not None:
        split = cn_landline_split(national if national.startswith("0") else "0" + national)
    if split is not None:
        return CN_LANDLINE, f"{split[0]}-{split[1]}"
    return None


@given(
    st.sampled_from("1") | st.sampled_from("0123456789"),
    st.text("0123456789", min_size=9, max_size=18),
    st.sampled_from(["", "X"]),
    st.booleans(),
)
def test_numbers_settled_early_read_as_in_full(
    first: str, rest: str, tail: str, international: bool
) -> None:
    digits = first + rest + tail
    assert classify_number(digits, international) == _classified_in_full(digits, international)


@pytest.mark.parametrize(
    ("digits", "kind"),
    [
        ("1776337518978", None),
        ("13800138000", CN_MOBILE),
        (cn_id("110105", "19800101", "123"), CN_ID),
        ("110105800101123", CN_ID),
    ],
)
def test_one_led_numbers_settled_early_are_look_alikes_only(digits: str, kind: str | None) -> None:
    found = classify_number(digits, False)
    assert found == _classified_in_full(digits, False)
    assert (found and found[0]) == kind
