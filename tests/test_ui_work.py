"""The work and activity screens on the ShiftPort Protocol: clock in through the notice, a key
for each status change (a refused one is a dialog), changes waiting offline, the timers on a
fixed clock, what the gateway blocked and masked; and before enrolment, what to do."""

from __future__ import annotations

from textual.widgets import DataTable, Digits, OptionList, Static

from homeagent.client.session.answers import StatusSnapshot
from homeagent.client.session.status_model import AgentStatus
from homeagent.client.ui.activity_screen import ActivityScreen
from homeagent.client.ui.app import HomeagentApp, UiConfig, make_app
from homeagent.client.ui.confirm_dialog import ConfirmDialog
from homeagent.client.ui.error_dialog import ErrorDialog
from homeagent.client.ui.notice_dialog import NoticeDialog
from homeagent.client.ui.reason_dialog import ReasonDialog
from homeagent.client.ui.service_shift import shift_snapshot
from homeagent.client.ui.shift_port import ActivityEntry
from homeagent.client.ui.work_screen import clock_text

from .ui_pilot import run_bounded, shown, wait_for
from .ui_shift import RulesShift

SIZE = (80, 24)
START = 1_764_748_800.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def work_app(lang: str, shift: RulesShift | None, clock: Clock) -> HomeagentApp:
    config = UiConfig(
        lang=lang,
        shift=shift,
        clock=clock,
        run_checks_at_start=False,
        first_mode="work",
        shift_poll_seconds=0.2,
    )
    return make_app(config)


def status_text(app: HomeagentApp) -> str:
    return shown(app.work_screen.query_one("#status-box", Static))


def idle(app: HomeagentApp) -> bool:
    """No call to the gateway under way and no dialog open."""
    return not app.work_screen.busy and app.screen is app.work_screen


def test_clock_in_change_status_and_clock_out() -> None:
    clock = Clock()
    shift = RulesShift(clock)

    async def scenario() -> None:
        app = work_app("en", shift, clock)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: idle(app) and app.work_screen.snapshot is not None)
            assert status_text(app) == "Clocked out"
            await pilot.press("i")
            await wait_for(pilot, lambda: isinstance(app.screen, NoticeDialog))
            assert "never pass it on" in shown(app.screen.query_one("#notice-text", Static))
            await pilot.press("enter")
            await wait_for(pilot, lambda: idle(app) and status_text(app) == "Ready")
            assert "clock_in 2026-12" in shift.calls
            clock.now += 3725  # 1 h 2 min 5 s later
            app.work_screen.show_times()
            assert app.work_screen.query_one("#status-timer", Digits).value == "01:02:05"
            shift_time = shown(app.work_screen.query_one("#shift-time", Static))
            assert shift_time == "Shift time 01:02:05"
            await pilot.press("3")
            await wait_for(pilot, lambda: idle(app) and status_text(app) == "Break")
            assert app.work_screen.query_one("#status-timer", Digits).value == "00:00:00"
            await pilot.press("2")
            await wait_for(pilot, lambda: isinstance(app.screen, ReasonDialog))
            options = app.screen.query_one(OptionList)
            assert str(options.get_option_at_index(1).prompt) == "2  Training"
            await pilot.press("2")  # training
            await wait_for(pilot, lambda: idle(app) and status_text(app) == "Not ready · Training")
            await pilot.press("o")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("escape")  # keep working: nothing is sent
            await wait_for(pilot, lambda: idle(app))
            assert "clock_out" not in shift.calls
            assert status_text(app) == "Not ready · Training"
            await pilot.press("o")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("enter")
            await wait_for(pilot, lambda: idle(app) and status_text(app) == "Clocked out")
            # the looks the app takes by itself (snapshot) may come after it
            assert [c for c in shift.calls if c != "snapshot"][-1] == "clock_out"

    run_bounded(scenario())


