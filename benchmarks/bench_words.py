"""Forbidden words: the folding Aho-Corasick scanner against a plain `str.find` loop.

1,000 seeded phrases (half Chinese, half English) over a few MB of generated chat messages.
The naive loop does no folding at all; the scanner folds every character and still must be at
least 10x faster (the issue's target).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from homeagent.proxy.core.forbidden import PhraseScanner
from homeagent.proxy.core.forbidden.body_text import body_text
from homeagent.proxy.core.policy.words import WordList

SEED = 20260101
PHRASES = 1000
CORPUS_BYTES = 3_000_000
NAIVE_SLICE_CHARS = 300_000
"""The naive loop is timed on this much of the corpus (it would take ~10x longer on all)."""
URL = "https://chat.acme.test/messages/1"

HANZI = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说"
    "产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使"
    "点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明"
    "看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料"
    "象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指"
    "几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶"
    "油思术极交受联什认六共权收证改清美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声"
    "报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算"
    "低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除"
    "消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆"
    "包火住调满县局照参红细引听该铁价严龙飞账款退订单客服您请谢稍等查询帮助处理问题"
)
CHAT_VOCABULARY = """
    order refund delivery account payment invoice please thanks hello customer service ticket
    status update shipping address package tracking number support agent policy coupon discount
    return exchange warranty product price item cart checkout login password reset email phone
    message reply today tomorrow week help issue problem solved sorry wait minute check system
    record transfer bank card fee charge cancel confirm receipt store online offline contact
"""
OFF_LIMITS_VOCABULARY = """
    wechat private personal cash secret direct whatsapp venmo guaranteed insider bypass
    backdoor untraceable offshore bribe kickback
"""
WORDS = CHAT_VOCABULARY.split()
OFF_LIMITS = OFF_LIMITS_VOCABULARY.split()


def make_phrases(rng: random.Random) -> list[str]:
    phrases: set[str] = set()
    while len(phrases) < PHRASES:
        if len(phrases) % 2:
            phrases.add("".join(rng.choices(HANZI, k=rng.randint(3, 6))))
        else:
            # ordinary chat words around one that agents never need, as real lists are
            words = rng.choices(WORDS, k=rng.randint(1, 3))
            words.insert(rng.randint(0, len(words)), rng.choice(OFF_LIMITS))
            phrases.add(" ".join(words))
    return sorted(phrases)


def make_messages(rng: random.Random, phrases: list[str]) -> list[str]:
    """Chat messages: Chinese, English and mixed, about 1 in 200 carrying a phrase."""
    messages: list[str] = []
    size = 0
    while size < CORPUS_BYTES:
        kind = rng.random()
        if kind < 0.5:
            text = "，".join(
                "".join(rng.choices(HANZI, k=rng.randint(4, 12))) for _ in range(rng.randint(1, 4))
            )
            text += rng.choice("。？！")
        elif kind < 0.8:
            text = " ".join(rng.choices(WORDS, k=rng.randint(4, 25))).capitalize() + "."
        else:
            text = (
                "".join(rng.choices(HANZI, k=rng.randint(3, 10)))
                + f" {rng.choice(WORDS)} #{rng.randint(10000, 99999)} "
                + "".join(rng.choices(HANZI, k=rng.randint(3, 10)))
            )
        if rng.random() < 0.005:
            text += " " + rng.choice(phrases)
        messages.append(text)
        size += len(text.encode())
    return messages


def naive_hits(text: str, phrases: list[str]) -> int:
    """The baseline the issue names: every phrase, every occurrence, `str.find`, no folding."""
    hits = 0
    for phrase in phrases:
        at = text.find(phrase)
        while at >= 0:
            hits += 1
            at = text.find(phrase, at + 1)
    return hits


def timed(work: Callable[[], int]) -> tuple[float, int]:
    best, result = float("inf"), 0
    for _ in range(3):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    rng = random.Random(SEED)
    phrases = make_phrases(rng)
    messages = make_messages(rng, phrases)
    corpus = "\n".join(messages)
    corpus_mb = len(corpus.encode()) / 1e6
    scanner = PhraseScanner(
        [(WordList(name="bench", url="https://chat.acme.test/messages/**"), phrases)]
    )
    every_list = frozenset({0})
    print(f"{len(phrases)} phrases, {len(messages)} messages, {corpus_mb:.2f} MB of chat text")

    # one big text: the folding scanner vs the naive loop (on a slice, scaled by size)
    scan_s, scan_hits = timed(lambda: len(scanner.find(body_text(corpus, None), every_list)))
    naive_slice = corpus[:NAIVE_SLICE_CHARS]
    slice_mb = len(naive_slice.encode()) / 1e6
    naive_s, _ = timed(lambda: naive_hits(naive_slice, phrases))
    naive_all_hits = naive_hits(corpus, phrases)
    scan_rate, naive_rate = corpus_mb / scan_s, slice_mb / naive_s
    print(f"one text   scanner (fold + automaton): {scan_rate:8.1f} MB/s  ({scan_hits} matches)")
    print(
        f"one text   str.find loop, no folding:  {naive_rate:8.1f} MB/s  "
        f"(timed on the first {slice_mb:.2f} MB; {naive_all_hits} hits over all)"
    )
    print(f"one text   ratio: {scan_rate / naive_rate:.1f}x  (target >= 10x)")

    # message by message, as the gateway sees request bodies: full scan() with URL and scoping
    bodies = [m.encode() for m in messages]
    sample = messages[: len(messages) // 10]
    sample_mb = sum(len(m.encode()) for m in sample) / 1e6

    def scan_each() -> int:
        return sum(
            len(
                scanner.scan(
                    b, role="chat", method="POST", url=URL, content_type="text/plain"
                ).matches
            )
            for b in bodies
        )

    def naive_each() -> int:
        return sum(naive_hits(m, phrases) for m in sample)

    each_s, each_hits = timed(scan_each)
    naive_each_s, _ = timed(naive_each)
    each_rate, naive_each_rate = corpus_mb / each_s, sample_mb / naive_each_s
    print(
        f"per message scanner.scan(bytes, ...):  {each_rate:8.1f} MB/s  "
        f"({len(bodies) / each_s:,.0f} messages/s, {each_hits} matches)"
    )
    print(
        f"per message str.find loop:             {naive_each_rate:8.1f} MB/s  "
        f"(timed on the first {len(sample)} messages)"
    )
    print(f"per message ratio: {each_rate / naive_each_rate:.1f}x  (target >= 10x)")


if __name__ == "__main__":
    main()
