"""The cpu check: enough logical cores for the softphone and the business apps, and a load low
enough that calls do not stutter. Measuring (psutil, /proc/cpuinfo) is apart from judging."""

from __future__ import annotations

import platform
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .context import CheckContext, Progress, ProgressCallback
from .hints import joined, not_measured, number
from .result import CheckResult, Hint, Status, judge

NAME = "cpu"
LOAD_SECONDS = 3.0
"""How long the load is sampled: long enough to average out a passing spike."""
SAMPLE_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class CpuFacts:
    logical_cores: int | None
    model: str | None
    load_percent: float | None
    """Whole machine, all cores, averaged over the sampling window."""


# Keys that name the processor, in order of preference: x86, then ARM boards, old ARM, MIPS.
_CPUINFO_KEYS = ("model name", "Model", "Hardware", "Processor", "cpu model")


def parse_cpuinfo_model(text: str) -> str | None:
    """The processor's name from Linux's /proc/cpuinfo text."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if sep and value and key in _CPUINFO_KEYS and key not in found:
            found[key] = value
    return next((found[k] for k in _CPUINFO_KEYS if k in found), None)


def cpu_model() -> str | None:
    """The processor's marketing name where the OS keeps it, else what `platform` knows."""
    model: str | None = None
    try:
        if sys.platform.startswith("linux"):
            model = parse_cpuinfo_model(Path("/proc/cpuinfo").read_text("utf-8", "replace"))
        elif sys.platform == "darwin":
            out = subprocess.run(
                ["/usr/sbin/sysctl", "-n", "machdep.cpu.brand_string"],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            )
            model = out.stdout.strip() or None
        elif sys.platform == "win32":
            import winreg

            key = r"HARDWARE\DESCRIPTION\System\CentralProcessor\0"
            with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key) as handle:
                model = str(winreg.QueryValueEx(handle, "ProcessorNameString")[0]).strip() or None
    except (OSError, subprocess.SubprocessError):
        model = None
    return model or platform.processor() or platform.machine() or None


def measure_load(seconds: float, progress: ProgressCallback) -> float:
    """Mean whole-machine CPU load in percent over `seconds`, reporting each sample."""
    import psutil

    samples = max(1, round(seconds / SAMPLE_SECONDS))
    psutil.cpu_percent(interval=None)  # starts the window; its own figure is meaningless
    values: list[float] = []
    progress(Progress(NAME, fraction=0.0, phase="load"))
    for i in range(samples):
        time.sleep(SAMPLE_SECONDS)
        value = float(psutil.cpu_percent(interval=None))
        values.append(value)
        progress(Progress(NAME, fraction=(i + 1) / samples, phase="load", value=value))
    return min(100.0, max(0.0, sum(values) / len(values)))


def measure(progress: ProgressCallback, seconds: float = LOAD_SECONDS) -> CpuFacts:
    import psutil

    load = measure_load(seconds, progress)
    return CpuFacts(psutil.cpu_count(logical=True), cpu_model(), round(load, 1))


def judge_cpu(facts: CpuFacts, limits: Mapping[str, Any]) -> CheckResult:
    """Cores at least `min_logical_cores`; load at most `max_load_percent` when measured (as
    the gateway judges it)."""
    level = str(limits.get("level", "required"))
    measured = {
        "logical_cores": facts.logical_cores,
        "model": facts.model,
        "load_percent": facts.load_percent,
    }
    problems: list[Hint] = []
    min_cores = limits.get("min_logical_cores")
    if min_cores is not None:
        if facts.logical_cores is None:
            problems.append(not_measured("CPU 核心数", "The number of CPU cores"))
        elif facts.logical_cores < min_cores:
            problems.append(
                Hint(
                    zh=f"CPU 逻辑核心 {facts.logical_cores} 个，至少需要 {min_cores} 个："
                    "请换用性能更强的电脑",
                    en=f"CPU has {facts.logical_cores} logical cores, at least {min_cores} "
                    "needed: use a more powerful PC",
                )
            )
    max_load = limits.get("max_load_percent")
    if max_load is not None and facts.load_percent is not None and facts.load_percent > max_load:
        load, limit = number(facts.load_percent), number(max_load)
        problems.append(
            Hint(
                zh=f"CPU 占用 {load}%，上限 {limit}%：请关闭不需要的程序后重新检查",
                en=f"CPU load {load}%, limit {limit}%: close programs you do not need and "
                "check again",
            )
        )
    status = judge(level, not problems)
    hint = joined(problems) if status in (Status.WARN, Status.FAIL) else None
    return CheckResult(NAME, status, measured, dict(limits), hint)


def run(limits: Mapping[str, Any], ctx: CheckContext) -> CheckResult:
    return judge_cpu(measure(ctx.progress), limits)
