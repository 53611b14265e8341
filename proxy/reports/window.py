"""The time window a report covers and the zone its dates are read and shown in: `--from` and
`--to` as DATE or DATETIME, DATE meaning local midnight and `--to DATE` taking that whole day."""

from __future__ import annotations

import datetime as dt
import os
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

LOCALTIME = Path("/etc/localtime")


@dataclass(frozen=True, slots=True)
class ReportWindow:
    since: dt.datetime
    """Inclusive, UTC."""
    until: dt.datetime
    """Exclusive, UTC."""
    zone: dt.tzinfo

    def __post_init__(self) -> None:
        if self.since >= self.until:
            raise ValueError(
                f"--from ({self.since.isoformat()}) must be before --to ({self.until.isoformat()})"
            )

    def describe(self) -> str:
        """`2026-12-01 00:00 → 2026-12-08 00:00 (Asia/Shanghai, UTC+08:00), end exclusive`."""
        start, end = self.since.astimezone(self.zone), self.until.astimezone(self.zone)
        return (
            f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} "
            f"({zone_label(self.zone, self.since)}), end exclusive"
        )


def report_zone(name: str | None = None) -> dt.tzinfo:
    """The zone named (IANA, e.g. Asia/Shanghai), else the gateway machine's own: $TZ, then
    /etc/localtime, then UTC. Raises ValueError for an unknown name."""
    if name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r} (e.g. Asia/Shanghai, UTC)") from None
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz:
        try:
            return zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    try:
        # /etc/localtime links into the zoneinfo tree: its tail is the zone's name.
        target = LOCALTIME.resolve().as_posix()
        if "/zoneinfo/" in target:
            return zoneinfo.ZoneInfo(target.split("/zoneinfo/", 1)[1])
    except (OSError, zoneinfo.ZoneInfoNotFoundError, ValueError):
        pass
    return dt.UTC


def zone_label(zone: dt.tzinfo, at: dt.datetime) -> str:
    """`Asia/Shanghai, UTC+08:00`: the name and the offset in force at `at`."""
    digits = at.astimezone(zone).strftime("%z")
    offset = f"UTC{digits[:3]}:{digits[3:]}"
    name = getattr(zone, "key", None) or zone.tzname(at) or ""
    # A fixed offset's name is the offset itself (or just "UTC"): once is enough.
    return offset if name in ("", "UTC", offset) else f"{name}, {offset}"


def parse_bound(text: str, zone: dt.tzinfo, *, end: bool) -> dt.datetime:
    """A DATE (`2026-12-03`) or DATETIME (`2026-12-03T08:30`, `2026-12-03 08:30+08:00`).
    Without an offset it is a time in `zone`. A DATE as the end (`end=True`) means the end of
    that day, so `--from 2026-12-03 --to 2026-12-03` is that whole day. Returned in UTC:
    Python subtracts two times of one zone by their wall clocks, wrong across a DST change."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            if end:
                day += dt.timedelta(days=1)
            return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a DATE or DATETIME (e.g. 2026-12-03 or 2026-12-03T08:30)"
        ) from None
    return (value if value.tzinfo is not None else value.replace(tzinfo=zone)).astimezone(dt.UTC)


def make_window(since: str, until: str, zone: dt.tzinfo) -> ReportWindow:
    return ReportWindow(
        parse_bound(since, zone, end=False), parse_bound(until, zone, end=True), zone
    )
