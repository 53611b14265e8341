"""The demo: its policy relaxes only the home checks (every role's at `warn`, so any PC can clock
in, and its notice says so), and `homeagent-proxy demo --self-test` (what `scripts/demo
--self-test` runs) drives a whole shift through the real `homeagent` command and exits."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

from homeagent.proxy.core.policy.base import Level
from homeagent.proxy.core.policy.loader import load_policy
from homeagent.proxy.core.policy.posture import CHECK_NAMES

ROOT = Path(__file__).resolve().parent.parent
DEMO_POLICY = ROOT / "policies" / "examples" / "demo.yaml"
ACME = ROOT / "policies" / "examples" / "acme.yaml"
PROXY = Path(sys.executable).parent / "homeagent-proxy"
SELF_TEST_S = 240


def test_the_demo_policy_only_warns_about_home_checks() -> None:
    demo = load_policy(DEMO_POLICY).policy
    acme = load_policy(ACME).policy
    for role in ("inbound", "chat", "supervisor"):
        checks = demo.posture.for_role(role)
        assert {getattr(checks, name).level for name in CHECK_NAMES} == {Level.WARN}, role
        # the thresholds themselves are ACME's: the warnings say what a real deployment wants
        assert checks.cpu.min_logical_cores == acme.posture.for_role(role).cpu.min_logical_cores
    assert "DEMO" in demo.notice.en and "演示" in demo.notice.zh
    assert demo.roles.keys() == acme.roles.keys()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_self_test_drives_a_shift_through_the_client(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            str(PROXY),
            "demo",
            "--self-test",
            "--policy",
            str(DEMO_POLICY),
            "--data-dir",
            str(tmp_path / "data"),
            "--listen",
            f"127.0.0.1:{free_port()}",
            "--control",
            f"127.0.0.1:{free_port()}",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=SELF_TEST_S,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    assert "403  GET https://crm.acme.test/admin/export.jsonl" in out
    steps = [line for line in out.splitlines() if line.startswith("client  ")]
    expected = [
        "homeagent enrol (agent A1002",
        "homeagent check --only",
        "gateway: passed",
        "homeagent clock-in",
        "homeagent status ready",
        "200 (masked, watermarked)",
        "Clocked out",
        "stopped at clock-out",
    ]
    assert len(steps) == len(expected), steps
    for step, fragment in zip(steps, expected, strict=True):
        assert fragment in step
    assert (tmp_path / "data" / "agent-home" / "device-key.pem").exists()


def test_the_demo_stops_when_its_terminal_hangs_up(tmp_path: Path) -> None:
    # `run` reloads its policy on SIGHUP (a daemon's convention); the demo lives in a terminal,
    # and a closed terminal must not leave its gateway and sample app running
    listen = free_port()
    demo = subprocess.Popen(
        [
            str(PROXY),
            "demo",
            "--data-dir",
            str(tmp_path / "data"),
            "--listen",
            f"127.0.0.1:{listen}",
            "--control",
            f"127.0.0.1:{free_port()}",
            "--workers",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert demo.stdout is not None
        for line in demo.stdout:  # ends at EOF if the demo dies before it is ready
            if "Ctrl-C" in line:
                break
        demo.send_signal(signal.SIGHUP)
        assert demo.wait(timeout=30) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait(timeout=10)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", listen)) != 0, "the proxy port is still open"
