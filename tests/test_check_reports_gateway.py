"""The client's reports of the host checks are what the gateway reads: fed through its parser
and judge (proxy/core), they validate and reach the same verdict as the client's own."""

from __future__ import annotations

import json
from typing import Any

import pytest

from homeagent.client.checks.context import CheckContext
from homeagent.client.checks.cpu import CpuFacts, judge_cpu
from homeagent.client.checks.limits import bundled_thresholds
from homeagent.client.checks.memory import MemoryFacts, judge_memory
from homeagent.client.checks.processes import judge_processes
from homeagent.client.checks.registry import run_checks
from homeagent.client.checks.removable_storage import judge_removable_storage
from homeagent.client.checks.result import CheckResult
from homeagent.proxy.core.policy.posture import PostureChecks
from homeagent.proxy.core.posture_check import evaluate_report
from homeagent.proxy.core.posture_report import parse_report

HOST_CHECKS = ["cpu", "memory", "removable_storage", "processes"]


def gateway_outcomes(results: list[CheckResult], thresholds: dict[str, Any]) -> dict[str, str]:
    report = {"version": 1, "checks": {r.name: r.to_report() for r in results}}
    data = json.dumps(report).encode()
    parse_report(data)  # refuses what it cannot read
    # the gateway judges only the checks reported here; the others are switched off
    policy = {name: {"level": "off"} for name in PostureChecks.model_fields}
    policy.update({r.name: thresholds[r.name] for r in results})
    verdict = evaluate_report(data, PostureChecks.model_validate(policy))
    return {r.name: verdict.result(r.name).outcome.value for r in results}


def test_this_machines_real_report_is_read_and_judged_alike() -> None:
    thresholds = bundled_thresholds()
    results = run_checks(thresholds, CheckContext(), only=HOST_CHECKS)
    assert [r.name for r in results] == HOST_CHECKS
    assert gateway_outcomes(results, thresholds) == {r.name: r.status.value for r in results}


LIMITS: dict[str, Any] = {
    "cpu": {"min_logical_cores": 4, "max_load_percent": 90},
    "memory": {"min_total_gb": 8, "min_available_gb": 2},
    "removable_storage": {},
    "processes": {"forbidden": ["x11vnc", "AnyDesk*", "obs"]},
}
CASES = [
    ("cpu", lambda lim: judge_cpu(CpuFacts(8, "Intel(R) Core(TM) i5", 12.5), lim)),
    ("cpu", lambda lim: judge_cpu(CpuFacts(2, "AMD EPYC", 12.5), lim)),
    ("cpu", lambda lim: judge_cpu(CpuFacts(4, None, 90.1), lim)),
    ("cpu", lambda lim: judge_cpu(CpuFacts(4, "ARM", None), lim)),
    ("memory", lambda lim: judge_memory(MemoryFacts(16.0, 9.75), lim)),
    ("memory", lambda lim: judge_memory(MemoryFacts(7.99, 9.75), lim)),
    ("memory", lambda lim: judge_memory(MemoryFacts(8.0, 1.99), lim)),
    ("removable_storage", lambda lim: judge_removable_storage([], lim)),
    ("removable_storage", lambda lim: judge_removable_storage(["/media/agent/KINGSTON"], lim)),
    ("removable_storage", lambda lim: judge_removable_storage(["E:\\", "F:\\"], lim)),
    ("processes", lambda lim: judge_processes([], lim)),
    ("processes", lambda lim: judge_processes(["AnyDesk.exe", "x11vnc"], lim)),
]


@pytest.mark.parametrize("level", ["required", "warn", "off"])
@pytest.mark.parametrize(("check", "make"), CASES)
def test_every_verdict_is_the_gateways(check: str, make: Any, level: str) -> None:
    limits = {"level": level, **LIMITS[check]}
    result: CheckResult = make(limits)
    assert gateway_outcomes([result], {check: limits}) == {check: result.status.value}
