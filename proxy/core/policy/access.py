"""The `roles` and `limits` sections: who may reach what, when, and how fast."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from ..urls import parse_pattern
from .base import Method, Mode, Name, Seconds, Strict


def _valid_pattern(text: str) -> str:
    parse_pattern(text)
    return text


URLPatternText = Annotated[str, AfterValidator(_valid_pattern)]
"""`scheme://host[:port]/path-glob`; see urls.URLPattern."""


class AllowRule(Strict):
    name: Name
    url: URLPatternText
    methods: list[Method] = Field(default_factory=lambda: ["GET", "HEAD"], min_length=1)


class DenyRule(Strict):
    name: Name
    url: URLPatternText
    methods: list[Method] = Field(default_factory=lambda: ["*"], min_length=1)
    mode: Mode = Mode.ENFORCE


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


def _clock(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 08:30 as the sexagesimal number 510.
        return dt.time(value // 60, value % 60)
    return value


class Hours(Strict):
    """When the role may work; outside these hours every request is denied."""

    days: list[Weekday] = Field(default_factory=lambda: list(Weekday), min_length=1)
    start: dt.time = dt.time(0, 0)
    end: dt.time = dt.time(23, 59, 59)
    timezone: str = "Asia/Shanghai"
    mode: Mode = Mode.ENFORCE

    @field_validator("start", "end", mode="before")
    @classmethod
    def _sexagesimal(cls, value: object) -> object:
        return _clock(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai)") from err
        return value

    def open_at(self, when: dt.datetime) -> bool:
        local = when.astimezone(zoneinfo.ZoneInfo(self.timezone))
        day = list(Weekday)[local.weekday()]
        if day not in self.days:
            return False
        now = local.time().replace(tzinfo=None)
        if self.start <= self.end:
            return self.start <= now <= self.end
        return now >= self.start or now <= self.end  # a night shift across midnight


class Role(Strict):
    description: str = ""
    extends: list[Name] = Field(default_factory=list)
    """Roles whose allow and deny rules this role has too."""
    allow: list[AllowRule] = Field(default_factory=list)
    deny: list[DenyRule] = Field(default_factory=list)
    hours: Hours | None = None


class RateLimit(Strict):
    """At most `max_requests` per agent in any window of `per` seconds: stops bulk harvesting."""

    name: Name
    roles: list[Name] = Field(default_factory=list)
    """Empty: every role."""
    url: URLPatternText = "*://*:*/**"
    methods: list[Method] = Field(default_factory=lambda: ["*"], min_length=1)
    max_requests: int = Field(ge=1)
    per: Seconds
    mode: Mode = Mode.ENFORCE
