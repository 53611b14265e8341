"""The agent's TUI on a real pseudo-terminal (80×24): time from launching `homeagent` to its
first screen drawn (goal: at most 1 s), and resident memory once idle, after the checks and
clocked in (goal: at most 120 MB).

Clocked in is the real thing: a `homeagent-proxy run` on loopback (the demo policy, whose home
checks only warn, so this 2-core machine without a microphone may clock in), an agent enrolled
with `homeagent enrol`, the TUI sending its checks, clocking in through the notice and running
the local forwarder; its memory is sampled while it idles on the work screen."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import socket
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
PROXY = Path(sys.executable).parent / "homeagent-proxy"
DEMO_POLICY = Path(__file__).resolve().parent.parent / "policies" / "examples" / "demo.yaml"


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

    def _read_some(self) -> bool:
        """Keeps what the program draws within the next 50 ms; False once it closed its end."""
        readable, _, _ = select.select([self.leader], [], [], 0.05)
        if readable:
            try:
                self.seen += os.read(self.leader, 1 << 16)
            except OSError:
                return False
        return True

    def wait_for(self, text: str, timeout: float = WAIT_S) -> float:
        """Reads until `text` has been drawn; the perf_counter time it was seen."""
        wanted = text.encode()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read_some():
            if wanted in ANSI.sub(b"", self.seen):
                return time.perf_counter()
        raise TimeoutError(f"{text!r} not drawn within {timeout} s")

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self._read_some():
            pass

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_listening(port: int, gateway: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if gateway.poll() is not None:
            raise RuntimeError(f"the gateway exited with {gateway.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"the gateway did not listen on {port} within {WAIT_S} s")


def enrolled_home(tmp: Path, control_port: int) -> Path:
    """A client home enrolled with the gateway whose data dir is `tmp/gateway`."""
    data = tmp / "gateway"
    added = subprocess.run(
        [
            *(str(PROXY), "agents", "add", "B1001", "--role", "inbound", "--json"),
            *("--policy", str(DEMO_POLICY), "--data-dir", str(data)),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    code = json.loads(added.stdout.splitlines()[-1])["code"]
    home = tmp / "agent"
    home.mkdir(mode=0o700)
    subprocess.run(
        [
            *(str(HOMEAGENT), "enrol", code, "--gateway", f"https://127.0.0.1:{control_port}"),
            *("--ca", str(data / "ca" / "mitmproxy-ca-cert.pem")),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "HOMEAGENT_HOME": str(home)},
    )
    return home


def clocked_in_mb(tmp: Path) -> float:
    """Resident memory of the real TUI clocked in at a real gateway, forwarder running."""
    proxy_port, control_port = free_port(), free_port()
    gateway = subprocess.Popen(
        [
            *(str(PROXY), "run", "--policy", str(DEMO_POLICY), "--data-dir", str(tmp / "gateway")),
            *("--listen", f"127.0.0.1:{proxy_port}", "--control", f"127.0.0.1:{control_port}"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(control_port, gateway)
        home = enrolled_home(tmp, control_port)
        terminal = Terminal([str(HOMEAGENT)], home)
        try:
            terminal.wait_for("Gateway: passed", timeout=120)  # the checks, sent and judged
            terminal.type(b"w")
            terminal.wait_for("Clocked out")
            terminal.type(b"i")
            terminal.wait_for("I agree")
            terminal.type(b"\r")
            terminal.wait_for("proxy.pac")  # clocked in: the forwarder's browser lines
            return terminal.rss_mb(IDLE_SECONDS)
        finally:
            terminal.close()
    finally:
        gateway.terminate()
        gateway.wait(timeout=30)


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
            f"resident, clocked in at a real gateway and idle, forwarder running: "
            f"{clocked_in_mb(home):.1f} MB (goal ≤ 120 MB)"
        )


if __name__ == "__main__":
    main()
