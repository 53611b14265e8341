"""Folding: every disguise of a phrase folds to the phrase's own skeleton, offsets lead back."""

from __future__ import annotations

import importlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from homeagent.proxy.core.forbidden.fold import FoldedText, fold, is_separator

fold_module = importlib.import_module("homeagent.proxy.core.forbidden.fold")
"""The module (the package exports its `fold` function under the same name)."""


@pytest.mark.parametrize(
    ("disguised", "plain"),
    [
        ("ｇｕａｒａｎｔｅｅｄ ｒｅｆｕｎｄ", "guaranteed refund"),  # full-width forms
        ("GUARANTEED Refund", "guaranteed refund"),  # case
        ("加\u200b我\u200c微\u200d信\u2060", "加我微信"),  # zero-width characters
        ("guaran\u00adteed re\u00adfund", "guaranteed refund"),  # soft hyphens
        ("加\ufe0f我\ufe0e微\U000e0100信", "加我微信"),  # variation selectors
        ("加\u202e我\u2066微\u200f信", "加我微信"),  # bidi controls
        ("加 我 微 信", "加我微信"),  # spacing
        ("加-我-微-信", "加我微信"),  # punctuation
        ("加\u3000我，微。信", "加我微信"),  # ideographic space and punctuation
        ("guаrаntееd rеfund", "guaranteed refund"),  # Cyrillic а, е
        ("οff thе rесοrd", "off the record"),  # Greek ο, Cyrillic е, с
        ("ΟFF ΤΗΕ RΕCΟRD", "off the record"),  # Greek capitals
        ("私下轉賬", "私下转账"),  # traditional Chinese
        ("內部價格", "内部价格"),
        ("私下聯繫", "私下联系"),
        ("加我ＱＱ", "加我QQ"),
        ("𝐰𝐢𝐫𝐞 ⓘⓣ", "wire it"),  # mathematical and circled letters
        ("cafe\u0301", "café"),  # combining accent vs precomposed
        ("wlre", "wire"),  # l passing for I
    ],
)
def test_disguise_folds_like_the_phrase(disguised: str, plain: str) -> None:
    assert fold(disguised) == fold(plain)


@pytest.mark.parametrize(
    ("text", "other"),
    [
        ("加我微信", "加微信"),
        ("refund", "refunds"),
        ("内部价格", "外部价格"),
        ("guaranteed", "guarantee"),
    ],
)
def test_different_words_fold_apart(text: str, other: str) -> None:
    assert fold(text) != fold(other)


@pytest.mark.parametrize(
    ("char", "separates"),
    [(" ", True), ("-", True), ("，", True), ("\n", True), ("\u200b", False), ("\u00ad", False)],
)
def test_visible_separators_and_invisible_marks(char: str, separates: bool) -> None:
    assert is_separator(char) is separates


INTERESTING_CHARS = [*"ab加我微信轉賬 -，\u200b\u00ad\ufe0fＡｂаοΗ①ßﬁ㍻\U0001d41a", "\u0301"]
INTERESTING = st.sampled_from(INTERESTING_CHARS)


@given(st.lists(INTERESTING, max_size=40).map("".join), st.data())
def test_folded_positions_lead_back_to_the_characters_they_came_from(
    text: str, data: st.DataObject
) -> None:
    folded = FoldedText.of(text)
    if not folded.folded:
        return
    start = data.draw(st.integers(0, len(folded.folded) - 1))
    end = data.draw(st.integers(start + 1, len(folded.folded)))
    begin, stop = folded.original_span(start, end)
    # the original slice folds to the folded span, give or take the rest of a character that
    # folds to several (ß → ss) at either edge
    assert folded.folded[start:end] in fold(text[begin:stop])
    assert len(fold(text[begin:stop])) - (end - start) <= 2 * 3
    assert fold(text[:begin]) == folded.folded[: len(fold(text[:begin]))]


@given(st.lists(INTERESTING, min_size=1, max_size=60).map("".join), st.integers(600, 2000))
def test_long_texts_fold_the_same_on_the_vectorised_path(piece: str, size: int) -> None:
    text = (piece * (size // len(piece) + 1))[:size]
    fast, reference = FoldedText.of(text), FoldedText(text, fold(text))
    assert fast.folded == reference.folded
    for index in range(0, len(fast.folded), 7):
        assert fast.original_index(index) == reference.original_index(index)


ONE_FOR_ONE = st.sampled_from([c for c in INTERESTING_CHARS if len(fold(c)) <= 1])
"""Characters that fold to at most one: texts of them take the vectorised path."""


@given(
    st.lists(ONE_FOR_ONE, min_size=1, max_size=60).map("".join),
    st.integers(600, 3000),
    st.integers(600, 1500),
    st.booleans(),
)
def test_a_text_folded_a_piece_at_a_time_folds_as_it_does_whole(
    piece: str, size: int, chunk: int, several_late: bool
) -> None:
    """Long texts fold in pieces (a few MB of arrays, not several times the body): the pieces
    join into the same skeleton and lead back to the same characters. A character that folds
    to several in a later piece sends the whole text the other way, still right."""
    text = (piece * (size // len(piece) + 1))[:size]
    if several_late:
        text = text[: chunk + 5] + "ß" + text[chunk + 5 :]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fold_module, "_VECTOR_CHUNK", chunk)
        fast = FoldedText.of(text)
    # pieces were folded unless some character folds to several (the `kept` mask says so)
    assert (fast._kept is not None) == (not several_late)
    reference = FoldedText(text, fold(text))
    assert fast.folded == reference.folded
    for index in range(0, len(fast.folded), 5):
        assert fast.original_index(index) == reference.original_index(index)


def test_a_phrase_across_two_pieces_leads_back_to_where_it_stands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fold_module, "_VECTOR_CHUNK", 1000)
    text = "。" * 997 + "加 我 微 信" + "好" * 500  # the phrase's characters at 997-1003
    folded = FoldedText.of(text)
    start = folded.folded.index("加我微信")
    assert folded.original_span(start, start + 4) == (997, 1004)


def test_a_long_text_with_a_character_that_folds_to_several_still_folds_right() -> None:
    text = "Straße 加我微信 " * 100
    assert FoldedText.of(text).folded == "strasse加我微信" * 100
