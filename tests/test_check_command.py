"""`homeagent check`: the command end to end in a subprocess (JSON, the table in Chinese and
English, exit codes), its errors, its progress lines, and the seam for an enrolled PC."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from homeagent.client.checks.checklist import run_each
from homeagent.client.checks.context import GatewayEndpoint, Progress
from homeagent.client.checks.readout import width
from homeagent.client.checks.result import CheckResult, Hint, Status
from homeagent.client.cli import main
from homeagent.client.commands.check import (
    ProgressLines,
    gateway_endpoint,
    render_table,
    wrapped,
)
from homeagent.client.state import Enrolment, save_enrolment
from homeagent.proxy.core.posture_report import parse_report

HOMEAGENT = Path(sys.executable).parent / "homeagent"
HOST_CHECKS = "cpu,memory,removable_storage,processes"


def homeagent(
    home: Path, *args: str, lang: str = "en_US.UTF-8"
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOMEAGENT_HOME": str(home), "LANG": lang}
    env.pop("LC_ALL", None)
    env.pop("LC_MESSAGES", None)
    return subprocess.run(
        [str(HOMEAGENT), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A client home with no enrolment, for subprocesses and for in-process runs alike."""
    path = tmp_path / "home"
    monkeypatch.setenv("HOMEAGENT_HOME", str(path))
    return path


def test_json_of_the_host_checks(home: Path) -> None:
    run = homeagent(home, "check", "--json", "--only", HOST_CHECKS)
    document = json.loads(run.stdout)
    assert set(document) == {"passed", "checks"}
    checks: list[dict[str, Any]] = document["checks"]
    assert [c["name"] for c in checks] == HOST_CHECKS.split(",")
    for check in checks:
        assert set(check) == {"name", "status", "measured", "limits", "hint"}
        assert check["status"] in ("pass", "warn", "fail", "skip")
        assert (check["hint"] is None) == (check["status"] == "pass")
    assert document["passed"] == all(c["status"] != "fail" for c in checks)
    assert run.returncode == (0 if document["passed"] else 1)
    assert isinstance(checks[0]["measured"]["logical_cores"], int)
    assert set(checks[1]["measured"]) == {"total_gb", "available_gb"}
    assert checks[2]["measured"] == {"mounted": []}
    # what was measured is a report the gateway reads
    report = {c["name"]: {"status": c["status"], "measurements": c["measured"]} for c in checks}
    parse_report(json.dumps({"version": 1, "checks": report}).encode())
    # the CPU's load takes 3 s: its progress shows on stderr as plain lines, nothing else does
    progress = run.stderr.splitlines()
    assert progress and all(line.startswith("CPU · load ") for line in progress)
    assert progress[-1].endswith("100% done")


def test_table_in_chinese(home: Path) -> None:
    run = homeagent(home, "check", "--only", "memory,removable_storage", lang="zh_CN.UTF-8")
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "居家环境检查"
    assert lines[2].startswith("  内存          通过    共 ")
    assert lines[3] == "  USB 存储设备  通过    未连接"
    assert lines[-1] == "全部通过。"
    assert run.stderr == ""


def test_table_in_english_by_option(home: Path) -> None:
    run = homeagent(
        home, "--lang", "en", "check", "--only", "memory,removable_storage", lang="zh_CN.UTF-8"
    )
    assert run.returncode == 0
    lines = run.stdout.splitlines()
    assert lines[0] == "Home-setup checks"
    assert lines[3] == "  USB storage  pass     none connected"
    assert lines[-1] == "All passed."


@pytest.fixture
def forbidden_running(tmp_path: Path) -> Iterator[None]:
    program = tmp_path / "x11vnc"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", program)
    process = subprocess.Popen([str(program), "60"])
    try:
        yield
    finally:
        process.kill()
        process.wait(timeout=10)


