"""Posture reports judged by the gateway: limits per check, levels, hints in both languages, and
reports that cannot be read refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from homeagent.proxy.core.policy.posture import CHECK_NAMES, PostureChecks
from homeagent.proxy.core.posture_check import (
    JUDGES,
    evaluate_report,
    forbidden_processes,
)
from homeagent.proxy.core.posture_report import Outcome, PostureReportError

from .control_fixtures import posture_report as report

FORBIDDEN = ["TeamViewer*", "AnyDesk*", "x11vnc", "remoting_host?"]


def policy(**overrides: dict[str, Any]) -> PostureChecks:
    base = PostureChecks().merged({"processes": {"forbidden": FORBIDDEN}})
    return base.merged(overrides)


def test_a_judge_for_every_check_of_the_policy() -> None:
    assert tuple(JUDGES) == CHECK_NAMES


def test_a_good_report_passes_every_check() -> None:
    verdict = evaluate_report(report(), policy())
    assert verdict.passed and verdict.failing == () and verdict.warnings == ()
    assert [r.outcome for r in verdict.results] == [Outcome.PASS] * len(CHECK_NAMES)


def test_the_noise_hint_reads_as_the_agent_should_see_it() -> None:
    # -62 dBFS(A) with the default calibration offset of 120 dB is 58 dB(A)
    verdict = evaluate_report(report(noise={"dbfs_a": -62.0}), policy())
    noise = verdict.result("noise")
    assert verdict.failing == ("noise",) and noise.outcome is Outcome.FAIL
    assert noise.hint is not None
    assert noise.hint.en == (
        "Background noise 58 dB(A), limit 50: move to a quieter room or close the window"
    )
    assert noise.hint.zh == "背景噪声 58 dB(A)，上限 50：请换到更安静的房间或关上窗户"
    assert noise.measured["dba"] == 58.0 and noise.limits == {"max_dba": 50.0}


@pytest.mark.parametrize(
    ("check", "changed", "measurement", "en", "zh"),
    [
        ("cpu", {"logical_cores": 2}, "cpu.logical_cores", "2 logical cores, at least 4", "2 个"),
        ("cpu", {"load_percent": 97.5}, "cpu.load_percent", "CPU load 97.5%, limit 90%", "97.5%"),
        ("memory", {"total_gb": 4}, "memory.total_gb", "Memory 4 GB, at least 8 GB", "内存 4 GB"),
        ("memory", {"available_gb": 1.25}, "memory.available_gb", "Free memory 1.25 GB", "1.25"),
        ("network", {"rtt_ms": 180}, "network.rtt_ms", "delay 180 ms, limit 150", "网络延迟"),
        ("network", {"jitter_ms": 31}, "network.jitter_ms", "jitter 31 ms, limit 30", "网络抖动"),
        ("network", {"loss_percent": 2.5}, "network.loss_percent", "loss 2.5%, limit 1%", "丢包"),
        ("network", {"mos": 3.2}, "network.mos", "(MOS) 3.2, at least 3.6", "通话质量"),
        ("network", {"download_mbps": 3}, "network.download_mbps", "Download speed 3", "下载"),
        ("network", {"upload_mbps": 1}, "network.upload_mbps", "Upload speed 1 Mbit/s", "上传"),
        ("noise", {"dead_mic": True}, "noise.dead_mic", "picks up no sound", "麦克风没有"),
        ("noise", {"clipping": True}, "noise.clipping", "overloaded", "过载"),
        ("audio_devices", {"input": False}, "audio_devices.input", "No microphone", "未找到麦克风"),
        ("audio_devices", {"output": False}, "audio_devices.output", "No headphones", "扬声器"),
        (
            "removable_storage",
            {"mounted": ["E:\\ KINGSTON"]},
            "removable_storage.mounted",
            "USB storage connected (E:\\ KINGSTON)",
            "USB 存储设备（E:\\ KINGSTON）",
        ),
        (
            "processes",
            {"names": ["teamviewer.exe"]},
            "processes.names",
            "Forbidden program running (teamviewer.exe)",
            "禁止使用的程序（teamviewer.exe）",
        ),
    ],
)
def test_each_limit_fails_its_required_check_with_a_hint(
    check: str, changed: dict[str, Any], measurement: str, en: str, zh: str
) -> None:
    verdict = evaluate_report(report(**{check: changed}), policy())
    assert verdict.failing == (check,)
    result = verdict.result(check)
    assert [s.measurement for s in result.shortfalls] == [measurement]
    assert result.hint is not None and en in result.hint.en and zh in result.hint.zh


@pytest.mark.parametrize(
    ("changes", "measurement"),
    [
        ({"cpu": None}, "cpu.logical_cores"),
        ({"memory": {"available_gb": None}}, "memory.available_gb"),
        ({"network": {"mos": None}}, "network.mos"),
        ({"noise": {"dbfs_a": None}}, "noise.dbfs_a"),
        ({"audio_devices": {"input": None}}, "audio_devices.input"),
        ({"removable_storage": None}, "removable_storage.mounted"),
        ({"processes": None}, "processes.names"),
    ],
)
def test_a_required_measurement_missing_fails_its_check(
    changes: dict[str, Any], measurement: str
) -> None:
    verdict = evaluate_report(report(**changes), policy())
    check = measurement.split(".")[0]
    assert verdict.failing == (check,)
    (shortfall,) = verdict.result(check).shortfalls
    assert shortfall.measurement == measurement and shortfall.measured is None
    assert "was not measured: run the checks again" in shortfall.hint.en
    assert "未测量：请重新运行检查" in shortfall.hint.zh


def test_a_check_the_client_skipped_fails_when_required() -> None:
    data = json.loads(report())
    data["checks"]["noise"] = {"status": "skip"}
    verdict = evaluate_report(json.dumps(data).encode(), policy())
    assert verdict.failing == ("noise",)
    assert verdict.result("noise").client_status is Outcome.SKIP


def test_the_clients_own_verdict_is_not_trusted() -> None:
    data = json.loads(report(memory={"total_gb": 2}))
    data["checks"]["memory"]["status"] = "pass"
    verdict = evaluate_report(json.dumps(data).encode(), policy())
    memory = verdict.result("memory")
    assert memory.outcome is Outcome.FAIL and memory.client_status is Outcome.PASS


@pytest.mark.parametrize(
    ("level", "outcome", "passed"),
    [("required", Outcome.FAIL, False), ("warn", Outcome.WARN, True), ("off", Outcome.SKIP, True)],
)
def test_levels_decide_what_a_shortfall_means(level: str, outcome: Outcome, passed: bool) -> None:
    verdict = evaluate_report(report(noise={"dbfs_a": -50.0}), policy(noise={"level": level}))
    assert verdict.result("noise").outcome is outcome
    assert verdict.passed is passed
    assert verdict.warnings == (("noise",) if outcome is Outcome.WARN else ())


def test_an_off_check_needs_no_measurement() -> None:
    verdict = evaluate_report(report(network=None), policy(network={"level": "off"}))
    assert verdict.passed and verdict.result("network").outcome is Outcome.SKIP


def test_a_warn_check_not_measured_warns() -> None:
    verdict = evaluate_report(report(cpu=None), policy(cpu={"level": "warn"}))
    assert verdict.passed and verdict.warnings == ("cpu",)


def test_cpu_load_is_judged_only_when_measured() -> None:
    data = json.loads(report())
    del data["checks"]["cpu"]["measurements"]["load_percent"]
    verdict = evaluate_report(json.dumps(data).encode(), policy())
    assert verdict.passed and "max_load_percent" not in verdict.result("cpu").limits


def test_role_thresholds_apply() -> None:
    lenient = policy(network={"min_download_mbps": 2, "min_upload_mbps": 1})
    slow = report(network={"download_mbps": 3, "upload_mbps": 1.5})
    assert not evaluate_report(slow, policy()).passed
    assert evaluate_report(slow, lenient).passed


def test_the_headset_calibration_is_chosen_by_the_microphones_name() -> None:
    checks = policy(
        noise={
            "headsets": {
                "Jabra": {"offset_db": 100, "uncertainty_db": 3},
                "Jabra Evolve2": {"offset_db": 105, "uncertainty_db": 2},
            }
        }
    )
    verdict = evaluate_report(
        report(noise={"dbfs_a": -50.0, "input_device": "Headset (JABRA EVOLVE2 65)"}), checks
    )
    noise = verdict.result("noise")
    assert noise.measured["calibration"] == "Jabra Evolve2"
    assert noise.measured["dba"] == 55.0 and noise.measured["uncertainty_db"] == 2
    other = evaluate_report(report(noise={"dbfs_a": -50.0, "input_device": "Realtek"}), checks)
    assert other.result("noise").measured == {**other.result("noise").measured, "dba": 70.0}


def test_no_forbidden_list_means_no_process_check() -> None:
    verdict = evaluate_report(report(processes=None), policy(processes={"forbidden": []}))
    assert verdict.passed


@pytest.mark.parametrize(
    ("name", "forbidden"),
    [
        ("TeamViewer.exe", True),
        ("TEAMVIEWER_service", True),
        ("anydesk", True),
        ("x11vnc", True),
        ("x11vnc.exe", False),
        ("remoting_host1", True),
        ("remoting_host12", False),
        ("chrome.exe", False),
        ("Team", False),
    ],
)
def test_processes_match_case_insensitively_with_wildcards(name: str, forbidden: bool) -> None:
    assert forbidden_processes([name], FORBIDDEN) == ([name] if forbidden else [])


@given(st.from_regex(r"[A-Za-z0-9._-]{1,30}", fullmatch=True))
def test_a_pattern_without_wildcards_matches_only_that_name_in_any_case(name: str) -> None:
    assert forbidden_processes([name.upper(), name + "x"], [name.lower()]) == [name.upper()]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe", "Invalid JSON"),
        (b"[]", "should be an object"),
        (b'{"checks": {}}', "version: Field required"),
        (b'{"version": 2, "checks": {}}', "version: Input should be 1"),
        (
            b'{"version": 1, "checks": {"cpu": {"measurements": {"logical_cores": "8"}}}}',
            "checks.cpu.measurements.logical_cores: Input should be a valid integer",
        ),
        (
            b'{"version": 1, "checks": {"memory": {"measurements": {"total_gb": NaN}}}}',
            "finite number",
        ),
        (
            b'{"version": 1, "checks": {"memory": {"measurements": {"total_gb": -1}}}}',
            "greater than or equal to 0",
        ),
        (
            b'{"version": 1, "checks": {"audio_devices": {"measurements": {"input": 1}}}}',
            "valid boolean",
        ),
        (b'{"version": 1, "checks": {"noise": {"status": "great"}}}', "checks.noise.status"),
        (b'{"version": 1, "checks": {}, "pad": "' + b"x" * 70_000 + b'"}', "at most 65536"),
    ],
)
def test_an_unreadable_report_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(PostureReportError, match=message.replace("(", r"\(").replace(")", r"\)")):
        evaluate_report(data, policy())


def test_unknown_checks_and_fields_from_a_newer_client_are_ignored() -> None:
    data = json.loads(report())
    data["checks"]["gpu"] = {"status": "pass", "measurements": {"vram_gb": 8}}
    data["checks"]["cpu"]["measurements"]["model"] = "i5"
    assert evaluate_report(json.dumps(data).encode(), policy()).passed


def test_the_verdict_serialises_to_json() -> None:
    verdict = evaluate_report(report(noise={"dbfs_a": -62.0}), policy())
    encoded = json.loads(json.dumps(verdict.as_json(), ensure_ascii=False))
    assert encoded["passed"] is False and encoded["failing"] == ["noise"]
    noise = next(c for c in encoded["checks"] if c["check"] == "noise")
    assert noise["hint"]["zh"].startswith("背景噪声 58 dB(A)")
    assert noise["client_status"] == "pass" and noise["level"] == "required"
