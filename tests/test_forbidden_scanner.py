"""The forbidden-word scanner on the ACME example policy: evasions blocked, clean text passes,
lists scoped by role, method and URL, offsets pointing into what the agent wrote."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from homeagent.proxy.core.forbidden import PhraseScanner, UndecodableBodyError, fold
from homeagent.proxy.core.policy.base import Mode
from homeagent.proxy.core.policy.loader import load_policy
from homeagent.proxy.core.policy.words import WordList
from homeagent.proxy.core.urls import AmbiguousURLError

ACME = Path(__file__).parents[1] / "policies" / "examples" / "acme.yaml"
CHAT_URL = "https://chat.acme.test/messages/4711"


@pytest.fixture(scope="module")
def scanner() -> PhraseScanner:
    return PhraseScanner.from_policy(load_policy(ACME))


def chat(scanner: PhraseScanner, body: str | bytes, content_type: str | None = None) -> list[str]:
    """Phrases found in a chat agent's POST to the chat console."""
    result = scanner.scan(body, role="chat", method="POST", url=CHAT_URL, content_type=content_type)
    assert result.blocked == bool(result.matches)
    return [m.phrase for m in result.matches]


@pytest.mark.parametrize(
    ("body", "phrase"),
    [
        ("请ｇｕａｒａｎｔｅｅｄ ｒｅｆｕｎｄ", "guaranteed refund"),
        ("好的，加\u200b我微信吧", "加我微信"),
        ("a guaran\u00adteed refund for you", "guaranteed refund"),
        ("加\ufe0f我微\ufe0e信", "加我微信"),
        ("加 我 微 信", "加我微信"),
        ("加-我-微-信", "加我微信"),
        ("guаrаnteed refund", "guaranteed refund"),  # Cyrillic а
        ("οff the record", "off the record"),  # Greek ο
        ("可以私下轉賬", "私下转账"),
        ("给你內部價格", "内部价格"),
        ("guaranteed-refund", "guaranteed refund"),
        ("guaranteedrefund", "guaranteed refund"),
        ("加我QQ123456", "加我QQ"),  # a letter-to-digit change is a word boundary
        ("加我ＱＱ号", "加我QQ"),
        ("just WIRE IT TO MY ACCOUNT.", "wire it to my account"),
        ("转到我个人账户", "转到我个人账户"),  # from the list's word file
    ],
)
def test_evasions_are_blocked(scanner: PhraseScanner, body: str, phrase: str) -> None:
    assert chat(scanner, body) == [phrase]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"text": "\\u52a0\\u6211\\u5fae\\u4fe1"}', "application/json"),
        (
            b'{"ops": [{"insert": "\\u52a0\\u6211"}, {"insert": "\\u5fae\\u4fe1"}]}',
            "application/json",
        ),
        (b"text=%E5%8A%A0%E6%88%91%E5%BE%AE%E4%BF%A1", "application/x-www-form-urlencoded"),
        (b"text=%E5%8A%A0+%E6%88%91+%E5%BE%AE+%E4%BF%A1", "application/x-www-form-urlencoded"),
        ("加我微信".encode("gbk"), "text/plain; charset=gbk"),
        ("加&#25105;<b>微</b>信".encode(), "text/html"),
    ],
)
def test_encoded_bodies_are_blocked(scanner: PhraseScanner, body: bytes, content_type: str) -> None:
    assert chat(scanner, body, content_type) == ["加我微信"]


@pytest.mark.parametrize(
    "body",
    [
        "微信支付已到账",
        "refund policy",
        "guaranteed delivery",
        "no guaranteed refunds",  # `refund` inside `refunds` is another word
        "unguaranteed refund",
        "加我好友",
        "内部价",
        "off therecordings",
        "",
    ],
)
def test_clean_text_with_part_of_a_phrase_passes(scanner: PhraseScanner, body: str) -> None:
    assert chat(scanner, body) == []


@pytest.mark.parametrize(
    ("role", "method", "url", "blocked"),
    [
        ("chat", "POST", CHAT_URL, True),
        ("chat", "post", CHAT_URL, True),
        ("inbound", "POST", CHAT_URL, False),  # the list is for the chat role only
        ("chat", "GET", CHAT_URL, False),  # and for POST only
        ("chat", "POST", "https://crm.acme.test/tickets/1", False),  # and the chat console
        ("chat", "POST", "https://CHAT.acme.test./messages/%34711", True),  # URL canonicalised
    ],
)
def test_lists_are_scoped_by_role_method_and_url(
    scanner: PhraseScanner, role: str, method: str, url: str, blocked: bool
) -> None:
    result = scanner.scan("加我微信", role=role, method=method, url=url)
    assert result.blocked is blocked


