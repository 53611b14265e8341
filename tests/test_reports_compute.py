"""The supervisor's reports as pure computations, on small inputs whose answers were worked
out by hand: windows and zones, attendance, time in status, security events, the floor."""

from __future__ import annotations

import datetime as dt
import io
import json
import zoneinfo

import pytest

from homeagent.proxy.core.agent_status import AgentStatus
from homeagent.proxy.reports.attendance import ShiftRecord, ShiftStart, attendance
from homeagent.proxy.reports.floor import OnShift, floor_rows, head_count
from homeagent.proxy.reports.formats import Report, clock, render_table, write_report
from homeagent.proxy.reports.security import NO_AGENT, security_events
from homeagent.proxy.reports.status_time import StatusChange, status_time
from homeagent.proxy.reports.window import make_window, parse_bound, report_zone, zone_label

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
MIN = dt.timedelta(minutes=1)


def at(hh_mm: str, day: int = 3) -> dt.datetime:
    """A time on 2026-12-`day` in UTC."""
    hour, minute = map(int, hh_mm.split(":"))
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=dt.UTC)


# --- the window ---------------------------------------------------------------------------------


def test_a_date_starts_at_local_midnight_and_the_to_date_takes_its_whole_day() -> None:
    window = make_window("2026-12-03", "2026-12-03", SHANGHAI)
    assert window.since == dt.datetime(2026, 12, 2, 16, 0, tzinfo=dt.UTC)
    assert window.until == dt.datetime(2026, 12, 3, 16, 0, tzinfo=dt.UTC)
    assert window.describe() == (
        "2026-12-03 00:00 → 2026-12-04 00:00 (Asia/Shanghai, UTC+08:00), end exclusive"
    )


def test_a_datetime_without_offset_is_in_the_zone_and_one_with_an_offset_keeps_it() -> None:
    assert parse_bound("2026-12-03T08:30", SHANGHAI, end=True) == at("00:30")
    assert parse_bound("2026-12-03 08:30+00:00", SHANGHAI, end=False) == at("08:30")
    assert parse_bound("2026-12-03T08:30Z", SHANGHAI, end=True) == at("08:30")


