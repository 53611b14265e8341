"""The agent's TUI on a real pseudo-terminal (80×24): time from launching `homeagent` to its
first screen drawn (goal: at most 1 s), and resident memory once idle, after the checks and
clocked in (goal: at most 120 MB).

Clocked in needs the session layer's service, not written yet: that figure runs the same app
with the tests' stand-in shift (tests/ui_shift.py) behind the ShiftPort Protocol, in a child
process started as `python -m benchmarks.bench_client --clocked-in-child`."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

import psutil

LAUNCHES = 5
IDLE_SECONDS = 3.0
"""How long memory is sampled once the app is idle (its timers keep ticking)."""
WAIT_S = 30.0
ANSI = re.compile(rb"\x1b(\[[0-9;?<>=$]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")
HOMEAGENT = Path(sys.executable).parent / "homeagent"


class Terminal:
    """A program on a pseudo-terminal of 80×24, its screen output read as plain text."""

    def __init__(self, argv: list[str], home: Path) -> None:
        env = {**os.environ, "HOMEAGENT_HOME": str(home), "LANG": "en_US.UTF-8"}
        env.update({"TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"})
        env.pop("LC_ALL", None)
        self.leader, follower = pty.openpty()
        os.set_blocking(self.leader, False)
        # 80 columns, 24 rows: the smallest terminal the UI must fit
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.process = subprocess.Popen(
            argv, stdin=follower, stdout=follower, stderr=follower, env=env, start_new_session=True
        )
        os.close(follower)
        self.seen = b""

    def wait_for(self, text: str, timeout: float = WAIT_S) -> float:
        """Reads until `text` has been drawn; the perf_counter time it was seen."""
        wanted = text.encode()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.leader], [], [], 0.05)
            if readable:
                try:
                    self.seen += os.read(self.leader, 1 << 16)
                except OSError:
                    break
                if wanted in ANSI.sub(b"", self.seen):
                    return time.perf_counter()
        raise TimeoutError(f"{text!r} not drawn within {timeout} s")

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.leader], [], [], 0.05)
            if readable:
                try:
                    self.seen += os.read(self.leader, 1 << 16)
                except OSError:
                    return

    def type(self, keys: bytes) -> None:
        os.write(self.leader, keys)

    def rss_mb(self, seconds: float) -> float:
        """Peak resident memory over `seconds` of idling (output still read)."""
        process = psutil.Process(self.process.pid)
        peak = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            peak = max(peak, process.memory_info().rss)
            self.drain(0.25)
        return peak / 1e6

    def close(self) -> None:
        if self.process.poll() is None:
            self.type(b"q")
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        os.close(self.leader)


def launch_seconds(home: Path) -> float:
    start = time.perf_counter()
    terminal = Terminal([str(HOMEAGENT)], home)
    try:
        return terminal.wait_for("Home-setup checks") - start
    finally:
        terminal.close()


def idle_after_checks_mb(home: Path) -> float:
    terminal = Terminal([str(HOMEAGENT)], home)
    try:
        terminal.wait_for("Forbidden apps  ")
        terminal.wait_for("assed")  # "All passed" / "Passed, with" / "Not passed"
        terminal.type(b"w")
        terminal.wait_for("Clocked out")
        return terminal.rss_mb(IDLE_SECONDS)
    finally:
        terminal.close()


def clocked_in_mb(home: Path) -> float:
    argv = [sys.executable, "-m", "benchmarks.bench_client", "--clocked-in-child"]
    terminal = Terminal(argv, home)
    try:
        terminal.wait_for("assed")
        terminal.type(b"w")
        terminal.wait_for("Clocked out")
        terminal.type(b"i")
        terminal.wait_for("I agree")
        terminal.type(b"\r")
        terminal.wait_for("Shift time")
        return terminal.rss_mb(IDLE_SECONDS)
    finally:
        terminal.close()


def clocked_in_child() -> None:
    """The real app, with the tests' stand-in for the session layer's shift service."""
    from homeagent.client.ui.app import UiConfig, make_app
    from tests.ui_shift import RulesShift

    make_app(UiConfig(lang="en", shift=RulesShift(time.time))).run()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        launch_seconds(home)  # first run warms the disk cache, as on an agent's second launch
        times = [launch_seconds(home) for _ in range(LAUNCHES)]
        print(
            f"launch to first screen: median {statistics.median(times) * 1000:.0f} ms, "
            f"max {max(times) * 1000:.0f} ms over {LAUNCHES} launches (goal ≤ 1000 ms)"
        )
        print(f"resident, idle after the checks: {idle_after_checks_mb(home):.1f} MB")
        print(
            f"resident, clocked in and idle (stand-in shift service): {clocked_in_mb(home):.1f} MB "
            "(goal ≤ 120 MB)"
        )


if __name__ == "__main__":
    if sys.argv[1:] == ["--clocked-in-child"]:
        clocked_in_child()
    else:
        main()