@pytest.mark.parametrize(
    "url",
    ["https://user@chat.acme.test/messages/1", "https://chat.acme.test/messages/%2e%2e/x"],
)
def test_ambiguous_urls_raise(scanner: PhraseScanner, url: str) -> None:
    with pytest.raises(AmbiguousURLError):
        scanner.scan("hello", role="chat", method="POST", url=url)


def test_undecodable_body_raises_only_where_a_list_applies(scanner: PhraseScanner) -> None:
    with pytest.raises(UndecodableBodyError, match="not valid JSON"):
        scanner.scan(
            b"{", role="chat", method="POST", url=CHAT_URL, content_type="application/json"
        )
    result = scanner.scan(b"{", role="inbound", method="POST", url=CHAT_URL)
    assert not result.blocked


def test_report_mode_records_without_blocking() -> None:
    lists = [
        (WordList(name="watch", words=["refund"], mode=Mode.REPORT), ("refund",)),
        (WordList(name="stop", words=["加我微信"]), ("加我微信",)),
    ]
    scanner = PhraseScanner(lists)
    url = "https://any.example/x"
    reported = scanner.scan("full refund", role="r", method="POST", url=url)
    assert not reported.blocked
    assert [(m.rule, m.mode) for m in reported.matches] == [("watch", Mode.REPORT)]
    both = scanner.scan("refund 加我微信", role="r", method="PUT", url=url)
    assert both.blocked
    assert [m.rule for m in both.matches] == ["watch", "stop"]


def test_matches_carry_offsets_into_the_original_text(scanner: PhraseScanner) -> None:
    body = "您好！加\u200b我-微信，guaran\u00adteed  REFUND!"
    result = scanner.scan(body, role="chat", method="POST", url=CHAT_URL)
    assert [(m.start, m.end) for m in result.matches] == [(3, 9), (10, 29)]
    assert [m.matched_text for m in result.matches] == [
        "加\u200b我-微信",
        "guaran\u00adteed  REFUND",
    ]
    assert all(body[m.start : m.end] == m.matched_text for m in result.matches)
    assert {m.field for m in result.matches} == {"body"}


def test_a_phrase_with_nothing_to_match_is_refused() -> None:
    with pytest.raises(ValueError, match="phrase '!!!' has no letters or digits"):
        PhraseScanner([(WordList(name="bad", words=["!!!"]), ("!!!",))])


DISGUISES = {
    "a": ["a", "A", "ａ", "а", "α"],
    "e": ["e", "E", "ｅ", "е", "ε"],
    "o": ["o", "O", "ｏ", "о", "ο"],
    "转": ["转", "轉"],
    "账": ["账", "賬"],
    "价": ["价", "價"],
    "内": ["内", "內"],
}
INVISIBLE_OR_SPACING = ["", "", "\u200b", "\u00ad", "\ufe0f", "\u2060", " ", "-", "\u3000"]
PHRASES = ["guaranteed refund", "off the record", "私下转账", "内部价格", "wire it to my account"]


@st.composite
def disguised(draw: st.DrawFn) -> tuple[str, str]:
    phrase = draw(st.sampled_from(PHRASES))
    chars = [draw(st.sampled_from(DISGUISES.get(c, [c, c.upper()]))) for c in phrase]
    gaps = [draw(st.sampled_from(INVISIBLE_OR_SPACING)) for _ in chars]
    return phrase, "".join(c + g for c, g in zip(chars, gaps, strict=True)).rstrip(" -\u3000")


@given(disguised(), st.sampled_from(["", "hi ", "您好，", "ok\n"]))
def test_any_disguise_is_found_and_its_slice_folds_to_the_phrase(
    scanner: PhraseScanner, found: tuple[str, str], before: str
) -> None:
    phrase, text = found
    body = f"{before}{text} 谢谢"
    result = scanner.scan(body, role="chat", method="POST", url=CHAT_URL)
    assert [m.phrase for m in result.matches] == [phrase]
    match = result.matches[0]
    assert fold(body[match.start : match.end]) == fold(phrase)
    assert match.start == len(before)