def test_declining_the_notice_sends_nothing() -> None:
    clock = Clock()
    shift = RulesShift(clock)

    async def scenario() -> None:
        app = work_app("zh", shift, clock)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: idle(app))
            await pilot.press("i")
            await wait_for(pilot, lambda: isinstance(app.screen, NoticeDialog))
            assert "不得外传" in shown(app.screen.query_one("#notice-text", Static))
            await pilot.press("escape")
            await wait_for(pilot, lambda: idle(app))
            assert status_text(app) == "未上班"
            assert not [c for c in shift.calls if c.startswith("clock_in")]

    run_bounded(scenario())


def test_a_refused_change_is_a_dialog_in_the_agents_language() -> None:
    clock = Clock()
    shift = RulesShift(clock)

    async def scenario() -> None:
        app = work_app("zh", shift, clock)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: idle(app))
            await pilot.press("1")  # ready while clocked out
            await wait_for(pilot, lambda: isinstance(app.screen, ErrorDialog))
            text = shown(app.screen.query_one("#error-text", Static))
            assert text == "尚未上班：请先按 i 上班打卡"
            await pilot.press("enter")
            await wait_for(pilot, lambda: idle(app))
            await pilot.press("i")
            await wait_for(pilot, lambda: isinstance(app.screen, NoticeDialog))
            await pilot.press("enter")
            await wait_for(pilot, lambda: idle(app) and status_text(app) == "就绪")
            await pilot.press("3")
            await wait_for(pilot, lambda: idle(app) and status_text(app) == "休息")
            await pilot.press("4")  # after-call work from a break: the gateway's rules refuse it
            await wait_for(pilot, lambda: isinstance(app.screen, ErrorDialog))
            text = shown(app.screen.query_one("#error-text", Static))
            assert text.startswith(
                "网关拒绝了这次状态更改（cannot go from break to after_call_work"
            )
            await pilot.press("escape")
            await wait_for(pilot, lambda: idle(app))
            assert status_text(app) == "休息"

    run_bounded(scenario())


def test_changes_wait_on_this_pc_while_the_gateway_is_away() -> None:
    clock = Clock()
    shift = RulesShift(clock)

    async def scenario() -> None:
        app = work_app("en", shift, clock)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: idle(app))
            await pilot.press("i")
            await wait_for(pilot, lambda: isinstance(app.screen, NoticeDialog))
            await pilot.press("enter")
            await wait_for(pilot, lambda: idle(app) and status_text(app) == "Ready")
            pending = app.work_screen.query_one("#pending", Static)
            assert shown(pending) == "Every status change has reached the gateway."
            shift.reachable = False
            await pilot.press("3")
            await wait_for(pilot, lambda: idle(app) and status_text(app) == "Break")
            await pilot.press("1")
            await wait_for(pilot, lambda: idle(app) and status_text(app) == "Ready")
            assert shown(pending) == (
                "2 status change(s) kept on this PC, sent once the gateway is back: Break, Ready"
            )
            await pilot.press("l")
            await wait_for(pilot, lambda: shown(pending).startswith("2 项状态更改暂存在本机"))
            shift.reachable = True  # the next look finds the queue delivered
            await wait_for(pilot, lambda: shown(pending) == "所有状态更改均已送达网关。")
            assert status_text(app) == "就绪"

    run_bounded(scenario())


def test_before_enrolment_the_keys_say_how_to_enrol() -> None:
    async def scenario() -> None:
        app = work_app("en", None, Clock())
        async with app.run_test(size=SIZE) as pilot:
            note = shown(app.work_screen.query_one("#work-note", Static))
            assert "homeagent enrol CODE --gateway URL" in note
            await pilot.press("i")
            await wait_for(pilot, lambda: isinstance(app.screen, ErrorDialog))
            assert "not enrolled" in shown(app.screen.query_one("#error-text", Static))
            await pilot.press("escape")
            await pilot.press("a")
            await wait_for(pilot, lambda: isinstance(app.screen, ActivityScreen))
            note = shown(app.activity_screen.query_one("#activity-note", Static))
            assert "not enrolled" in note

    run_bounded(scenario())


