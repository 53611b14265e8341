"""The agent's shift commands as an agent runs them — `homeagent enrol`, `check`, `clock-in`,
`status`, `clock-out` in child processes — against the real control API on loopback, and the
offline queue end to end: gateway stopped, changes made, the client killed with SIGKILL, both
restarted, every change delivered once and in order."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from homeagent.client.session.service import ShiftService

from .control_fixtures import DEFAULT_POLICY, Gateway, make_ca
from .session_fixtures import new_code, passing_results, wall_gateway

HOMEAGENT = Path(sys.executable).parent / "homeagent"


def homeagent(
    home: Path, *args: str, lang: str = "en_US.UTF-8", stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HOMEAGENT), *args],
        env=client_env(home, lang),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def client_env(home: Path, lang: str = "en_US.UTF-8") -> dict[str, str]:
    env = {**os.environ, "HOMEAGENT_HOME": str(home), "LANG": lang}
    env.pop("LC_ALL", None)
    env.pop("LC_MESSAGES", None)
    return env


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "client"


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    (tmp_path / "gw").mkdir()
    with wall_gateway(tmp_path / "gw") as gw:
        yield gw


def ca_file(gateway: Gateway, tmp: Path) -> Path:
    path = tmp / "gateway-ca-from-officer.pem"
    path.write_bytes(gateway.ca_pem)
    return path


def enrolled(gateway: Gateway, home: Path, tmp: Path) -> None:
    run = homeagent(
        home, "enrol", new_code(gateway), "--gateway", gateway.server.url,
        "--ca", str(ca_file(gateway, tmp)),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr


def history(gateway: Gateway, agent: str = "A1023") -> list[tuple[str, str | None]]:
    return [(e.status.value, e.reason) for e in gateway.store.status_history(agent)]


def test_enrol_with_the_officers_ca_file(gateway: Gateway, home: Path, tmp_path: Path) -> None:
    run = homeagent(
        home, "enrol", new_code(gateway), "--gateway", gateway.server.url,
        "--ca", str(ca_file(gateway, tmp_path)),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "Enrolled: agent A1023 (role inbound)" in run.stdout
    assert "homeagent check" in run.stdout and "homeagent clock-in" in run.stdout
    assert stat.S_IMODE((home / "device-key.pem").stat().st_mode) == 0o600
    assert (home / "gateway-ca.pem").read_bytes() == gateway.ca_pem


def test_enrol_on_first_use_asks_to_compare_the_fingerprint(gateway: Gateway, home: Path) -> None:
    code = new_code(gateway)
    refused = homeagent(home, "enrol", code, "--gateway", gateway.server.url, stdin="n\n")
    assert refused.returncode == 1
    assert "SHA-256 fingerprint" in refused.stderr
    assert "The code was not sent and can still be used" in refused.stderr
    accepted = homeagent(
        home, "--lang", "zh", "enrol", code, "--gateway", gateway.server.url, "--json",
        stdin="y\n",
    )  # fmt: skip
    assert accepted.returncode == 0, accepted.stderr
    outcome = json.loads(accepted.stdout)
    assert outcome["agent"] == "A1023"
    assert outcome["ca_fingerprint"] in accepted.stderr
    assert "指纹" in accepted.stderr


def test_a_used_code_is_refused_plainly_in_chinese(
    gateway: Gateway, home: Path, tmp_path: Path
) -> None:
    code = new_code(gateway)
    ca = str(ca_file(gateway, tmp_path))
    assert (
        homeagent(home, "enrol", code, "--gateway", gateway.server.url, "--ca", ca).returncode == 0
    )
    again = homeagent(
        tmp_path / "other", "enrol", code, "--gateway", gateway.server.url, "--ca", ca,
        lang="zh_CN.UTF-8",
    )  # fmt: skip
    assert again.returncode == 1
    assert again.stderr.strip() == "该登记码已被使用：请申请新的登记码"


def test_check_takes_the_gateways_limits_and_sends_a_full_run(tmp_path: Path, home: Path) -> None:
    strict = tmp_path / "strict.yaml"
    strict.write_text(
        f"version: 1\ninclude:\n  - {DEFAULT_POLICY}\n"
        "posture:\n  roles:\n    inbound:\n      memory: {min_total_gb: 4096}\n"
    )
    (tmp_path / "gw").mkdir()
    from homeagent.proxy.store.engine import sqlite_url

    from .control_fixtures import WallClock, running_gateway

    gw_dir = tmp_path / "gw"
    with running_gateway(
        sqlite_url(gw_dir / "gateway.db"), gw_dir, strict, clock=WallClock()
    ) as gateway:
        enrolled(gateway, home, tmp_path)
        only = homeagent(home, "check", "--only", "memory", "--json")
        memory = json.loads(only.stdout)["checks"][0]
        assert memory["limits"]["min_total_gb"] == 4096
        assert memory["status"] == "fail" and only.returncode == 1
        assert "gateway" not in json.loads(only.stdout)  # a partial run is never sent
        assert gateway.store.latest_posture("A1023") is None
        full = homeagent(home, "check", "--json")
        document = json.loads(full.stdout)
        assert document["gateway"]["passed"] is False
        assert "memory" in document["gateway"]["failing"]
        assert gateway.store.latest_posture("A1023") is not None


def test_a_shift_from_the_command_line(gateway: Gateway, home: Path, tmp_path: Path) -> None:
    enrolled(gateway, home, tmp_path)
    no_report = homeagent(home, "clock-in", "--accept-notice")
    assert no_report.returncode == 1
    assert "no posture report from this PC yet" in no_report.stderr
    ShiftService(home).send_posture(passing_results())
    declined = homeagent(home, "clock-in", stdin="n\n")
    assert declined.returncode == 1
    assert gateway.policy().policy.notice.en.split()[0] in declined.stderr
    assert "the notice must be accepted" in declined.stderr
    assert gateway.store.open_session("A1023") is None
    clock_in = homeagent(home, "clock-in", stdin="y\n")
    assert clock_in.returncode == 0, clock_in.stderr
    assert "homeagent status ready" in clock_in.stdout
    for args in (["ready"], ["busy"], ["break", "--reason", "lunch"]):
        run = homeagent(home, "status", *args)
        assert run.returncode == 0, run.stderr
    assert "Next: break (lunch) (when this contact ends)" in run.stdout
    shown = json.loads(homeagent(home, "status", "--json").stdout)
    assert (shown["status"], shown["next"], shown["pending"]) == (
        "busy",
        {"status": "break", "reason": "lunch"},
        [],
    )
    assert homeagent(home, "status", "after_call_work").returncode == 0
    ended = homeagent(home, "status", "ready")
    assert "Status: break (lunch)" in ended.stdout
    assert "状态：休息（lunch）" in homeagent(home, "status", lang="zh_CN.UTF-8").stdout
    no_reason = homeagent(home, "--lang", "zh", "status", "not_ready")
    assert no_reason.returncode == 1
    assert "需要原因" in no_reason.stderr
    clock_out = homeagent(home, "clock-out", "--json")
    assert clock_out.returncode == 0, clock_out.stderr
    assert json.loads(clock_out.stdout)["undelivered"] == 0
    assert history(gateway) == [
        ("not_ready", "clock_in"),
        ("ready", None),
        ("busy", None),
        ("after_call_work", None),
        ("break", "lunch"),
        ("offline", "clock_out"),
    ]
    assert "Not clocked in" in homeagent(home, "status").stdout


@contextmanager
def silent_gateway(port: int) -> Iterator[threading.Event]:
    """Something on the gateway's port that accepts connections and never answers (a hung
    gateway): the event is set once a client connected."""
    connected = threading.Event()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(8)
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)
            connected.set()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield connected
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()


def test_changes_made_offline_survive_sigkill_and_arrive_once_in_order(
    tmp_path: Path, home: Path
) -> None:
    ca = make_ca()
    gw_dir = tmp_path / "gw"
    gw_dir.mkdir()
    with wall_gateway(gw_dir, ca=ca) as gateway:
        port = gateway.server.port
        enrolled(gateway, home, tmp_path)
        ShiftService(home).send_posture(passing_results())
        assert homeagent(home, "clock-in", "--accept-notice").returncode == 0
        assert homeagent(home, "status", "ready").returncode == 0
    # the gateway is down: each change is kept, shown as pending
    for args in (["busy"], ["after_call_work"], ["break", "--reason", "lunch"]):
        run = homeagent(home, "status", *args)
        assert run.returncode == 0, run.stderr
    assert "Pending: 3 status change(s) saved on this PC" in run.stdout
    assert "Cannot reach the company gateway" in run.stdout
    queued = json.loads(homeagent(home, "status", "--json").stdout)
    assert [p["status"] for p in queued["pending"]] == ["busy", "after_call_work", "break"]
    assert queued["delivery"]["problem"]["code"] == "unreachable"
    # the gateway hangs: the client is killed while delivering its fourth change
    with silent_gateway(port) as connected:
        err = tmp_path / "child-stderr"
        with err.open("wb") as err_file:
            child = subprocess.Popen(
                [str(HOMEAGENT), "status", "ready"],
                env=client_env(home),
                stdout=subprocess.DEVNULL,
                stderr=err_file,
            )
        try:
            assert connected.wait(30), "the client never tried to deliver"
            # it tells the agent it is waiting, rather than hanging silently
            deadline = time.monotonic() + 30
            while b"Waiting for the gateway" not in err.read_bytes():
                assert time.monotonic() < deadline, err.read_text()
                time.sleep(0.05)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(10)
        assert child.returncode == -signal.SIGKILL
    sealed = (home / "shift.sealed").read_bytes()
    for plaintext in (b"busy", b"after_call_work", b"break", b"lunch", b"ready", b"A1023"):
        assert plaintext not in sealed
    with wall_gateway(gw_dir, ca=ca, port=port, instance="gw-test-restarted") as gateway:
        shown = homeagent(home, "status", "--json")
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["pending"] == []
        assert history(gateway) == [
            ("not_ready", "clock_in"),
            ("ready", None),
            ("busy", None),
            ("after_call_work", None),
            ("break", "lunch"),
            ("ready", None),
        ]
        events = gateway.store.status_history("A1023")
        client_times = [e.client_time for e in events]
        assert client_times == sorted(client_times)  # type: ignore[type-var]  # all set: sent by the client
        assert len({e.client_event_id for e in events}) == len(events)
        assert ShiftService(home).gateway_status()["status"] == "ready"
        # delivering again changes nothing
        assert homeagent(home, "status").returncode == 0
        assert len(gateway.store.status_history("A1023")) == 6


def test_a_change_the_gateway_no_longer_takes_is_reported_and_the_pc_follows(
    gateway: Gateway, home: Path, tmp_path: Path
) -> None:
    enrolled(gateway, home, tmp_path)
    ShiftService(home).send_posture(passing_results())
    assert homeagent(home, "clock-in", "--accept-notice").returncode == 0
    session = gateway.store.open_session("A1023")
    assert session is not None
    gateway.store.end_session(session.id, "posture_expired", audit=gateway.audit)
    run = homeagent(home, "status", "ready")
    assert run.returncode == 1
    assert "The gateway did not take ready at" in run.stdout
    assert "not clocked in on this PC" in run.stdout
    assert "Not clocked in: run `homeagent clock-in`" in run.stdout
    assert ShiftService(home).session is None
    assert history(gateway)[-1] == ("offline", "posture_expired")
