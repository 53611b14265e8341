"""Time in the store: timezone-aware UTC everywhere, from a clock the tests can replace."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime) -> dt.datetime:
    """`value` in UTC; a naive time is refused, since its zone is a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"time {value.isoformat()} has no time zone; pass an aware datetime")
    return value.astimezone(dt.UTC)


def audit_time(value: dt.datetime) -> str:
    """The fixed-width form audit records carry (`2026-12-03T10:00:00.000000Z`), so that
    comparing the strings compares the times."""
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
