"""The TUI's check screen with the real checks in a worker thread: the checklist filling in live
in Chinese and English, progress while a check runs, a missing or broken check, errors as
dialogs, the posture report as sent, help and the live language switch; and `homeagent` on a
real terminal (pty)."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual.message import Message
from textual.widgets import Button, ProgressBar, Static

from homeagent.client.browser_trust import BrowserTrust
from homeagent.client.checks.context import Progress
from homeagent.client.checks.report import report_json
from homeagent.client.checks.result import CheckResult, Status
from homeagent.client.commands.common import CommandError
from homeagent.client.session.first_contact import ca_fingerprint
from homeagent.client.ui.app import HomeagentApp, UiConfig, make_app
from homeagent.client.ui.checklist_row import ChecklistRow
from homeagent.client.ui.confirm_dialog import ConfirmDialog
from homeagent.client.ui.error_dialog import ErrorDialog
from homeagent.client.ui.help_screen import HelpScreen
from homeagent.client.ui.key_bar import KeyBar
from homeagent.client.ui.level_meter import LevelMeter, level_bar
from homeagent.client.ui.messages import (
    CheckFinished,
    CheckProgressed,
    CheckStarted,
)
from homeagent.client.ui.report_dialog import ReportDialog
from homeagent.proxy.core.posture_report import parse_report

from .control_fixtures import make_ca
from .ui_pilot import run_bounded, shown, wait_for

QUICK = ("memory", "network", "removable_storage", "processes")
"""Real checks that finish at once (the CPU's load takes 3 s); network is skipped unenrolled."""
SIZE = (80, 24)


def row_text(app: HomeagentApp, check: str) -> str:
    row = app.check_screen.row(check)
    return shown(row.query_one(".row-line", Static))


def hint_text(app: HomeagentApp, check: str) -> str:
    return shown(app.check_screen.row(check).query_one(".row-hint", Static))


def finished(app: HomeagentApp) -> bool:
    """The checklist has results and nothing runs."""
    return app.check_screen.results is not None and not app.check_screen.running


@pytest.mark.parametrize(
    ("lang", "title", "memory", "network_hint", "keys"),
    [
        ("en", "Home-setup checks", "Memory", "Not enrolled with a company gateway", "Check again"),
        ("zh", "居家环境检查", "内存", "尚未登记到公司网关", "重新检查"),
    ],
)
def test_checklist_fills_in_live(
    lang: str, title: str, memory: str, network_hint: str, keys: str
) -> None:
    async def scenario() -> None:
        app = make_app(UiConfig(lang=lang, only=QUICK))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: finished(app))
            screen = app.check_screen
            assert shown(screen.query_one("#checks-title", Static)) == title
            results = {r.name: r for r in screen.results or ()}
            assert list(results) == list(QUICK)
            assert results["network"].status is Status.SKIP
            assert network_hint in hint_text(app, "network")
            line = row_text(app, "memory")
            assert memory in line and "GB" in line
            icon = {"pass": "✓", "warn": "!", "fail": "✗", "skip": "-"}
            for name, result in results.items():
                assert row_text(app, name).startswith(f" {icon[result.status.value]} ")
            summary = shown(screen.query_one("#checks-summary", Static))
            failed = any(r.status is Status.FAIL for r in results.values())
            assert ("未通过" if lang == "zh" else "Not passed") in summary or not failed
            assert keys in shown(screen.query_one(KeyBar))

    run_bounded(scenario())


def test_a_running_check_shows_its_progress() -> None:
    """The CPU check samples its load for 3 s: its row shows the live figure and a bar."""

    async def scenario() -> None:
        app = make_app(UiConfig(lang="en", only=("cpu",)))
        async with app.run_test(size=SIZE) as pilot:
            row = app.check_screen.row("cpu")

            def sampling() -> bool:
                """the CPU row has a load figure and part of its bar"""
                progress = row.progress
                return row.running and progress is not None and (progress.fraction or 0) > 0

            await wait_for(pilot, sampling)
            assert not app.check_screen.active_bindings["r"].enabled  # dimmed while running
            bar = row.query_one(ProgressBar)
            assert bar.display and 0 < (bar.progress or 0) <= 1
            assert "load " in row_text(app, "cpu") and "% done" in row_text(app, "cpu")
            await wait_for(pilot, lambda: finished(app))
            assert app.check_screen.active_bindings["r"].enabled
            assert not bar.display
            assert "logical cores" in row_text(app, "cpu")

    run_bounded(scenario())


