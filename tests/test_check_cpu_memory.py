"""The cpu and memory checks: their judges under every level, and a real measurement here."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from homeagent.client.checks import cpu, memory
from homeagent.client.checks.context import CheckContext, Progress
from homeagent.client.checks.cpu import CpuFacts, judge_cpu, parse_cpuinfo_model
from homeagent.client.checks.memory import MemoryFacts, judge_memory
from homeagent.client.checks.result import Status

CPU_LIMITS = {"min_logical_cores": 4, "max_load_percent": 90}
MEMORY_LIMITS = {"min_total_gb": 8, "min_available_gb": 2}


@pytest.mark.parametrize(
    ("facts", "level", "status"),
    [
        (CpuFacts(8, "Intel(R) Core(TM) i5-8250U", 35.0), "required", Status.PASS),
        (CpuFacts(4, None, 90.0), "required", Status.PASS),  # both limits are inclusive
        (CpuFacts(2, "AMD EPYC", 10.0), "required", Status.FAIL),
        (CpuFacts(2, "AMD EPYC", 10.0), "warn", Status.WARN),
        (CpuFacts(8, None, 97.5), "required", Status.FAIL),
        (CpuFacts(8, None, 97.5), "warn", Status.WARN),
        (CpuFacts(2, None, 97.5), "off", Status.SKIP),
        (CpuFacts(None, None, 5.0), "required", Status.FAIL),  # cores unknown: cannot pass
        (CpuFacts(8, None, None), "required", Status.PASS),  # load unmeasured: as the gateway
    ],
)
def test_cpu_judge(facts: CpuFacts, level: str, status: Status) -> None:
    result = judge_cpu(facts, {"level": level, **CPU_LIMITS})
    assert result.status is status
    assert result.limits == {"level": level, **CPU_LIMITS}
    assert (result.hint is not None) == (status in (Status.WARN, Status.FAIL))


def test_cpu_hints_say_the_figure_the_limit_and_what_to_do() -> None:
    hint = judge_cpu(CpuFacts(2, None, 97.5), {"level": "required", **CPU_LIMITS}).hint
    assert hint is not None
    assert hint.en == (
        "CPU has 2 logical cores, at least 4 needed: use a more powerful PC; "
        "CPU load 97.5%, limit 90%: close programs you do not need and check again"
    )
    assert hint.zh == (
        "CPU 逻辑核心 2 个，至少需要 4 个：请换用性能更强的电脑；"
        "CPU 占用 97.5%，上限 90%：请关闭不需要的程序后重新检查"
    )


X86_CPUINFO = """\
processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 142
model name\t: Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz
stepping\t: 10
"""
RASPBERRY_PI_CPUINFO = """\
processor\t: 0
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm crc32 cpuid
CPU implementer\t: 0x41
CPU part\t: 0xd08

Hardware\t: BCM2835
Revision\t: c03114
Model\t\t: Raspberry Pi 4 Model B Rev 1.4
"""


@pytest.mark.parametrize(
    ("text", "model"),
    [
        (X86_CPUINFO, "Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz"),
        (RASPBERRY_PI_CPUINFO, "Raspberry Pi 4 Model B Rev 1.4"),
        ("processor\t: 0\nBogoMIPS\t: 50.00\n", None),
    ],
)
def test_cpuinfo_model(text: str, model: str | None) -> None:
    assert parse_cpuinfo_model(text) == model


def test_cpu_measures_this_machine_with_progress() -> None:
    seen: list[Progress] = []
    facts = cpu.measure(seen.append, seconds=1.0)
    assert facts.logical_cores == os.cpu_count()
    assert facts.model == parse_cpuinfo_model(Path("/proc/cpuinfo").read_text())
    assert facts.load_percent is not None and 0 <= facts.load_percent <= 100
    assert [p.fraction for p in seen] == [0.0, 0.5, 1.0]
    assert {p.check for p in seen} == {"cpu"} and {p.phase for p in seen} == {"load"}
    assert all(p.value is not None and 0 <= p.value <= 100 for p in seen[1:])


def test_memory_measures_this_machine() -> None:
    facts = memory.measure()
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert facts.total_gb == round(pages / 1e9, 2)
    assert 0 < facts.available_gb <= facts.total_gb


@pytest.mark.parametrize(
    ("facts", "level", "status"),
    [
        (MemoryFacts(16.0, 9.3), "required", Status.PASS),
        (MemoryFacts(8.0, 2.0), "required", Status.PASS),
        (MemoryFacts(7.9, 5.0), "required", Status.FAIL),
        (MemoryFacts(7.9, 5.0), "warn", Status.WARN),
        (MemoryFacts(16.0, 1.2), "required", Status.FAIL),
        (MemoryFacts(16.0, 1.2), "warn", Status.WARN),
        (MemoryFacts(4.0, 0.5), "off", Status.SKIP),
    ],
)
def test_memory_judge(facts: MemoryFacts, level: str, status: Status) -> None:
    result = judge_memory(facts, {"level": level, **MEMORY_LIMITS})
    assert result.status is status
    assert result.measured == {"total_gb": facts.total_gb, "available_gb": facts.available_gb}
    assert (result.hint is not None) == (status in (Status.WARN, Status.FAIL))


def test_memory_hint() -> None:
    hint = judge_memory(MemoryFacts(7.9, 1.25), {"level": "required", **MEMORY_LIMITS}).hint
    assert hint is not None
    assert hint.en.startswith("Memory 7.9 GB, at least 8 GB needed: use a PC with more memory; ")
    assert "Free memory 1.25 GB, at least 2 GB needed: close programs" in hint.en
    assert hint.zh.startswith("内存 7.9 GB，至少需要 8 GB：请换用内存更大的电脑；可用内存 1.25 GB")


@pytest.mark.parametrize("module", [cpu, memory])
def test_run_under_the_bundled_limits(module: Any) -> None:
    from homeagent.client.checks.limits import bundled_thresholds

    limits = bundled_thresholds()[module.NAME]
    result = module.run(limits, CheckContext())
    assert result.name == module.NAME
    assert result.status in (Status.PASS, Status.FAIL)
    assert result.limits == limits
