"""The processes check: matching exactly as the gateway does, judging under every level, and
real processes with forbidden names caught while nothing else of the process list is told."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from homeagent.client.checks import processes
from homeagent.client.checks.context import CheckContext
from homeagent.client.checks.limits import bundled_thresholds
from homeagent.client.checks.processes import forbidden_processes, judge_processes
from homeagent.client.checks.result import Status
from homeagent.proxy.core import posture_check

NAMES = [
    "TeamViewer.exe",
    "teamviewer_service.exe",
    "AnyDesk",
    "x11vnc",
    "X11VNC",
    "x11vnc-helper",
    "obs",
    "obs64.exe",
    "obsidian",
    "ffmpeg",
    "ffmpeg.exe",
    "chrome",
    "Xvnc4",
    "sunloginclient.exe",
    "",
]
PATTERNS = [
    ["TeamViewer*"],
    ["x11vnc"],
    ["obs", "obs64*"],
    ["?vnc*"],
    ["*vnc*"],
    ["ffmpeg"],
    ["SunloginClient*"],
    [],
    bundled_thresholds()["processes"]["forbidden"],
]


@pytest.mark.parametrize("patterns", PATTERNS)
def test_matching_is_the_gateways(patterns: list[str]) -> None:
    assert forbidden_processes(NAMES, patterns) == posture_check.forbidden_processes(
        NAMES, patterns
    )


def test_matching_examples() -> None:
    forbidden = bundled_thresholds()["processes"]["forbidden"]
    assert forbidden_processes(NAMES, forbidden) == [
        "TeamViewer.exe",
        "teamviewer_service.exe",
        "AnyDesk",
        "x11vnc",
        "X11VNC",
        "obs",
        "obs64.exe",
        "ffmpeg",
        "Xvnc4",
        "sunloginclient.exe",
    ]


def test_only_matches_are_kept_each_once() -> None:
    running = ["bash", "x11vnc", "firefox", "x11vnc", "AnyDesk", "WeChat"]
    assert processes.measure(["x11vnc", "anydesk*"], running) == ["AnyDesk", "x11vnc"]
    assert processes.measure([], running) == []


@pytest.mark.parametrize(
    ("found", "level", "status"),
    [
        ([], "required", Status.PASS),
        ([], "warn", Status.PASS),
        (["x11vnc"], "required", Status.FAIL),
        (["x11vnc"], "warn", Status.WARN),
        (["x11vnc"], "off", Status.SKIP),
        (["firefox"], "required", Status.PASS),  # not forbidden: passes, and is not reported
    ],
)
def test_judge(found: list[str], level: str, status: Status) -> None:
    result = judge_processes(found, {"level": level, "forbidden": ["x11vnc", "AnyDesk*"]})
    assert result.status is status
    assert result.measured == {"names": [n for n in found if n != "firefox"]}
    assert (result.hint is not None) == (status in (Status.WARN, Status.FAIL))


def test_no_forbidden_list_passes() -> None:
    result = judge_processes(["x11vnc"], {"level": "required"})
    assert (result.status, result.measured) == (Status.PASS, {"names": []})


def test_hint_names_the_program_and_the_rule() -> None:
    result = judge_processes(["AnyDesk.exe"], {"level": "required", "forbidden": ["AnyDesk*"]})
    assert result.hint is not None
    assert result.hint.en == (
        "Forbidden program running: AnyDesk.exe (matches AnyDesk*): close it and check again"
    )
    assert (
        result.hint.zh
        == "正在运行禁止使用的程序：AnyDesk.exe（匹配禁止项 AnyDesk*）：请关闭后重新检查"
    )


@pytest.fixture
def running_as(tmp_path: Path) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    """`sleep` running under a forbidden name, the same in other case, a wildcard match, and
    a harmless name; all killed afterwards."""
    started: dict[str, subprocess.Popen[bytes]] = {}
    sleep = shutil.which("sleep")
    assert sleep is not None
    try:
        for name in ("x11vnc", "TEAMVIEWER_desktop", "harmless-sleeper"):
            program = tmp_path / name
            shutil.copy(sleep, program)
            started[name] = subprocess.Popen([str(program), "60"])
        yield started
    finally:
        for process in started.values():
            process.kill()
            process.wait(timeout=10)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="copies a Linux binary")
def test_real_forbidden_processes_are_caught(
    running_as: dict[str, subprocess.Popen[bytes]],
) -> None:
    names = {psutil.Process(p.pid).name() for p in running_as.values()}
    assert names == set(running_as)  # the names are what the OS tells
    limits = bundled_thresholds()["processes"]
    result = processes.run(limits, CheckContext())
    assert result.status is Status.FAIL
    # other programs on this shared machine may match the default list too: all must match it
    reported = result.measured["names"]
    assert {"TEAMVIEWER_desktop", "x11vnc"} <= set(reported)
    assert forbidden_processes(reported, limits["forbidden"]) == reported
    assert "harmless-sleeper" not in str(result.to_json()) + str(result.to_report())
    assert result.hint is not None and "x11vnc (matches x11vnc)" in result.hint.en
    own = processes.run(
        {"level": "required", "forbidden": ["x11vnc", "teamviewer*"]}, CheckContext()
    )
    assert own.measured == {"names": ["TEAMVIEWER_desktop", "x11vnc"]}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="copies a Linux binary")
def test_only_forbidden_names_leave_the_check(
    running_as: dict[str, subprocess.Popen[bytes]],
) -> None:
    everything = {p.info["name"] for p in psutil.process_iter(["name"])}
    assert {"harmless-sleeper", "x11vnc"} <= everything and len(everything) > 3
    result = processes.run({"level": "warn", "forbidden": ["x11vnc"]}, CheckContext())
    assert result.status is Status.WARN
    assert result.measured == {"names": ["x11vnc"]}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="copies a Linux binary")
def test_nothing_forbidden_runs_once_they_are_stopped(tmp_path: Path) -> None:
    program = tmp_path / "x11vnc"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", program)
    process = subprocess.Popen([str(program), "60"])
    try:
        assert processes.measure(["x11vnc"]) == ["x11vnc"]
    finally:
        process.kill()
        process.wait(timeout=10)
    assert processes.measure(["x11vnc"]) == []
