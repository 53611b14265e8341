"""The memory check: enough memory in the PC, and enough of it free for the softphone and the
business apps. Figures are in GB of 10^9 bytes, as PCs are sold."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .context import CheckContext
from .hints import joined, number
from .result import CheckResult, Hint, Status, judge

NAME = "memory"
GB = 1e9


@dataclass(frozen=True, slots=True)
class MemoryFacts:
    total_gb: float
    available_gb: float
    """What programs can still get without swapping (psutil's `available`)."""


def measure() -> MemoryFacts:
    import psutil

    memory = psutil.virtual_memory()
    # Rounded before judging, so the client and the gateway judge the same figure.
    return MemoryFacts(round(memory.total / GB, 2), round(memory.available / GB, 2))


def judge_memory(facts: MemoryFacts, limits: Mapping[str, Any]) -> CheckResult:
    level = str(limits.get("level", "required"))
    measured = {"total_gb": facts.total_gb, "available_gb": facts.available_gb}
    problems: list[Hint] = []
    min_total = limits.get("min_total_gb")
    if min_total is not None and facts.total_gb < min_total:
        value, limit = number(facts.total_gb), number(min_total)
        problems.append(
            Hint(
                zh=f"内存 {value} GB，至少需要 {limit} GB：请换用内存更大的电脑",
                en=f"Memory {value} GB, at least {limit} GB needed: use a PC with more memory",
            )
        )
    min_available = limits.get("min_available_gb")
    if min_available is not None and facts.available_gb < min_available:
        value, limit = number(facts.available_gb), number(min_available)
        problems.append(
            Hint(
                zh=f"可用内存 {value} GB，至少需要 {limit} GB：请关闭不需要的程序和浏览器标签页"
                "后重新检查",
                en=f"Free memory {value} GB, at least {limit} GB needed: close programs and "
                "browser tabs you do not need, then check again",
            )
        )
    status = judge(level, not problems)
    hint = joined(problems) if status in (Status.WARN, Status.FAIL) else None
    return CheckResult(NAME, status, measured, dict(limits), hint)


def run(limits: Mapping[str, Any], ctx: CheckContext) -> CheckResult:
    return judge_memory(measure(), limits)