@pytest.mark.usefixtures("forbidden_running")
@pytest.mark.parametrize(
    ("lang", "hint"),
    [
        (
            "en_GB.UTF-8",
            "    → Forbidden program running: x11vnc (matches x11vnc): close it and check",
        ),
        (
            "zh_CN.UTF-8",
            "    → 正在运行禁止使用的程序：x11vnc（匹配禁止项 x11vnc）：请关闭后重新检查",
        ),
    ],
)
def test_a_failing_check_exits_1_and_says_what_to_do(home: Path, lang: str, hint: str) -> None:
    run = homeagent(home, "check", "--only", "processes", lang=lang)
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert "x11vnc" in lines[2]
    assert lines[3].startswith(hint)
    assert lines[-1].startswith(("Not passed: 1 failed", "未通过：1 项未通过"))


def test_network_is_skipped_before_enrolment_and_says_so(home: Path) -> None:
    run = homeagent(home, "check", "--json", "--only", "network")
    assert run.returncode == 0  # a skip does not fail
    (network,) = json.loads(run.stdout)["checks"]
    assert network["status"] == "skip"
    assert network["limits"]["max_rtt_ms"] == 150
    assert network["hint"].startswith("Not enrolled with a company gateway, so the network")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--only", "cpu,sound"],
            "no check named sound: choose from cpu, memory, network, "
            "noise, audio_devices, removable_storage, processes",
        ),
        (["--only", ","], "--only needs a check"),
        (["--gateway", "https://gw.acme.test:8443"], "--gateway needs this PC enrolled"),
        (["--gateway", "gw.acme.test:8443"], "gateway address gw.acme.test:8443 is not valid"),
    ],
)
@pytest.mark.usefixtures("home")
def test_errors_are_one_plain_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["--lang", "en", "check", *args]) == 1
    out = capsys.readouterr()
    assert out.out == "" and out.err.startswith(message) and out.err.count("\n") == 1


