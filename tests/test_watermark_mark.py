"""The sealed mark: round trip, tampering, validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from homeagent.proxy.core.watermark.errors import MarkFormatError
from homeagent.proxy.core.watermark.mark import (
    TAG_BYTES,
    Mark,
    new_reference,
    sign,
    unseal,
    verify,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
WHEN = datetime(2025, 5, 1, 9, 30, 15, tzinfo=UTC)

agents = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=32)
moments = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2105, 1, 1), timezones=st.just(UTC)
)
references = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), min_size=8, max_size=8)


@given(agents, moments, references)
def test_sign_then_unseal_gives_the_same_mark_and_verifies(
    agent: str, when: datetime, ref: str
) -> None:
    mark = Mark(agent, when, ref)
    sealed = unseal(sign(mark, KEY))
    assert sealed.mark == mark
    assert sealed.mark.issued_at == when.replace(microsecond=0)
    assert verify(sealed, KEY)
    assert not verify(sealed, OTHER_KEY)


def test_mark_is_compact() -> None:
    data = sign(Mark("A1023", WHEN, "ABCDEFGH"), KEY)
    assert len(data) == 1 + 5 + 4 + 5 + TAG_BYTES


def test_time_is_held_in_utc() -> None:
    shanghai = timezone(timedelta(hours=8))
    mark = Mark("A1023", datetime(2025, 5, 1, 17, 30, tzinfo=shanghai), "ABCDEFGH")
    assert mark.issued_at == datetime(2025, 5, 1, 9, 30, tzinfo=UTC)
    assert mark.issued_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize("bit", range(0, (1 + 5 + 4 + 5 + TAG_BYTES) * 8, 3))
def test_any_flipped_bit_fails_to_verify_or_to_read(bit: int) -> None:
    data = bytearray(sign(Mark("A1023", WHEN, "ABCDEFGH"), KEY))
    data[bit // 8] ^= 1 << (bit % 8)
    try:
        sealed = unseal(bytes(data))
    except MarkFormatError:
        return  # the header no longer describes a mark: not reported at all
    assert not verify(sealed, KEY)


def test_swapping_the_agent_keeps_the_tag_invalid() -> None:
    data = sign(Mark("A1023", WHEN, "ABCDEFGH"), KEY)
    forged = data.replace(b"A1023", b"A1024")
    sealed = unseal(forged)
    assert sealed.mark.agent == "A1024"
    assert not verify(sealed, KEY)


def test_a_tag_from_another_mark_does_not_carry_over() -> None:
    genuine = sign(Mark("A1023", WHEN, "ABCDEFGH"), KEY)
    other = sign(Mark("A1023", WHEN + timedelta(seconds=1), "ABCDEFGH"), KEY)
    spliced = other[:-TAG_BYTES] + genuine[-TAG_BYTES:]
    assert not verify(unseal(spliced), KEY)


@pytest.mark.parametrize(
    ("agent", "when", "reference", "message"),
    [
        ("", WHEN, "ABCDEFGH", "agent ID"),
        ("A" * 33, WHEN, "ABCDEFGH", "agent ID"),
        ("A 1023", WHEN, "ABCDEFGH", "agent ID"),
        ("坐席1", WHEN, "ABCDEFGH", "agent ID"),
        ("A1023", WHEN, "abcdefgh", "reference"),
        ("A1023", WHEN, "ABCDEFG", "reference"),
        ("A1023", WHEN, "ABCDEFG1", "reference"),
        ("A1023", datetime(2025, 5, 1), "ABCDEFGH", "timezone-aware"),
        ("A1023", datetime(2200, 1, 1, tzinfo=UTC), "ABCDEFGH", "outside"),
    ],
)
def test_bad_fields_are_refused(agent: str, when: datetime, reference: str, message: str) -> None:
    with pytest.raises(MarkFormatError, match=message):
        Mark(agent, when, reference)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (bytes([0x04]) + b"A1023" + bytes(17), "version"),
        (sign(Mark("A1023", WHEN, "ABCDEFGH"), KEY)[:-1], "expected 23"),
        (bytes([0x24]) + b"A1\xff23" + bytes(17), "ASCII"),
        (bytes([0x24]) + b"A1 23" + bytes(17), "agent ID"),
    ],
)
def test_bytes_that_are_no_mark_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(MarkFormatError, match=message):
        unseal(data)


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        sign(Mark("A1023", WHEN, "ABCDEFGH"), b"short")


def test_references_are_fresh_base32() -> None:
    refs = {new_reference() for _ in range(200)}
    assert len(refs) == 200
    assert all(Mark("A1", WHEN, ref).reference == ref for ref in refs)
