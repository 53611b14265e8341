"""`homeagent forward` end to end in a subprocess: it prints where it listens, carries the browser
to the real gateway with the session file's token (re-read when it changes), and ends at
clock-out; before enrolment, before clock-in or on a taken port it says what to do."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest

from homeagent.client.state import Session, clear_session, save_enrolment, save_session

from .forward_fixtures import enrolment_for
from .gateway_harness import GatewayHarness

HOMEAGENT = Path(sys.executable).parent / "homeagent"
CUSTOMER = "https://crm.acme.test/customers/1001.json"


@pytest.fixture
def home(tmp_path: Path, harness: GatewayHarness) -> Path:
    """A client home enrolled with the test gateway, not yet clocked in."""
    path = tmp_path / "home"
    path.mkdir()
    host, port = harness.gateway.address
    save_enrolment(enrolment_for(f"{host}:{port}", harness.config.ca_cert, "inbound"), path)
    return path


def start(home: Path, *args: str, lang: str = "en_US.UTF-8") -> subprocess.Popen[str]:
    env = {**os.environ, "HOMEAGENT_HOME": str(home), "LANG": lang}
    env.pop("LC_ALL", None)
    env.pop("LC_MESSAGES", None)
    return subprocess.Popen(
        [str(HOMEAGENT), "forward", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class Lines:
    """The command's stdout a line at a time, each waited for at most `timeout` seconds (a
    thread reads, since select() cannot see lines the text buffer already holds)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(process.stdout,), daemon=True).start()

    def _read(self, stdout: IO[str]) -> None:
        for line in stdout:  # ends when the process closes its stdout
            self._queue.put(line)

    def next(self, timeout: float = 30) -> str:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("the command printed nothing in time") from None


@pytest.fixture
def running() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test started; any still running at the end is ended."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def audited_agent(harness: GatewayHarness, reference: str) -> str:
    flows = [r["data"] for r in harness.gateway.store.iter_audit("test-gw") if r["kind"] == "flow"]
    (record,) = [d for d in flows if d["reference"] == reference]
    return str(record["agent"])


def browse(proxy_url: str, harness: GatewayHarness) -> httpx.Response:
    with httpx.Client(proxy=proxy_url, verify=str(harness.config.ca_cert), timeout=30) as client:
        return client.get(CUSTOMER)


def test_json_address_browse_renewed_token_and_stop_at_clock_out(
    home: Path, harness: GatewayHarness, running: list[subprocess.Popen[str]]
) -> None:
    _, token = harness.clock_in("A6001", "inbound")
    save_session(Session(token, time.time() + 3600), home)
    process = start(home, "--json", "--port", "0")
    running.append(process)
    document = json.loads(Lines(process).next())
    assert set(document) == {"address", "proxy_url", "pac_url"}
    assert document["address"].startswith("127.0.0.1:")
    assert document["proxy_url"] == f"http://{document['address']}"
    assert document["pac_url"] == f"http://{document['address']}/proxy.pac"

    first = browse(document["proxy_url"], harness)
    assert first.status_code == 200 and "****" in first.text
    assert audited_agent(harness, first.headers["X-Homeagent-Reference"]) == "A6001"

    # A renewed token is used from the next request on (here, to tell them apart, another
    # agent's: the file is all the forwarder goes by).
    _, renewed = harness.clock_in("A6002", "inbound")
    save_session(Session(renewed, time.time() + 3600), home)
    second = browse(document["proxy_url"], harness)
    assert audited_agent(harness, second.headers["X-Homeagent-Reference"]) == "A6002"

    clear_session(home)  # clock-out
    assert process.wait(timeout=15) == 0
    assert process.stderr is not None
    assert "Clocked out" in process.stderr.read()
    with pytest.raises(httpx.ConnectError):
        browse(document["proxy_url"], harness)


def test_in_chinese_it_says_how_to_set_the_browser_and_stops_on_sigterm(
    home: Path, harness: GatewayHarness, running: list[subprocess.Popen[str]]
) -> None:
    _, token = harness.clock_in("A6003", "inbound")
    save_session(Session(token, time.time() + 3600), home)
    process = start(home, "--port", "0", lang="zh_CN.UTF-8")
    running.append(process)
    lines = Lines(process)
    status, pac, manual = (lines.next() for _ in range(3))
    assert status.startswith("转发已启动：127.0.0.1:")
    port = status.split("127.0.0.1:")[1].split("（")[0]
    assert f"http://127.0.0.1:{port}/proxy.pac" in pac and "自动代理配置" in pac
    assert f"端口 {port}" in manual
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    assert process.stderr is not None
    assert "转发已停止" in process.stderr.read()


@pytest.mark.parametrize(
    ("enrolled", "clocked_in", "says"),
    [(False, False, "homeagent enrol"), (True, False, "clock in"), (True, True, "expired")],
    ids=["not-enrolled", "not-clocked-in", "session-expired"],
)
def test_it_will_not_start_without_enrolment_or_a_live_session(
    home: Path, enrolled: bool, clocked_in: bool, says: str
) -> None:
    if not enrolled:
        (home / "gateway.json").unlink()
    if clocked_in:
        save_session(Session("ha1.old", time.time() - 1), home)
    done = subprocess.run(
        [str(HOMEAGENT), "--lang", "en", "forward", "--port", "0"],
        env={**os.environ, "HOMEAGENT_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1
    assert says in done.stderr and done.stdout == ""
    assert "Traceback" not in done.stderr


def test_a_taken_port_is_explained(home: Path, harness: GatewayHarness) -> None:
    save_session(Session("ha1.any", time.time() + 3600), home)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [str(HOMEAGENT), "--lang", "en", "forward", "--port", str(port)],
            env={**os.environ, "HOMEAGENT_HOME": str(home)},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert done.returncode == 1
    assert f"port {port}" in done.stderr and "--port" in done.stderr
