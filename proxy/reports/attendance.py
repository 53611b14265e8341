"""Attendance: one row per shift (clock-in to clock-out) with its length, the shift still open
or ended by the gateway rather than by the agent, and a late clock-in against the role's start."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

CLOCK_OUT = "clock_out"


@dataclass(frozen=True, slots=True)
class ShiftRecord:
    """A session as the store keeps it."""

    agent: str
    role: str
    session: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    end_reason: str | None


@dataclass(frozen=True, slots=True)
class ShiftStart:
    """When a role's shift is due to begin, in the zone its hours are written in."""

    start: dt.time
    zone: dt.tzinfo

    def due(self, clock_in: dt.datetime) -> dt.datetime:
        """The start `clock_in` is for: the nearest one, on its local day or the day before or
        after. A night shift due at 22:00 and joined at 00:30 is 2.5 h late, not early; a day
        shift due at 08:00 and joined at 23:00 is tomorrow's, early."""
        day = clock_in.astimezone(self.zone).date()
        starts = [
            dt.datetime.combine(day + dt.timedelta(days=shift), self.start, self.zone)
            for shift in (-1, 0, 1)
        ]
        # the earlier of two equally near starts: late rather than early, so none is missed
        return min(starts, key=lambda start: (abs(clock_in - start), start))


@dataclass(frozen=True, slots=True)
class AttendanceRow:
    agent: str
    role: str
    session: str
    clock_in: dt.datetime
    clock_out: dt.datetime | None
    length: dt.timedelta
    """Clock-in to clock-out; an open shift counts up to the report's `now`."""
    state: str
    """`closed` (the agent clocked out), `open` (still on shift) or the reason the gateway
    ended it (`superseded`, `posture_expired`, `disabled`…)."""
    late_by: dt.timedelta | None
    """How late past the due start and grace; zero when on time; None when no start is known."""

    @property
    def late(self) -> bool:
        return bool(self.late_by)


def attendance(
    shifts: Iterable[ShiftRecord],
    now: dt.datetime,
    starts: Mapping[str, ShiftStart] | None = None,
    grace: dt.timedelta = dt.timedelta(minutes=5),
) -> list[AttendanceRow]:
    """Rows by agent then clock-in. `starts` gives each role's due start (a role missing from it
    gets no late mark); a clock-in up to `grace` after the start is on time, and one before the
    start it is nearest is early, never late."""
    rows = []
    for shift in shifts:
        end = shift.ended_at if shift.ended_at is not None else now
        if shift.ended_at is None:
            state = "open"
        elif shift.end_reason in (None, CLOCK_OUT):
            state = "closed"
        else:
            state = shift.end_reason
        start = (starts or {}).get(shift.role)
        late_by = None
        if start is not None:
            # Late by the whole gap once past the grace, not by the part beyond it.
            gap = shift.started_at - start.due(shift.started_at)
            late_by = gap if gap > grace else dt.timedelta()
        rows.append(
            AttendanceRow(
                shift.agent,
                shift.role,
                shift.session,
                shift.started_at,
                shift.ended_at,
                max(end - shift.started_at, dt.timedelta()),
                state,
                late_by,
            )
        )
    rows.sort(key=lambda row: (row.agent, row.clock_in, row.session))
    return rows