def test_the_day_daylight_saving_ends_has_25_hours() -> None:
    window = make_window("2026-11-01", "2026-11-01", NEW_YORK)
    assert window.until - window.since == dt.timedelta(hours=25)
    assert zone_label(NEW_YORK, window.since) == "America/New_York, UTC-04:00"
    assert zone_label(NEW_YORK, window.until) == "America/New_York, UTC-05:00"


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("2026-12-04", "2026-12-03", "must be before"),
        ("2026-12-03T10:00", "2026-12-03T10:00", "must be before"),
        ("yesterday", "2026-12-03", "not a DATE or DATETIME"),
        ("2026-13-01", "2026-12-03", "not a DATE or DATETIME"),
    ],
)
def test_a_bad_window_is_refused_with_the_reason(since: str, until: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_window(since, until, SHANGHAI)


def test_a_zone_is_named_or_taken_from_tz(monkeypatch: pytest.MonkeyPatch) -> None:
    assert report_zone("Asia/Shanghai") == SHANGHAI
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        report_zone("Mars/Olympus")
    monkeypatch.setenv("TZ", "America/New_York")
    assert report_zone() == NEW_YORK


# --- attendance ---------------------------------------------------------------------------------


def test_attendance_marks_late_open_and_gateway_ended_shifts() -> None:
    nine = ShiftStart(dt.time(9, 0), SHANGHAI)  # 01:00 UTC
    shifts = [
        ShiftRecord("A2", "inbound", "s3", at("01:04"), at("09:00"), "clock_out"),
        ShiftRecord("A1", "inbound", "s2", at("01:12", 4), None, None),
        ShiftRecord("A1", "inbound", "s1", at("00:58"), at("09:28"), "clock_out"),
        ShiftRecord("A3", "outbound", "s4", at("03:00"), at("05:15"), "superseded"),
        ShiftRecord("A4", "inbound", "s5", at("00:30"), at("01:00"), "posture_expired"),
    ]
    rows = attendance(shifts, now=at("04:42", 4), starts={"inbound": nine}, grace=5 * MIN)
    got = [(r.agent, r.session, r.length, r.state, r.late_by) for r in rows]
    assert got == [
        ("A1", "s1", dt.timedelta(hours=8, minutes=30), "closed", dt.timedelta()),
        # Open: counted up to now; 12 minutes past 09:00, past the 5 minutes' grace.
        ("A1", "s2", dt.timedelta(hours=3, minutes=30), "open", 12 * MIN),
        # 4 minutes late is within the grace.
        ("A2", "s3", dt.timedelta(hours=7, minutes=56), "closed", dt.timedelta()),
        # No start known for outbound: no late mark either way.
        ("A3", "s4", dt.timedelta(hours=2, minutes=15), "superseded", None),
        # 08:30 local: early, never late.
        ("A4", "s5", 30 * MIN, "posture_expired", dt.timedelta()),
    ]
    assert [r.late for r in rows] == [False, True, False, False, False]


def test_a_shift_start_in_another_zone_is_due_on_that_zones_day() -> None:
    # 09:00 in Shanghai is 01:00 UTC; a clock-in at 23:30 UTC is 07:30 the next Shanghai day.
    start = ShiftStart(dt.time(9, 0), SHANGHAI)
    assert start.due(at("23:30")) == at("01:00", 4)


def test_a_night_shift_joined_after_midnight_is_late_and_an_evening_clock_in_is_early() -> None:
    ten_pm = ShiftStart(dt.time(22, 0), SHANGHAI)  # 14:00 UTC
    # 00:30 local the next day: for the 22:00 shift of the day before, 2.5 hours late
    assert ten_pm.due(at("16:30")) == at("14:00")
    eight = ShiftStart(dt.time(8, 0), SHANGHAI)  # 00:00 UTC
    # 23:00 local: early for tomorrow's 08:00, not 15 hours late for today's
    assert eight.due(at("15:00")) == at("00:00", 4)
    shifts = [
        ShiftRecord("N1", "night", "n1", at("16:30"), None, None),
        ShiftRecord("N2", "night", "n2", at("13:50"), None, None),
        ShiftRecord("D1", "day", "d1", at("15:00"), None, None),
    ]
    rows = attendance(shifts, now=at("18:00"), starts={"night": ten_pm, "day": eight})
    assert [(r.agent, r.late_by) for r in rows] == [
        ("D1", dt.timedelta()),
        ("N1", dt.timedelta(hours=2, minutes=30)),
        ("N2", dt.timedelta()),  # ten minutes early
    ]


# --- time in status ---------------------------------------------------------------------------


def change(agent: str, status: str | None, hh_mm: str, reason: str | None = None) -> StatusChange:
    return StatusChange(agent, AgentStatus(status) if status else None, reason, at(hh_mm))


def test_status_time_clips_to_the_window_and_counts_the_current_status_to_now() -> None:
    changes = [
        # A: clocked in and ready before the window opens at 08:00, clocked out at 09:00.
        change("A", None, "07:45"),
        change("A", "ready", "07:50"),
        change("A", "busy", "08:10"),
        change("A", "after_call_work", "08:20"),
        change("A", "ready", "08:25"),
        change("A", "not_ready", "08:30", "meeting"),
        change("A", "offline", "09:00", "clock_out"),
        # B: clocks in at 09:30 and is still on at now (09:50), before the window's end.
        change("B", None, "09:30"),
        change("B", "ready", "09:40"),
        # C: clocked out before the window: not in the report.
        change("C", "offline", "07:00", "clock_out"),
        # D: a session superseded at 08:00 by a new clock-in at the same instant (given in the
        # wrong order: the offline of the old session comes first).
        change("D", None, "08:00"),
        change("D", "offline", "08:00", "superseded"),
        change("D", "break", "08:05", "lunch"),
    ]
    rows = status_time(changes, at("08:00"), at("10:00"), now=at("09:50"))
    assert [row.agent for row in rows] == ["A", "B", "D"]
    a, b, d = rows
    assert a.time_in == {
        AgentStatus.READY: 15 * MIN,
        AgentStatus.BUSY: 10 * MIN,
        AgentStatus.AFTER_CALL_WORK: 5 * MIN,
        AgentStatus.NOT_READY: 30 * MIN,
        AgentStatus.BREAK: dt.timedelta(),
        None: dt.timedelta(),
    }
    assert a.on_shift == 60 * MIN and a.reasons == {"not_ready:meeting": 30 * MIN}
    assert not a.still_on
    assert (b.time_in[None], b.time_in[AgentStatus.READY], b.still_on) == (10 * MIN, 10 * MIN, True)
    assert (d.time_in[None], d.time_in[AgentStatus.BREAK]) == (5 * MIN, 105 * MIN)
    assert d.reasons == {"break:lunch": 105 * MIN} and d.still_on


def test_a_status_running_past_the_window_stops_at_its_end() -> None:
    rows = status_time([change("A", "busy", "07:00")], at("08:00"), at("09:00"), now=at("12:00"))
    assert rows[0].time_in[AgentStatus.BUSY] == 60 * MIN and rows[0].still_on


# --- security events --------------------------------------------------------------------------


def flow(when: str, **data: object) -> dict[str, object]:
    return {
        "instance": "gw1",
        "seq": 1,
        "at": f"2026-12-03T{when}:00.000000Z",
        "kind": "flow",
        "data": {"would_block": [], "decision": "allow", "rule": None, **data},
    }


def test_security_counts_blocked_and_would_block_per_agent_and_rule() -> None:
    records: list[dict[str, object]] = [
        flow("08:00", agent="A1", decision="deny", rule="crm-export", reference="R1"),
        flow("09:00", agent="A1", decision="deny", rule="crm-export", reference="R2"),
        flow("08:30", agent="A1", would_block=["after-hours"], reference="R3"),
        flow(
            "08:40",
            agent="A2",
            decision="deny",
            rule="bulk",
            would_block=["after-hours"],
            reference="R4",
        ),
        flow("08:50", agent=None, decision="deny", rule="gate", code="not-authenticated"),
        flow("08:55", agent="A1", reference="R5"),  # allowed, nothing would block
        {"kind": "status", "at": "2026-12-03T08:00:00Z", "data": {"agent": "A1"}},
        {"kind": "flow", "at": "2026-12-03T08:00:00Z", "data": "{damaged"},
    ]
    got = [
        (r.agent, r.rule, r.outcome, r.count, r.first.hour, r.last.hour, r.example)
        for r in security_events(records)
    ]
    assert got == [
        (NO_AGENT, "gate", "blocked", 1, 8, 8, ""),
        ("A1", "after-hours", "would_block", 1, 8, 8, "R3"),
        ("A1", "crm-export", "blocked", 2, 8, 9, "R2"),
        ("A2", "after-hours", "would_block", 1, 8, 8, "R4"),
        ("A2", "bulk", "blocked", 1, 8, 8, "R4"),
    ]


# --- the floor ----------------------------------------------------------------------------------


def test_the_floor_sorts_by_status_then_longest_and_counts_heads() -> None:
    now = at("10:00")
    on = [
        OnShift("A1", "inbound", at("08:00"), AgentStatus.BREAK, "lunch", at("09:50"), None),
        OnShift("A2", "inbound", at("08:00"), AgentStatus.READY, None, at("09:59"), at("09:59")),
        OnShift("A3", "chat", at("09:00"), AgentStatus.BREAK, None, at("09:30"), None),
        OnShift("A4", "chat", at("09:58"), None, None, at("09:58"), None),
    ]
    rows = floor_rows(on, now)
    assert [(r.agent, r.in_status, r.on_shift) for r in rows] == [
        ("A2", 1 * MIN, 120 * MIN),
        ("A3", 30 * MIN, 60 * MIN),
        ("A1", 10 * MIN, 120 * MIN),
        ("A4", 2 * MIN, 2 * MIN),
    ]
    counts = head_count(rows)
    assert counts[AgentStatus.READY] == 1 and counts[AgentStatus.BREAK] == 2
    assert counts[None] == 1 and counts[AgentStatus.BUSY] == 0


# --- formats ------------------------------------------------------------------------------------


def test_durations_read_as_hours_minutes_seconds() -> None:
    assert clock(dt.timedelta(hours=30, seconds=61)) == "30:01:01"
    assert clock(dt.timedelta(seconds=59.9)) == "0:00:59"


def sample() -> Report:
    return Report(
        "sample",
        ("agent", "since", "length", "late", "note", "reasons"),
        [
            {
                "agent": "A1",
                "since": at("01:00"),
                "length": 90 * MIN,
                "late": True,
                "note": "LATE",
                "reasons": {"break:lunch": 30 * MIN},
            }
        ],
        "Sample",
        {"from": at("00:00")},
        screen_only=("note",),
        file_only=("reasons",),
    )


def test_files_get_local_iso_times_and_whole_seconds_the_screen_gets_clock_times() -> None:
    out = io.StringIO()
    write_report(sample(), out, "csv", SHANGHAI)
    assert out.getvalue().splitlines() == [
        "agent,since,length,late,reasons",
        "A1,2026-12-03T09:00:00+08:00,5400,true,break:lunch=1800",
    ]
    out = io.StringIO()
    write_report(sample(), out, "json", SHANGHAI)
    assert json.loads(out.getvalue()) == {
        "report": "sample",
        "from": "2026-12-03T08:00:00+08:00",
        "rows": [
            {
                "agent": "A1",
                "since": "2026-12-03T09:00:00+08:00",
                "length": 5400,
                "late": True,
                "reasons": {"break:lunch": 1800},
            }
        ],
    }
    assert render_table(sample(), SHANGHAI).splitlines() == [
        "Sample",
        "AGENT  SINCE             LENGTH   LATE  NOTE",
        "A1     2026-12-03 09:00  1:30:00  yes   LATE",
    ]


def test_a_fixed_offset_zone_is_named_once() -> None:
    assert zone_label(dt.timezone(dt.timedelta(hours=8)), at("00:00")) == "UTC+08:00"
    assert zone_label(dt.UTC, at("00:00")) == "UTC+00:00"
