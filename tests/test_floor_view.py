"""The floor manager's live view on a real store (SQLite and PostgreSQL): head count and table,
refreshing by itself, CSV export, Chinese on `l`, a failed read shown while the last table
stays; `agents watch --once` for scripts; and what the screen looks like."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from homeagent.proxy.cli import main
from homeagent.proxy.core.agent_status import AgentStatus
from homeagent.proxy.reports.floor import OnShift
from homeagent.proxy.store import Store
from homeagent.proxy.store.engine import sqlite_url
from homeagent.proxy.watch.floor_app import FloorApp, FloorConfig, make_floor_app

from .store_fixtures import raw_public
from .ui_pilot import run_bounded, shown, wait_for

SnapCompare = Callable[..., bool]
T0 = dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.UTC)
NOW = T0 + dt.timedelta(hours=2)
SIZE = (100, 24)


def clock_in(store: Store, agent: str, role: str, when: dt.datetime) -> str:
    code = store.add_agent(agent, role, now=when)
    device = store.enrol(code.code, raw_public(Ed25519PrivateKey.generate()), now=when)
    return store.start_session(agent, device.device.fingerprint, now=when).id


def fill(store: Store) -> dict[str, str]:
    """A1 ready since 01:10, A2 on a lunch break since 02:30, A3 just in (no status yet),
    A4 clocked out: not on the floor. NOW is 03:00."""
    sessions = {}
    sessions["A1"] = clock_in(store, "A1", "inbound", T0)
    store.record_status("A1", sessions["A1"], "ready", now=T0 + dt.timedelta(minutes=10))
    store.heartbeat(sessions["A1"], now=NOW - dt.timedelta(seconds=30))
    sessions["A2"] = clock_in(store, "A2", "inbound", T0)
    store.record_status("A2", sessions["A2"], "ready", now=T0)
    store.record_status("A2", sessions["A2"], "break", "lunch", now=NOW - dt.timedelta(minutes=30))
    sessions["A3"] = clock_in(store, "A3", "chat", NOW - dt.timedelta(minutes=2))
    a4 = clock_in(store, "A4", "chat", T0)
    store.end_session(a4, "clock_out", now=T0 + dt.timedelta(minutes=30))
    return sessions


def floor_app(
    read: Callable[[], list[OnShift]],
    *,
    lang: str = "en",
    interval: float = 5.0,
    export: Path | None = None,
) -> FloorApp:
    """The view as the command builds it, on UTC+8 and a clock stopped at NOW."""
    zone = dt.timezone(dt.timedelta(hours=8))
    return make_floor_app(FloorConfig(read, zone, lang, interval, export, clock=lambda: NOW))


def table_rows(app: FloorApp) -> list[list[str]]:
    table = app.query_one("#floor", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def test_the_floor_view_refreshes_exports_and_speaks_chinese(store: Store, tmp_path: Path) -> None:
    sessions = fill(store)
    export = tmp_path / "floor.csv"
    app = floor_app(store.on_shift, interval=0.2, export=export)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.reads >= 1)
            counts = shown(app.query_one("#counts", Static))
            assert counts == (
                "On shift 3 · Ready 1 · Busy 0 · After-call 0 · Not ready 0 · Break 1 · "
                "No status yet 1"
            )
            assert table_rows(app) == [
                ["A1", "inbound", "Ready", "", "1:50:00", "2:00:00", "09:00", "10:59:30"],
                ["A2", "inbound", "Break", "lunch", "0:30:00", "2:00:00", "09:00", "-"],
                ["A3", "chat", "No status yet", "", "0:02:00", "0:02:00", "10:58", "-"],
            ]
            assert "Updated 11:00:00 (UTC+08:00" in shown(app.query_one("#state", Static))

            # A change in the store shows without a key press.
            store.record_status("A1", sessions["A1"], "busy", now=NOW)
            await wait_for(pilot, lambda: table_rows(app)[0][2] == "Busy")
            assert "Ready 0 · Busy 1" in shown(app.query_one("#counts", Static))

            await pilot.press("e")
            await wait_for(pilot, lambda: app.exported == export)
            rows = list(csv.DictReader(io.StringIO(export.read_text(encoding="utf-8"))))
            assert [(r["agent"], r["status"], r["in_status"]) for r in rows] == [
                ("A1", "busy", "0"),
                ("A2", "break", "1800"),
                ("A3", "no_status", "120"),
            ]
            assert rows[0]["clocked_in"] == "2026-12-03T09:00:00+08:00"

            await pilot.press("l")
            await wait_for(pilot, lambda: shown(app.query_one("#title", Static)) == "在线坐席")
            assert shown(app.query_one("#counts", Static)).startswith("在班 3 · 就绪 0 · 通话中 1")
            assert table_rows(app)[1][2] == "休息"

    run_bounded(scenario())


def test_a_failed_read_is_shown_and_the_last_table_stays(tmp_path: Path) -> None:
    db = tmp_path / "homeagent.db"
    with Store.open(sqlite_url(db)) as store:
        fill(store)
        app = floor_app(store.on_shift, interval=0.2)

        async def scenario() -> None:
            async with app.run_test(size=SIZE) as pilot:
                await wait_for(pilot, lambda: app.reads >= 1)
                store.engine.dispose()
                db.write_bytes(b"this is not a database" * 200)  # the file damaged underneath
                await wait_for(pilot, lambda: bool(app.problem))
                state = app.query_one("#state", Static)
                assert shown(state).startswith("Cannot read the store: ")
                assert state.has_class("problem")
                assert [row[0] for row in table_rows(app)] == ["A1", "A2", "A3"]

        run_bounded(scenario())


def test_watch_once_prints_the_floor_for_scripts(
    store: Store, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(store)
    status = main(["agents", "watch", "--once", "--format", "csv", "--db", db_url])
    out = capsys.readouterr().out
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["agent"], r["status"], r["reason"]) for r in rows] == [
        ("A1", "ready", ""),
        ("A2", "break", "lunch"),
        ("A3", "no_status", ""),
    ]


def test_watch_without_a_terminal_points_to_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["agents", "watch", "--data-dir", str(tmp_path)]) == 1
    assert "use --once" in capsys.readouterr().err


FIXED = [
    OnShift("A1001", "inbound", T0, AgentStatus.BUSY, None, NOW - dt.timedelta(minutes=4), NOW),
    OnShift("A1002", "inbound", T0, AgentStatus.READY, None, NOW - dt.timedelta(seconds=40), NOW),
    OnShift("A1003", "chat", T0, AgentStatus.NOT_READY, "training", T0, None),
    OnShift("A1004", "chat", NOW - dt.timedelta(minutes=1), None, None, NOW, None),
]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_floor_view_snapshot(snap_compare: SnapCompare, lang: str) -> None:
    app = floor_app(lambda: FIXED, lang=lang, interval=3600)

    async def loaded(pilot: Pilot[None]) -> None:
        await wait_for(pilot, lambda: app.reads >= 1)

    assert snap_compare(app, terminal_size=SIZE, run_before=loaded)


def test_the_gateway_commands_load_textual_only_for_the_live_view() -> None:
    probe = (
        "import sys; from homeagent.proxy.cli import build_parser; build_parser(); "
        "print('textual' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"