def test_a_check_whose_module_is_missing_does_not_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes importing the module fail as if it were not installed: a broken
    # installation, which must not read as a skipped (harmless) check
    monkeypatch.setitem(sys.modules, "homeagent.client.checks.noise", None)

    async def scenario() -> None:
        app = make_app(UiConfig(lang="zh", only=("noise", "memory")))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: finished(app))
            noise = app.check_screen.row("noise").result
            assert noise is not None and noise.status not in (Status.PASS, Status.SKIP)
            assert "此项检查无法完成（ModuleNotFoundError" in hint_text(app, "noise")
            assert row_text(app, "memory").startswith(" ✓ ")

    run_bounded(scenario())


def test_a_broken_check_fails_with_a_hint_and_the_others_run() -> None:
    def thresholds() -> dict[str, dict[str, object]]:
        # a policy the processes check cannot read: its fault, not the checklist's
        return {"processes": {"level": "required", "forbidden": 5}, "memory": {"level": "warn"}}

    async def scenario() -> None:
        app = make_app(UiConfig(lang="en", only=("memory", "processes"), thresholds=thresholds))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: finished(app))
            processes = app.check_screen.row("processes").result
            assert processes is not None and processes.status is Status.FAIL
            assert "could not run (TypeError" in hint_text(app, "processes")
            assert row_text(app, "memory").startswith(" ✓ ")
            summary = shown(app.check_screen.query_one("#checks-summary", Static))
            assert summary.startswith("Not passed: 1 (Forbidden apps)")

    run_bounded(scenario())


def test_a_worker_error_is_a_dialog_saying_what_to_do() -> None:
    def thresholds() -> dict[str, dict[str, object]]:
        raise CommandError("Cannot reach the gateway: check your network, then press r.")

    async def scenario() -> None:
        app = make_app(UiConfig(lang="en", only=QUICK, thresholds=thresholds))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, ErrorDialog))
            assert shown(app.screen.query_one("#error-text", Static)).startswith(
                "Cannot reach the gateway"
            )
            assert not app.check_screen.running  # r works again
            assert str(app.screen.query_one(Button).label) == "OK"
            await pilot.press("enter")
            await wait_for(pilot, lambda: not isinstance(app.screen, ErrorDialog))

    run_bounded(scenario())


def test_the_report_shown_is_the_report_sent() -> None:
    async def scenario() -> None:
        app = make_app(UiConfig(lang="en", only=QUICK, run_checks_at_start=False))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("p")  # before any result: it says to wait
            await wait_for(pilot, lambda: isinstance(app.screen, ReportDialog))
            assert "No results yet" in shown(app.screen.query_one("#report-text", Static))
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, ReportDialog))
            await pilot.press("r")
            await wait_for(pilot, lambda: finished(app))
            await pilot.press("p")
            await wait_for(pilot, lambda: isinstance(app.screen, ReportDialog))
            text = shown(app.screen.query_one("#report-text", Static))
            assert app.results is not None
            sent = report_json(app.results)
            # every field and figure of what is sent, in its order, laid out on lines
            assert json.loads(text) == json.loads(sent)
            assert list(json.loads(text)["checks"]) == list(QUICK)
            assert text.count("\n") > 10
            parsed = parse_report(sent.encode())  # the gateway reads what is sent
            memory = parsed.checks.memory
            assert memory is not None and memory.measurements is not None
            assert memory.measurements.total_gb == app.results[0].measured["total_gb"]

    run_bounded(scenario())


def test_language_switches_live_and_help_opens_and_closes() -> None:
    async def scenario() -> None:
        app = make_app(UiConfig(lang="en", only=QUICK))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: finished(app))
            assert row_text(app, "memory").startswith(" ✓ Memory")
            await pilot.press("l")
            await wait_for(pilot, lambda: app.lang == "zh")
            title = app.check_screen.query_one("#checks-title", Static)
            await wait_for(pilot, lambda: shown(title) == "居家环境检查")
            assert row_text(app, "memory").startswith(" ✓ 内存")
            assert "English" in shown(app.check_screen.query_one(KeyBar))
            await pilot.press("f1")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
            assert "上班打卡" in shown(app.screen.query_one("#help-text", Static))
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))
            await pilot.press("r")  # checks again: the rows start over and finish again
            await wait_for(pilot, lambda: finished(app))
            assert all(isinstance(r, ChecklistRow) for r in app.check_screen.query(ChecklistRow))

    run_bounded(scenario())


def test_homeagent_alone_opens_the_tui_on_a_terminal(tmp_path: Path) -> None:
    """The installed command in a pseudo-terminal: the check screen draws, `q` quits."""
    homeagent = Path(sys.executable).parent / "homeagent"
    env = {**os.environ, "HOMEAGENT_HOME": str(tmp_path), "LANG": "zh_CN.UTF-8", "TERM": "xterm"}
    env.pop("LC_ALL", None)
    leader, follower = pty.openpty()
    os.set_blocking(leader, False)
    process = subprocess.Popen(
        [str(homeagent)], stdin=follower, stdout=follower, stderr=follower, env=env
    )
    os.close(follower)
    seen = b""
    try:
        deadline = time.monotonic() + WAIT_PTY_S
        while "居家环境检查".encode() not in seen and time.monotonic() < deadline:
            readable, _, _ = select.select([leader], [], [], 0.2)
            if readable:
                seen += os.read(leader, 65536)
        assert "居家环境检查".encode() in seen
        os.write(leader, b"q")
        assert process.wait(timeout=WAIT_PTY_S) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        os.close(leader)


