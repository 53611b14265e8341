"""What each screen looks like at 80×24, in Chinese and English (pytest-textual-snapshot; the
SVGs under tests/__snapshots__ are the approved looks: `pytest --snapshot-update` after a
deliberate change, and look at them). Results, shift and clock are fixed so the pictures are."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from textual.pilot import Pilot

from homeagent.client.checks.checklist import NOT_ENROLLED
from homeagent.client.checks.context import Progress
from homeagent.client.checks.cpu import CpuFacts, judge_cpu
from homeagent.client.checks.limits import bundled_thresholds
from homeagent.client.checks.memory import MemoryFacts, judge_memory
from homeagent.client.checks.processes import judge_processes
from homeagent.client.checks.removable_storage import judge_removable_storage
from homeagent.client.checks.result import CheckResult, Hint, Status
from homeagent.client.ui.app import HomeagentApp, UiConfig, make_app
from homeagent.client.ui.messages import (
    CheckFinished,
    ChecklistFinished,
    CheckProgressed,
    CheckStarted,
)
from homeagent.client.ui.reason_dialog import ReasonDialog

from .test_ui_work import ACTIVITY
from .ui_pilot import wait_for
from .ui_shift import RulesShift

SnapCompare = Callable[..., bool]
LANGS = ["en", "zh"]


def fixed_results() -> list[CheckResult]:
    """A realistic morning: one failure, one warning, checks that passed or were skipped."""
    limits = bundled_thresholds()
    return [
        judge_cpu(CpuFacts(4, "Intel Core i5-8250U", 23.5), limits["cpu"]),
        judge_memory(MemoryFacts(8.0, 1.2), limits["memory"]),
        CheckResult("network", Status.SKIP, limits=limits["network"], hint=NOT_ENROLLED),
        CheckResult(
            "noise",
            Status.WARN,
            {"dba": 52.5, "dbfs_a": -41.5},
            limits["noise"],
            Hint(
                zh="背景噪声 52.5 dB(A)，上限 50：请换到更安静的房间或关上窗户",
                en="Background noise 52.5 dB(A), limit 50: move to a quieter room or close "
                "the window",
            ),
        ),
        CheckResult("audio_devices", Status.PASS, {"input": True, "output": True}),
        judge_removable_storage([], limits["removable_storage"]),
        judge_processes([], limits["processes"]),
    ]


def quiet_app(lang: str, **config: Any) -> HomeagentApp:
    """The app as the CLI builds it, but with no checks started by themselves."""
    return make_app(UiConfig(lang=lang, run_checks_at_start=False, clock=lambda: 1e9, **config))


async def feed_results(pilot: Pilot[None]) -> None:
    """The messages the checking worker posts, with fixed results."""
    app = pilot.app
    assert isinstance(app, HomeagentApp)
    results = fixed_results()
    for result in results:
        app.check_screen.post_message(CheckStarted(result.name))
        app.check_screen.post_message(CheckFinished(result))
    app.post_message(ChecklistFinished(results))
    await wait_for(pilot, lambda: app.check_screen.results is not None)
    await pilot.pause()


@pytest.mark.parametrize("lang", LANGS)
def test_check_screen(snap_compare: SnapCompare, lang: str) -> None:
    assert snap_compare(quiet_app(lang), terminal_size=(80, 24), run_before=feed_results)


@pytest.mark.parametrize("lang", LANGS)
def test_check_screen_while_checking(snap_compare: SnapCompare, lang: str) -> None:
    async def first_two(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, HomeagentApp)
        first = fixed_results()[0]
        app.check_screen.running = True
        app.check_screen.post_message(CheckStarted(first.name))
        app.check_screen.post_message(CheckFinished(first))
        app.check_screen.post_message(CheckStarted("memory"))
        await wait_for(pilot, lambda: app.check_screen.row("memory").running)
        await pilot.pause()

    assert snap_compare(quiet_app(lang), terminal_size=(80, 24), run_before=first_two)


@pytest.mark.parametrize("lang", LANGS)
def test_help(snap_compare: SnapCompare, lang: str) -> None:
    assert snap_compare(quiet_app(lang), press=["f1"], terminal_size=(80, 24))


def test_report_dialog(snap_compare: SnapCompare) -> None:
    async def report(pilot: Pilot[None]) -> None:
        await feed_results(pilot)
        await pilot.press("p")
        await pilot.pause()

    assert snap_compare(quiet_app("zh"), terminal_size=(80, 24), run_before=report)


def test_error_dialog(snap_compare: SnapCompare) -> None:
    async def error(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, HomeagentApp)
        app.show_error(RuntimeError("gateway answered 502"))
        await pilot.pause()

    assert snap_compare(quiet_app("en"), terminal_size=(80, 24), run_before=error)


def shift_at_work() -> RulesShift:
    """Clocked in 2 h 5 min ago, on a break for 4 min 30 s, one change waiting offline."""
    now = 1_764_748_800.0
    shift = RulesShift(lambda: now, ACTIVITY)
    shift.clock_in("2026-12")
    shift.state = replace(shift.state, shift_start=now - 7500, status_since=now - 270)
    shift.reachable = False
    shift.set_status("break", "personal")
    shift.state = replace(shift.state, status_since=now - 270)
    return shift


@pytest.mark.parametrize("lang", LANGS)
def test_work_screen(snap_compare: SnapCompare, lang: str) -> None:
    shift = shift_at_work()
    app = make_app(
        UiConfig(
            lang=lang,
            shift=shift,
            clock=shift.clock,
            run_checks_at_start=False,
            first_mode="work",
        )
    )

    async def settled(pilot: Pilot[None]) -> None:
        assert isinstance(pilot.app, HomeagentApp)
        work = pilot.app.work_screen
        await wait_for(pilot, lambda: work.snapshot is not None and not work.busy)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=settled)


@pytest.mark.parametrize("lang", LANGS)
def test_activity_screen(snap_compare: SnapCompare, lang: str) -> None:
    shift = shift_at_work()
    app = make_app(
        UiConfig(
            lang=lang,
            shift=shift,
            clock=shift.clock,
            run_checks_at_start=False,
            first_mode="work",
        )
    )

    async def loaded(pilot: Pilot[None]) -> None:
        assert isinstance(pilot.app, HomeagentApp)
        await pilot.press("a")
        activity = pilot.app.activity_screen
        await wait_for(pilot, lambda: activity.entries is not None)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=loaded)


def test_not_ready_reasons(snap_compare: SnapCompare) -> None:
    shift = shift_at_work()
    app = make_app(UiConfig(lang="zh", shift=shift, clock=shift.clock, run_checks_at_start=False))

    async def choosing(pilot: Pilot[None]) -> None:
        assert isinstance(pilot.app, HomeagentApp)
        work = pilot.app.work_screen
        await pilot.press("w")
        await wait_for(pilot, lambda: work.snapshot is not None and not work.busy)
        await pilot.press("2")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ReasonDialog))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=choosing)


@pytest.mark.parametrize("lang", LANGS)
def test_check_screen_recording_noise(snap_compare: SnapCompare, lang: str) -> None:
    async def recording(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, HomeagentApp)
        app.check_screen.running = True
        for result in fixed_results()[:3]:
            app.check_screen.post_message(CheckStarted(result.name))
            app.check_screen.post_message(CheckFinished(result))
        app.check_screen.post_message(CheckStarted("noise"))
        level = Progress("noise", fraction=0.6, phase="recording", value=-38.5)
        app.check_screen.post_message(CheckProgressed(level))
        await wait_for(pilot, lambda: app.check_screen.row("noise").progress is level)
        await pilot.pause()

    assert snap_compare(quiet_app(lang), terminal_size=(80, 24), run_before=recording)
