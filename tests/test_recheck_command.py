"""The command-line twins of the re-check, in subprocesses against the real control API: a full
`homeagent check` during a shift applies the result to the status, `homeagent recheck` does it
now, and `recheck --wait` keeps to the schedule until clock-out or SIGTERM."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from homeagent.client.session.recheck import Effect
from homeagent.client.session.service import RECHECK_FILE, ShiftService

from .control_fixtures import Gateway
from .recheck_fixtures import gateway_fixture, home_fixture, policy_file_fixture  # noqa: F401
from .session_fixtures import cpu_only_policy, enrolled_service, passing_results

HOMEAGENT = Path(sys.executable).parent / "homeagent"


@pytest.fixture
def running() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test started; any still running at the end is ended."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def env(home: Path, lang: str) -> dict[str, str]:
    values = {**os.environ, "HOMEAGENT_HOME": str(home), "LANG": lang}
    values.pop("LC_ALL", None)
    values.pop("LC_MESSAGES", None)
    return values


def homeagent(
    home: Path, *args: str, lang: str = "en_US.UTF-8"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HOMEAGENT), *args],
        env=env(home, lang),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def start(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(HOMEAGENT), *args],
        env=env(home, "en_US.UTF-8"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class Lines:
    """A stream's lines, each waited for at most `timeout` seconds (read by a thread)."""

    def __init__(self, stream: IO[str] | None) -> None:
        assert stream is not None
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)

    def until(self, text: str, timeout: float = 60) -> str:
        """The first line holding `text` (at most 1000 lines looked at)."""
        for _ in range(1000):
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                break
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r} in time")


def ready_agent(gateway: Gateway, home: Path, status: str = "ready") -> ShiftService:
    service = enrolled_service(gateway, home)
    assert service.send_posture(passing_results()).passed
    service.clock_in(gateway.notice_version)
    service.set_status("ready")
    if status != "ready":
        service.set_status(status)
    return service


def require_cores(gateway: Gateway, policy_file: Path, min_cores: int) -> None:
    cpu_only_policy(policy_file, min_cores)
    gateway.policy.reload()


def gateway_status(gateway: Gateway) -> tuple[str, str | None]:
    current = gateway.store.current_status("A1023")
    assert current is not None
    return current.status.value, current.reason


def test_a_full_check_during_the_shift_applies_the_result(
    gateway: Gateway, home: Path, policy_file: Path
) -> None:
    ready_agent(gateway, home)
    require_cores(gateway, policy_file, 512)
    run = homeagent(home, "check", "--json")
    assert run.returncode == 1, run.stderr
    document = json.loads(run.stdout)
    assert document["gateway"]["failing"] == ["cpu"]
    follow_up = document["follow_up"]
    assert (follow_up["effect"], follow_up["reason"]) == (Effect.NOT_READY_NOW, "posture.cpu")
    assert follow_up["status"]["status"] == "not_ready"
    assert gateway_status(gateway) == ("not_ready", "posture.cpu")

    require_cores(gateway, policy_file, 1)
    fixed = homeagent(home, "check", lang="zh_CN.UTF-8")
    assert fixed.returncode == 0, fixed.stderr
    assert "可以恢复就绪" in fixed.stdout  # told, not set
    assert gateway_status(gateway) == ("not_ready", "posture.cpu")


def test_recheck_while_busy_says_it_waits_for_the_contact_in_chinese(
    gateway: Gateway, home: Path, policy_file: Path
) -> None:
    ready_agent(gateway, home, "busy")
    require_cores(gateway, policy_file, 512)
    run = homeagent(home, "recheck", lang="zh_CN.UTF-8")
    assert run.returncode == 1, run.stderr
    assert "处理器" in run.stdout and "未通过" in run.stdout
    assert "请正常完成当前通话" in run.stdout and "posture.cpu" in run.stdout
    assert "下次复检" in run.stdout
    assert "CPU · " in run.stderr or "处理器 · " in run.stderr  # progress while it ran
    assert gateway_status(gateway) == ("busy", None)
    status = homeagent(home, "--lang", "en", "status")
    assert "Next: not ready (posture.cpu)" in status.stdout


def test_recheck_wait_rechecks_when_due_and_stops_at_clock_out(
    gateway: Gateway, home: Path, policy_file: Path, running: list[subprocess.Popen[str]]
) -> None:
    service = ready_agent(gateway, home)
    require_cores(gateway, policy_file, 512)
    (home / RECHECK_FILE).unlink()  # no report known to this PC: due at once
    process = start(home, "recheck", "--wait", "--json")
    running.append(process)
    stdout, stderr = Lines(process.stdout), Lines(process.stderr)
    outcome = json.loads(stdout.until("follow_up", timeout=90))
    assert outcome["follow_up"]["effect"] == Effect.NOT_READY_NOW
    assert outcome["follow_up"]["reason"] == "posture.cpu"
    assert gateway_status(gateway) == ("not_ready", "posture.cpu")
    service.clock_out()
    stderr.until("Clocked out: re-checks have stopped", timeout=30)
    assert process.wait(30) == 0


def test_recheck_wait_stops_on_sigterm_and_needs_a_shift(
    gateway: Gateway, home: Path, running: list[subprocess.Popen[str]]
) -> None:
    refused = homeagent(home, "recheck", "--wait")
    assert refused.returncode == 1 and "clock" in refused.stderr.lower()
    ready_agent(gateway, home)
    process = start(home, "recheck", "--wait")
    running.append(process)
    stderr = Lines(process.stderr)
    stderr.until("Next re-check:", timeout=30)  # the report from clock-in is fresh: it waits
    process.send_signal(signal.SIGTERM)
    stderr.until("Re-checks have stopped", timeout=30)
    assert process.wait(30) == 0
    assert gateway_status(gateway) == ("ready", None)
