"""`homeagent-proxy report attendance | status | security` end to end: a real store (SQLite
and PostgreSQL) filled through the store's own API, read back through the command line."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from homeagent.proxy.cli import main
from homeagent.proxy.store import Store

from .store_fixtures import raw_public

DAY = "2026-12-03"  # in Asia/Shanghai: 2026-12-02T16:00Z to 2026-12-03T16:00Z
ZONE = ("--tz", "Asia/Shanghai")
HOURS_POLICY = """\
version: 1
notice: {zh: 请保密, en: Keep it confidential}
roles:
  inbound:
    hours: {start: "09:00", end: "18:00", timezone: Asia/Shanghai}
  chat: {}
"""


def utc(hh_mm: str, day: int = 3) -> dt.datetime:
    hour, minute = map(int, hh_mm.split(":"))
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=dt.UTC)


def clock_in(store: Store, agent: str, role: str, when: dt.datetime) -> str:
    code = store.add_agent(agent, role, now=when - dt.timedelta(hours=1))
    device = store.enrol(code.code, raw_public(Ed25519PrivateKey.generate()), now=when)
    return store.start_session(agent, device.device.fingerprint, now=when).id


@pytest.fixture
def floor(store: Store, db_url: str) -> str:
    """A day on the floor, times in UTC (Shanghai is +8):
    A1001 (inbound) 00:58–09:00, ready, a 30-minute call, 10 minutes' after-call work;
    A1002 (inbound) in at 01:20 (09:20 local, late), in a meeting, never clocked out;
    A1003 (chat) a shift the day before, outside the window; A1004 (chat) superseded."""
    writer = store.audit_writer("gw-test", Ed25519PrivateKey.generate(), now=utc("00:00"))
    s1 = clock_in(store, "A1001", "inbound", utc("00:58"))
    for status, when in [("ready", "01:00"), ("busy", "02:00"), ("after_call_work", "02:30")]:
        store.record_status("A1001", s1, status, now=utc(when), audit=writer)
    store.record_status("A1001", s1, "ready", now=utc("02:40"))
    store.end_session(s1, "clock_out", now=utc("09:00"), audit=writer)

    s2 = clock_in(store, "A1002", "inbound", utc("01:20"))
    store.record_status("A1002", s2, "not_ready", "meeting", now=utc("01:25"))

    s3 = clock_in(store, "A1003", "chat", utc("02:00", day=2))
    store.end_session(s3, "clock_out", now=utc("03:00", day=2))

    s4 = clock_in(store, "A1004", "chat", utc("03:00"))
    store.record_status("A1004", s4, "ready", now=utc("03:00"))
    device = store.agent_devices("A1004")[0].fingerprint
    store.start_session("A1004", device, now=utc("04:00"))  # a second PC: the first superseded

    flow: dict[str, Any] = {"decision": "allow", "rule": None, "would_block": [], "method": "GET"}
    flows: list[tuple[dict[str, Any], str]] = [
        ({"agent": "A1001", "decision": "deny", "rule": "crm-export", "reference": "R1"}, "03:00"),
        ({"agent": "A1001", "decision": "deny", "rule": "crm-export", "reference": "R2"}, "04:00"),
        ({"agent": "A1002", "would_block": ["after-hours"], "reference": "R3"}, "05:00"),
        ({"agent": "A1002", "reference": "R4"}, "05:30"),  # allowed, nothing to report
        ({"agent": "A1002", "decision": "deny", "rule": "bulk", "reference": "R5"}, "20:00"),
    ]
    for data, when in flows:
        writer.append("flow", {**flow, **data}, now=utc(when))
    return db_url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_attendance_lists_each_shift_of_the_day_with_late_and_open_marked(
    floor: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = dt.datetime.now(dt.UTC)
    status, out, _ = run(
        capsys, "report", "attendance", "--from", DAY, "--to", DAY, *ZONE,
        "--shift-start", "09:00", "--db", floor,
    )  # fmt: skip
    after = dt.datetime.now(dt.UTC)
    assert status == 0
    rows = csv_rows(out)
    got = [(r["agent"], r["clock_in"], r["clock_out"], r["state"], r["late"]) for r in rows]
    assert got == [
        ("A1001", "2026-12-03T08:58:00+08:00", "2026-12-03T17:00:00+08:00", "closed", "false"),
        ("A1002", "2026-12-03T09:20:00+08:00", "", "open", "true"),
        ("A1004", "2026-12-03T11:00:00+08:00", "2026-12-03T12:00:00+08:00", "superseded", "true"),
        ("A1004", "2026-12-03T12:00:00+08:00", "", "open", "true"),
    ]
    assert rows[0]["length"] == str(8 * 3600 + 2 * 60) and rows[0]["late_by"] == "0"
    assert rows[1]["late_by"] == str(20 * 60)
    # An open shift counts up to now.
    length = dt.timedelta(seconds=int(rows[1]["length"]))
    assert before - utc("01:20") - dt.timedelta(seconds=1) <= length <= after - utc("01:20")


def test_attendance_table_marks_open_and_late_and_names_the_zone(
    floor: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = tmp_path / "hours.yaml"
    policy.write_text(HOURS_POLICY, encoding="utf-8")
    status, out, _ = run(
        capsys, "report", "attendance", "--from", DAY, "--to", DAY, *ZONE,
        "--policy", str(policy), "--format", "table", "--db", floor,
    )  # fmt: skip
    assert status == 0
    lines = out.splitlines()
    assert lines[0].startswith("Attendance") and "(Asia/Shanghai, UTC+08:00)" in lines[0]
    assert lines[0].endswith("2026-12-03 00:00 → 2026-12-04 00:00 (Asia/Shanghai, UTC+08:00), "
                             "end exclusive")  # fmt: skip
    by_agent = {line.split()[0]: line for line in lines[2:]}
    assert "8:02:00" in by_agent["A1001"] and "LATE" not in by_agent["A1001"]
    assert "OPEN: still clocked in; LATE by 0:20:00" in by_agent["A1002"]
    # chat has no hours in the policy: superseded is marked, late is not.
    a1004 = [line for line in lines if line.startswith("A1004")]
    assert "ended by the gateway: superseded" in a1004[0] and "LATE" not in a1004[0]


def test_status_time_per_agent_clipped_to_the_window(
    floor: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(
        capsys, "report", "status", "--from", DAY, "--to", DAY, *ZONE, "--format", "json",
        "--db", floor,
    )  # fmt: skip
    assert status == 0
    report = json.loads(out)
    assert report["from"] == "2026-12-03T00:00:00+08:00"
    assert report["to"] == "2026-12-04T00:00:00+08:00" and report["to_exclusive"] is True
    rows = {row["agent"]: row for row in report["rows"]}
    assert set(rows) == {"A1001", "A1002", "A1004"}
    minute = 60
    assert rows["A1001"] == {
        "agent": "A1001",
        "on_shift": 482 * minute,  # the same 8:02 as attendance
        "ready": 440 * minute,
        "busy": 30 * minute,
        "after_call_work": 10 * minute,
        "not_ready": 0,
        "break": 0,
        "no_status": 2 * minute,
        "still_on": False,
        "reasons": {},
    }
    # Still in the meeting: counted to the window's end (16:00Z), which is before now.
    assert rows["A1002"]["not_ready"] == (14 * 60 + 35) * minute
    assert rows["A1002"]["reasons"] == {"not_ready:meeting": (14 * 60 + 35) * minute}
    assert rows["A1002"]["still_on"] is True
    # Superseded at 04:00: an hour ready, then the new session has no status yet to 16:00.
    assert (rows["A1004"]["ready"], rows["A1004"]["no_status"]) == (60 * minute, 720 * minute)


def test_a_datetime_window_cuts_statuses_at_its_edges(
    floor: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(
        capsys, "report", "status", "--from", "2026-12-03T10:30", "--to", "2026-12-03T10:45",
        *ZONE, "--db", floor,
    )  # fmt: skip
    assert status == 0
    rows = {row["agent"]: row for row in csv_rows(out)}
    # 02:30–02:45Z: A1001 ten minutes' after-call work then five ready.
    assert (rows["A1001"]["after_call_work"], rows["A1001"]["ready"]) == ("600", "300")
    assert rows["A1002"]["reasons"] == "not_ready:meeting=900"


def test_security_counts_blocked_and_would_block_in_the_window(
    floor: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "security.csv"
    status, _, err = run(
        capsys, "report", "security", "--from", DAY, "--to", DAY, *ZONE, "--output",
        str(target), "--db", floor,
    )  # fmt: skip
    assert status == 0 and f"2 rows written to {target}" in err
    rows = csv_rows(target.read_text(encoding="utf-8"))
    got = [(r["agent"], r["rule"], r["outcome"], r["count"], r["example"]) for r in rows]
    # 20:00Z is 04:00 the next day in Shanghai: outside.
    assert got == [
        ("A1001", "crm-export", "blocked", "2", "R2"),
        ("A1002", "after-hours", "would_block", "1", "R3"),
    ]
    assert rows[0]["first"] == "2026-12-03T11:00:00+08:00"
    assert rows[0]["last"] == "2026-12-03T12:00:00+08:00"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--from", "2026-12-04", "--to", "2026-12-03"), "must be before --to"),
        (("--from", "monday", "--to", "2026-12-03"), "'monday' is not a DATE or DATETIME"),
        (("--from", DAY, "--to", DAY, "--tz", "Mars/Olympus"), "unknown time zone"),
    ],
)
def test_a_bad_window_is_refused_plainly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    status, out, err = run(capsys, "report", "status", *argv, "--data-dir", str(tmp_path))
    assert status == 1 and out == "" and message in err