def test_an_enrolled_pc_without_its_key_is_told_to_enrol_again(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # (checks against the gateway's limits are in test_session_cli.py, with a real gateway)
    save_enrolment(Enrolment("A1023", "inbound", "https://127.0.0.1:9", "127.0.0.1:8080", "ca.pem"))
    assert main(["--lang", "en", "check", "--only", "memory"]) == 1
    assert "device key is missing or unreadable" in capsys.readouterr().err


def test_gateway_endpoint_uses_the_enrolled_ca() -> None:
    enrolment = Enrolment("A1", "inbound", "https://gw.test:8443", "gw.test:8080", "/h/ca.pem")
    assert gateway_endpoint(None, None, "en") is None
    assert gateway_endpoint(None, enrolment, "en") == GatewayEndpoint(
        "https://gw.test:8443", Path("/h/ca.pem")
    )
    assert gateway_endpoint("https://10.0.0.5:9443/", enrolment, "en") == GatewayEndpoint(
        "https://10.0.0.5:9443", Path("/h/ca.pem")
    )


def test_a_check_that_breaks_down_does_not_pass_and_the_others_run(home: Path) -> None:
    started: list[str] = []
    thresholds = {
        "memory": {"level": "required", "min_total_gb": 1},
        "processes": {"level": "warn", "forbidden": 5},  # not a list: the check breaks down
    }
    from homeagent.client.checks.context import CheckContext

    results = run_each(thresholds, CheckContext(), ["processes", "memory"], started.append)
    assert started == ["memory", "processes"]  # checklist order
    assert [r.status for r in results] == [Status.PASS, Status.WARN]
    hint = results[1].hint
    assert hint is not None and hint.en.startswith("This check could not run (TypeError: ")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_progress_lines_after_a_second_at_most_one_a_second() -> None:
    stream, clock = io.StringIO(), Clock()
    lines = ProgressLines(stream, "en", clock)
    lines.start("network")
    for at, fraction in [(0.0, 0.0), (0.5, 0.1), (1.2, 0.2), (1.9, 0.3), (2.3, 0.4)]:
        clock.now = 100 + at
        lines(Progress("network", fraction=fraction, phase="download", value=8.5))
    lines(Progress("network", message=Hint("请稍候", "Please wait")))
    lines.close()
    assert stream.getvalue().splitlines() == [
        "Network · download 8.5 Mbit/s · 20% done",
        "Network · download 8.5 Mbit/s · 40% done",
        "Network: Please wait",
    ]


def test_a_terminal_gets_one_line_rewritten_and_cleared() -> None:
    stream, clock = Terminal(), Clock()
    lines = ProgressLines(stream, "zh", clock)
    lines.start("cpu")
    clock.now = 101.5
    lines(Progress("cpu", fraction=0.5, phase="load", value=12))
    clock.now = 101.6
    lines(Progress("cpu", fraction=1.0, phase="load", value=14))
    lines.close()
    assert stream.getvalue() == (
        "\r\x1b[K处理器 · 占用 12% · 已完成 50%\r\x1b[K处理器 · 占用 14% · 已完成 100%\r\x1b[K"
    )


def test_messages_for_the_agent_show_at_once() -> None:
    stream = io.StringIO()
    lines = ProgressLines(stream, "zh", Clock())
    lines(Progress("noise", phase="recording", message=Hint("请保持安静 5 秒", "Stay silent")))
    assert stream.getvalue() == "背景噪声: 请保持安静 5 秒\n"


def test_the_chinese_table_lines_up_and_wraps_within_the_terminal() -> None:
    long = Hint(zh="这是一条很长的提示，" * 12, en="a long hint " * 20)
    results = [
        CheckResult("memory", Status.PASS, {"total_gb": 16.0, "available_gb": 9.5}),
        CheckResult("removable_storage", Status.FAIL, {"mounted": ["E:\\"]}, hint=long),
        CheckResult("audio_devices", Status.WARN, {"input": True, "output": False}, hint=long),
        CheckResult("network", Status.PASS, {"rtt_ms": 21.5, "mos": 4.3}),
    ]
    for lang in ("zh", "en"):
        table = render_table(results, False, lang, columns=60).splitlines()
        rows = [line for line in table if line.startswith("  ") and not line.startswith("    ")]
        assert len(rows) == 4
        status_at = {width(r[: r.index(w)]) for r, w in zip(rows, _words(lang), strict=True)}
        assert len(status_at) == 1  # every status starts in the same column
        assert all(width(line) <= 60 for line in table if line.startswith("    "))
    zh = render_table(results, False, "zh")
    assert "麦克风 有 · 耳机/扬声器 无" in zh and "MOS 4.3 (优)" in zh


def _words(lang: str) -> list[str]:
    return (
        ["通过", "未通过", "警告", "通过"] if lang == "zh" else ["pass", "FAIL", "warning", "pass"]
    )


@pytest.mark.parametrize(
    "text",
    [
        "CPU has 2 logical cores, at least 4 needed: use a more powerful PC",
        "尚未登记到公司网关，已跳过网络检查：请先运行 homeagent enrol 登记码 --gateway 网址",
    ],
)
def test_wrapping_keeps_every_word(text: str) -> None:
    lines = wrapped(text, 24)
    assert all(width(line) <= 24 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_starting_the_command_line_loads_no_check_library() -> None:
    code = (
        "import sys; from homeagent.client.cli import build_parser; build_parser(); "
        "print(' '.join(sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {m.split(".")[0] for m in out.stdout.split()}
    assert not loaded & {"psutil", "ruamel", "numpy", "textual"}


def test_on_a_terminal_progress_is_one_line_rewritten(home: Path) -> None:
    import pty
    import select

    leader, follower = pty.openpty()
    env = {**os.environ, "HOMEAGENT_HOME": str(home), "LANG": "en_US.UTF-8"}
    process = subprocess.Popen(
        [str(HOMEAGENT), "check", "--json", "--only", "cpu,memory"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=follower,
    )
    os.close(follower)
    seen = b""
    try:
        for _ in range(200):  # bounded: about 20 s at most
            ready, _, _ = select.select([leader], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:  # the command closed the terminal: it is done
                    break
                if not chunk:
                    break
                seen += chunk
            elif process.poll() is not None:
                break
        out, _ = process.communicate(timeout=20)
    finally:
        process.kill()
        os.close(leader)
    assert json.loads(out)["checks"][1]["name"] == "memory"
    text = seen.decode()
    assert "\n" not in text.replace("\r\n", "")  # no line of its own: rewritten in place
    assert text.startswith("\r\x1b[KCPU · load ") and text.endswith("100% done\r\x1b[K")