WAIT_PTY_S = 20.0


def test_textual_loads_only_for_the_tui() -> None:
    """`homeagent check` and the checks never pay for Textual (nor the checks for the UI)."""
    code = (
        "import sys, homeagent.client.cli, homeagent.client.checks.registry, "
        "homeagent.client.checks.report, homeagent.client.commands.ui; "
        "print(any(m.split('.')[0] == 'textual' for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_level_meter_shows_while_the_noise_check_records() -> None:
    """The noise check's progress (as its worker posts it) moves the meter; it hides after."""

    async def scenario() -> None:
        app = make_app(UiConfig(lang="en", only=("noise",), run_checks_at_start=False))
        async with app.run_test(size=SIZE) as pilot:
            meter = app.check_screen.query_one(LevelMeter)
            assert not meter.display
            app.check_screen.post_message(CheckStarted("noise"))
            recording = Progress("noise", fraction=0.4, phase="recording", value=-45.0)
            app.check_screen.post_message(CheckProgressed(recording))
            await wait_for(pilot, lambda: meter.level == -45.0)
            assert meter.display
            assert shown(meter) == f"Microphone level  {level_bar(-45.0)} -45 dBFS(A)"
            assert "recording -45 dBFS(A)" in row_text(app, "noise")
            result = CheckResult("noise", Status.PASS, {"dba": 38.0})
            app.check_screen.post_message(CheckFinished(result))
            await wait_for(pilot, lambda: app.check_screen.row("noise").result is result)
            assert not meter.display

    run_bounded(scenario())


@pytest.mark.parametrize(
    ("dbfs", "filled"), [(-90.0, 0), (-120.0, 0), (-45.0, 20), (0.0, 40), (6.0, 40)]
)
def test_level_bar(dbfs: float, filled: int) -> None:
    bar = level_bar(dbfs)
    assert len(bar) == 40 and bar.count("█") == filled


def test_no_message_bubbles() -> None:
    """The app relays workers' messages to screens: one that bubbled from the screen back to
    the app would be relayed again, forever, starving the event loop (it happened with
    ChecklistFinished; a test of the loop itself could only hang)."""
    import inspect

    from homeagent.client.ui import messages

    classes = [
        c
        for _, c in inspect.getmembers(messages, inspect.isclass)
        if c.__module__ == messages.__name__ and issubclass(c, Message)
    ]
    assert len(classes) >= 7
    assert [c.__name__ for c in classes if c.bubble] == []


def test_the_check_screen_offers_to_make_the_browser_trust_the_gateway(tmp_path: Path) -> None:
    # real NSS databases under a throwaway HOME, changed by Debian's certutil
    ca_file = tmp_path / "gateway-ca.pem"
    ca_file.write_bytes(make_ca()[0])
    browsers = BrowserTrust(ca_file, tmp_path / "user")
    (tmp_path / "user").mkdir()

    def keys(app: HomeagentApp) -> list[str]:
        bar = app.check_screen.query_one(KeyBar)
        return [name for _, name, _ in bar.keys()]  # noqa: SIM118  (a method, not a dict)

    async def scenario() -> None:
        app = make_app(UiConfig(lang="en", only=("memory",), browsers=browsers))
        async with app.run_test(size=SIZE) as pilot:
            summary = app.check_screen.query_one("#checks-summary", Static)
            await wait_for(pilot, lambda: "does not trust the company gateway" in shown(summary))
            assert "Trust browser" in keys(app)
            await pilot.press("t")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            question = shown(app.screen.query_one("#confirm-question", Static))
            assert ca_fingerprint(ca_file.read_text()) in question
            await pilot.press("escape")  # not now: nothing changes
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmDialog))
            assert browsers.trusted_in() == []
            await pilot.press("t")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("enter")
            await wait_for(pilot, lambda: "now trusts the company gateway" in shown(summary))
            assert [store.browser for store in browsers.trusted_in()] == ["Chromium / Chrome"]
            assert "Trust browser" not in keys(app)

        # the next start finds it trusted: nothing to say, nothing to offer
        app = make_app(UiConfig(lang="zh", only=("memory",), browsers=browsers))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: finished(app))
            await wait_for(pilot, lambda: app.check_screen.browser_note is None)
            assert "信任" not in shown(app.check_screen.query_one("#checks-summary", Static))
            assert "信任浏览器" not in keys(app)

    run_bounded(scenario())
