"""`homeagent-proxy report attendance | status | security`: the supervisor's reports over a
window of days, as a table on a terminal, or CSV or JSON for files."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import zoneinfo
from pathlib import Path
from typing import IO, Any

from ..reports.attendance import AttendanceRow, ShiftStart, attendance
from ..reports.formats import FORMATS, Report, clock, write_report
from ..reports.security import security_events
from ..reports.status_time import NO_STATUS, WORKING, status_time
from ..reports.window import ReportWindow, make_window, report_zone, zone_label
from ..store.clock import utc_now
from .common import CommandError, load_or_explain
from .database import add_database_arguments, opened_store

FROM_HELP = (
    "DATE (2026-12-03: its midnight) or DATETIME (2026-12-03T08:30, offset optional), "
    "in --tz; inclusive"
)
TO_HELP = "DATE: that whole day is included; DATETIME: exclusive"


def register(commands: Any) -> None:
    report = commands.add_parser(
        "report", help="attendance, time in status and security events over a window"
    )
    sub = report.add_subparsers(dest="report_command", metavar="REPORT", required=True)
    attendance_parser = sub.add_parser(
        "attendance",
        help="each shift: clock-in, clock-out, length; open, ended by the gateway, late",
    )
    attendance_parser.add_argument(
        "--policy",
        metavar="FILE",
        help="mark late clock-ins against each role's hours.start (in the hours' time zone)",
    )
    attendance_parser.add_argument(
        "--shift-start",
        metavar="HH:MM",
        type=_time_of_day,
        help="mark clock-ins after this time (report zone) late, for every role",
    )
    attendance_parser.add_argument(
        "--grace",
        metavar="MINUTES",
        type=float,
        default=5.0,
        help="minutes after the start still on time (default 5)",
    )
    attendance_parser.set_defaults(handler=run_attendance)
    status = sub.add_parser("status", help="time in each status per agent, clipped to the window")
    status.set_defaults(handler=run_status)
    security = sub.add_parser(
        "security", help="blocked and would-block requests per agent and rule (audit log)"
    )
    security.set_defaults(handler=run_security)
    for parser in (attendance_parser, status, security):
        _window_arguments(parser)


def _window_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="since", required=True, metavar="DATE", help=FROM_HELP)
    parser.add_argument("--to", dest="until", required=True, metavar="DATE", help=TO_HELP)
    parser.add_argument(
        "--tz",
        metavar="ZONE",
        help="time zone of dates read and shown, e.g. Asia/Shanghai (default: the gateway "
        "machine's, from $TZ or /etc/localtime; UTC if it has none)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="table (default on a terminal), csv (default otherwise), json",
    )
    parser.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="write here (default stdout)"
    )
    add_database_arguments(parser)


def _time_of_day(text: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time of day (e.g. 09:00)") from None


def _window(args: argparse.Namespace) -> ReportWindow:
    try:
        window = make_window(args.since, args.until, report_zone(args.tz))
    except ValueError as err:
        raise CommandError(str(err)) from None
    if sys.stderr.isatty():
        # A month of a large floor takes a few seconds to read: say what is going on.
        print(f"Reading the store for {window.describe()}…", file=sys.stderr)
    return window


def _emit(args: argparse.Namespace, report: Report, window: ReportWindow) -> int:
    out: IO[str]
    if args.output is None:
        fmt = args.format or ("table" if sys.stdout.isatty() else "csv")
        write_report(report, sys.stdout, fmt, window.zone)
        return 0
    fmt = args.format or ("json" if args.output.suffix == ".json" else "csv")
    with args.output.open("w", encoding="utf-8", newline="") as out:
        write_report(report, out, fmt, window.zone)
    print(f"{len(report.rows)} rows written to {args.output}", file=sys.stderr)
    return 0


def _meta(window: ReportWindow, now: dt.datetime) -> dict[str, Any]:
    return {
        "from": window.since,
        "to": window.until,
        "to_exclusive": True,
        "timezone": zone_label(window.zone, window.since),
        "generated_at": now,
    }


def _heading(title: str, window: ReportWindow) -> str:
    return f"{title}, {window.describe()}"


def run_attendance(args: argparse.Namespace) -> int:
    window = _window(args)
    if not args.grace >= 0:
        raise CommandError("--grace must be zero or more minutes")
    with opened_store(args) as store:
        shifts = store.shifts_started(window.since, window.until)
        now = utc_now()
    starts = _shift_starts(args, window, {shift.role for shift in shifts})
    rows = attendance(shifts, now, starts, dt.timedelta(minutes=args.grace))
    report = Report(
        "attendance",
        (
            "agent",
            "role",
            "date",
            "clock_in",
            "clock_out",
            "length",
            "state",
            "late",
            "late_by",
            "note",
            "session",
        ),
        [_attendance_row(row, window.zone) for row in rows],
        _heading("Attendance (a shift counts on the day it began)", window),
        _meta(window, now),
        screen_only=("note",),
        file_only=("state", "late", "late_by", "session"),
    )
    return _emit(args, report, window)


def _shift_starts(
    args: argparse.Namespace, window: ReportWindow, roles: set[str]
) -> dict[str, ShiftStart]:
    if args.shift_start is not None:
        return {role: ShiftStart(args.shift_start, window.zone) for role in roles}
    if not args.policy:
        return {}
    policy_roles = load_or_explain(args.policy).policy.roles
    starts = {}
    for role in roles:
        hours = policy_roles[role].hours if role in policy_roles else None
        if hours is not None:
            starts[role] = ShiftStart(hours.start, zoneinfo.ZoneInfo(hours.timezone))
    return starts


def _attendance_row(row: AttendanceRow, zone: dt.tzinfo) -> dict[str, Any]:
    notes = []
    if row.state == "open":
        notes.append("OPEN: still clocked in")
    elif row.state != "closed":
        notes.append(f"ended by the gateway: {row.state}")
    if row.late_by:
        notes.append(f"LATE by {clock(row.late_by)}")
    return {
        "agent": row.agent,
        "role": row.role,
        "date": row.clock_in.astimezone(zone).date(),
        "clock_in": row.clock_in,
        "clock_out": row.clock_out,
        "length": row.length,
        "state": row.state,
        "late": None if row.late_by is None else row.late,
        "late_by": row.late_by,
        "note": "; ".join(notes),
        "session": row.session,
    }


def run_status(args: argparse.Namespace) -> int:
    window = _window(args)
    with opened_store(args) as store:
        changes = store.status_changes(window.since, window.until)
        now = utc_now()
    rows = status_time(changes, window.since, window.until, now)
    names = [NO_STATUS if status is None else status.value for status in [*WORKING, None]]
    report = Report(
        "status",
        ("agent", "on_shift", *names, "still_on", "reasons"),
        [
            {
                "agent": row.agent,
                "on_shift": row.on_shift,
                **{
                    NO_STATUS if status is None else status.value: span
                    for status, span in row.time_in.items()
                },
                "still_on": row.still_on,
                "reasons": row.reasons,
            }
            for row in rows
        ],
        _heading("Time in status (clipped to the window; a current status counts to now)", window),
        _meta(window, now),
        file_only=("reasons",),
    )
    return _emit(args, report, window)


def run_security(args: argparse.Namespace) -> int:
    window = _window(args)
    with opened_store(args) as store:
        rows = security_events(store.security_flows(window.since, window.until))
        now = utc_now()
    report = Report(
        "security",
        ("agent", "rule", "outcome", "count", "first", "last", "example"),
        [
            {
                "agent": row.agent,
                "rule": row.rule,
                "outcome": row.outcome,
                "count": row.count,
                "first": row.first,
                "last": row.last,
                "example": row.example,
            }
            for row in rows
        ],
        _heading("Blocked and would-block requests (audit log)", window),
        _meta(window, now),
    )
    return _emit(args, report, window)
