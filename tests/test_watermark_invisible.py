"""Invisible marks: where they go, and that fragments still carry a whole one."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from homeagent.proxy.core.watermark.errors import MarkFormatError
from homeagent.proxy.core.watermark.invisible import (
    DIGITS,
    INVISIBLE,
    SENTINEL,
    decode,
    embed,
    embed_all,
    encode,
    extract,
    strip,
)
from homeagent.proxy.core.watermark.mark import Mark, sign, verify

KEY = b"k" * 32
WHEN = datetime(2025, 5, 1, 9, 30, tzinfo=UTC)
MARK = sign(Mark("A1023", WHEN, "ABCDEFGH"), KEY)
OTHER = sign(Mark("B77", WHEN, "ZZZZ2345"), KEY)
INK = encode(MARK)

ENGLISH = (
    "The customer called about the late delivery of order 4471 and asked for a refund. "
    "Phone 138****8000, e-mail z***@example.com, see https://crm.acme.test/tickets/4471 for the "
    "history. Card 6222 **** **** 1234 was charged twice on 3 May; amount 1,250.00 CNY. "
)
CHINESE = (
    "客户来电反映快递延误了三天，要求退款。联系电话138****8000，身份证号1101**********123X。"
    "已告知客户会在两个工作日内处理完毕，请注意跟进。"
)
LONG = (ENGLISH + CHINESE) * 30


def visible(text: str) -> int:
    return len(strip(text))


def test_embed_then_extract_round_trip() -> None:
    marked = embed(LONG, MARK)
    assert strip(marked) == LONG
    found = extract(marked)
    assert len(found) >= len(LONG) // 200
    assert {f.sealed.mark for f in found} == {Mark("A1023", WHEN, "ABCDEFGH")}
    assert all(verify(f.sealed, KEY) for f in found)


def test_mark_uses_only_the_documented_characters() -> None:
    assert INK[0] == SENTINEL
    assert set(INK[1:]) <= set(DIGITS)
    assert set(INVISIBLE) == {"\u200c", "\u200d", "\u2060", "\u2061", "\u2062", "\u2063", "\u2064"}
    assert len(INK) <= 80


def test_marks_come_at_least_every_n_characters() -> None:
    marked = embed(LONG, MARK, every_chars=200)
    gaps = [len(part) for part in marked.split(INK)]
    assert max(gaps[:-1]) <= 200
    assert gaps[-1] <= 200


@settings(max_examples=300, deadline=None)
@given(start=st.integers(0, 10**6), cut=st.integers(0, 10**6))
def test_any_fragment_with_300_visible_characters_carries_a_whole_verified_mark(
    start: int, cut: int
) -> None:
    marked = embed(LONG, MARK, every_chars=200)
    start %= len(marked) - 400
    end = start
    while visible(marked[start:end]) < 300:
        end += 1
    fragment = marked[start:end]
    found = extract(fragment)
    assert found, f"no mark in {fragment!r}"
    assert all(verify(f.sealed, KEY) for f in found)


@settings(max_examples=200, deadline=None)
@given(start=st.integers(0, 10**6))
def test_any_raw_fragment_of_350_characters_carries_a_mark(start: int) -> None:
    marked = embed(LONG, MARK, every_chars=200)
    start %= len(marked) - 350
    assert extract(marked[start : start + 350])


@settings(max_examples=200, deadline=None)
@given(cut=st.integers(1, len(INK) - 1))
def test_a_cut_mark_is_skipped_not_misread(cut: int) -> None:
    assert extract("before " + INK[:cut]) == []
    assert extract(INK[cut:] + " after") == []


def test_text_around_marks_does_not_matter() -> None:
    marked = embed("Please call the customer back today.", MARK)
    pasted = "From the chat log:\n> " + marked + "\nthanks, see you"
    assert [f.sealed.mark.agent for f in extract(pasted)] == ["A1023"]


def test_several_different_marks_are_each_reported() -> None:
    document = embed(ENGLISH, MARK) + "\n---\n" + embed(CHINESE, OTHER) + embed(ENGLISH, MARK)
    agents = [f.sealed.mark.agent for f in extract(document)]
    assert set(agents) == {"A1023", "B77"}
    assert agents.index("B77") > agents.index("A1023")


def test_adjacent_marks_are_both_found() -> None:
    assert len(extract("x" + INK + encode(OTHER) + "y")) == 2


def test_short_text_carries_one_mark_when_it_has_room() -> None:
    marked = embed("Call back tomorrow", MARK)
    assert len(extract(marked)) == 1
    assert strip(marked) == "Call back tomorrow"


@pytest.mark.parametrize("text", ["OK", "13800138000", "138****8000", "https://x.test/a", ""])
def test_text_without_a_safe_place_stays_unmarked(text: str) -> None:
    assert embed(text, MARK) == text


@pytest.mark.parametrize(
    "token",
    [
        "138****8000",
        "13800138000",
        "1101**********123X",
        "6222 **** **** 1234",
        "138 0013 8000",
        "1,250.00",
        "３８０",
        "https://crm.acme.test/tickets/4471?x=1,2",
        "www.acme.test/a",
        "z***@example.com",
        "first.last@example.com",
    ],
)
def test_numbers_masked_tokens_urls_and_addresses_are_never_split_or_trailed(token: str) -> None:
    text = f"Before {token} after. " * 40 + f"客户{token}，好的。" * 20
    marked = embed(text, MARK, every_chars=40)
    assert extract(marked)
    assert marked.count(token) == text.count(token), "a mark landed inside the token"
    assert token + SENTINEL not in marked, "a mark trails the token"


def test_chinese_text_is_marked_after_punctuation_first() -> None:
    marked = embed(CHINESE * 3, MARK, every_chars=60)
    for match in re.finditer(re.escape(INK), marked):
        assert (
            marked[match.start() - 1] in "，。、；：！？" or marked[match.start() - 1] >= "\u4e00"
        )
    assert len(extract(marked)) >= 2


def test_han_characters_are_used_when_nothing_else_is_near() -> None:
    text = "甲乙丙丁戊己庚辛壬癸" * 30
    marked = embed(text, MARK, every_chars=100)
    assert len(extract(marked)) >= 2
    assert strip(marked) == text


def test_a_stream_of_texts_is_marked_as_one() -> None:
    cells = ["Customer asked for a refund", "张三", "138****8000"] * 20
    marked = embed_all(cells, MARK, every_chars=200)
    assert [strip(cell) for cell in marked] == cells
    assert 2 <= sum(len(extract(cell)) for cell in marked) <= 5
    assert all(cell == "138****8000" for cell in marked[2::3])


def test_decode_refuses_lengths_and_values_that_are_no_mark() -> None:
    with pytest.raises(MarkFormatError, match="no mark length"):
        decode(DIGITS[0] * 5)
    with pytest.raises(MarkFormatError, match="out of range"):
        decode(DIGITS[-1] * len(INK[1:]))


def test_every_chars_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        embed("a b c", MARK, every_chars=0)


def test_when_most_words_are_codes_marks_follow_the_plain_words_only() -> None:
    text = ("1a 2b 3c A1023x z@q.test " * 12 + "customer ") * 20
    marked = embed(text, MARK, every_chars=200)
    assert len(extract(marked)) >= 10
    assert strip(marked) == text
    for match in re.finditer(re.escape(INK), marked):
        assert marked[: match.start()].endswith("customer")


def test_a_link_longer_than_the_lookback_is_not_trailed_by_a_mark() -> None:
    link = "https://crm.acme.test/search?" + "q=refund&page=next&" * 20 + "sort=date"
    text = f"See {link} 2026-05-01"
    marked = embed(text, MARK, every_chars=1000)
    assert marked == f"See{INK} {link} 2026-05-01"


def test_a_place_right_after_the_previous_mark_still_counts() -> None:
    text = "退款。" * 200
    marked = embed(text, MARK, every_chars=3)
    assert strip(marked) == text
    assert marked.count(INK) >= len(text) // 3 - 1