ACTIVITY = [
    ActivityEntry(
        "2026-12-03T09:41:07+00:00",
        "block",
        "inbound.deny-export",
        "crm.acme.test",
        "/customers/export",
    ),
    ActivityEntry(
        "2026-12-03T09:40:00+00:00",
        "allow",
        "inbound.crm-customers",
        "crm.acme.test",
        "/customers/1",
        {},
    ),
    ActivityEntry(
        "2026-12-03T09:39:30+00:00",
        "allow",
        "inbound.crm-customers",
        "crm.acme.test",
        "/customers/2",
        {"cn_mobile": 2, "cn_id": 1},
    ),
]


def test_activity_shows_what_was_blocked_and_masked_with_the_rule() -> None:
    clock = Clock()
    shift = RulesShift(clock, ACTIVITY)

    async def scenario() -> None:
        app = work_app("en", shift, clock)
        async with app.run_test(size=SIZE) as pilot:
            shift.hold_activity.clear()  # the gateway takes its time
            await pilot.press("a")
            note = app.activity_screen.query_one("#activity-note", Static)
            await wait_for(pilot, lambda: shown(note) == "Talking to the gateway…")
            shift.hold_activity.set()
            await wait_for(pilot, lambda: app.activity_screen.entries is not None)
            assert shown(note) == ""
            table = app.activity_screen.query_one(DataTable)
            rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
            assert rows == [
                ["09:41:07", "blocked", "inbound.deny-export", "crm.acme.test/customers/export"],
                [
                    "09:39:30",
                    "allowed · masked 3",
                    "inbound.crm-customers",
                    "crm.acme.test/customers/2",
                ],
            ]
            await pilot.press("l")
            await wait_for(pilot, lambda: str(table.get_row_at(0)[1]) == "已拦截")
            assert str(table.get_row_at(1)[1]) == "已放行 · 遮盖 3 处"
            calls = shift.calls.count("activity")
            await pilot.press("u")
            await wait_for(pilot, lambda: shift.calls.count("activity") == calls + 1)

    run_bounded(scenario())


def test_clock_text() -> None:
    assert clock_text(0) == "00:00:00"
    assert clock_text(3725.9) == "01:02:05"
    assert clock_text(-5) == "00:00:00"
    assert clock_text(36 * 3600) == "36:00:00"


def test_reasons_the_agent_did_not_choose_read_plainly() -> None:
    from homeagent.client.ui.work_screen import reason_text

    assert reason_text("meeting", "en") == "Meeting"
    assert reason_text("clock_in", "en") == "just clocked in: press 1 when ready"
    assert reason_text("posture.noise", "en") == "Background noise check failed"
    assert reason_text("posture.noise", "zh") == "背景噪声未通过"
    assert reason_text("something_new", "en") == "something_new"


def test_the_notice_reflows_to_the_dialog_width() -> None:
    from homeagent.client.ui.notice_dialog import reflowed

    text = "I look at data only\n  to do my work.\n\nEvery access is logged.\n"
    assert reflowed(text, "en") == "I look at data only to do my work.\n\nEvery access is logged."
    assert (
        reflowed("客户资料只在工作中查看，\n不外传。\n", "zh") == "客户资料只在工作中查看，不外传。"
    )


def test_an_unreadable_shift_record_is_said_on_the_work_screen() -> None:
    # what the real service reports after setting an unreadable shift file aside
    told = StatusSnapshot(
        clocked_in=False,
        status=AgentStatus.OFFLINE,
        reason=None,
        since=None,
        seconds_in_status=0,
        shift_start=None,
        shift_seconds=0,
        next=None,
        set_aside="shift.sealed.unreadable-1764748800",
    )
    clock = Clock()
    shift = RulesShift(clock)
    shift.state = shift_snapshot(told)

    async def scenario() -> None:
        app = work_app("zh", shift, clock)
        async with app.run_test(size=SIZE) as pilot:
            note = app.work_screen.query_one("#work-note", Static)
            await wait_for(pilot, lambda: "shift.sealed.unreadable-1764748800" in shown(note))
            assert "班次记录无法读取" in shown(note)

    run_bounded(scenario())
