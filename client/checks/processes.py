"""The processes check: none of policy's forbidden apps (remote control, screen recording) is
running. For the agent's privacy only the names that match the forbidden list leave this
module; the rest of the process list is read, matched and dropped."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .context import CheckContext
from .hints import listed
from .result import CheckResult, Hint, Status, judge

NAME = "processes"
MAX_NAME = 260
"""The longest name the gateway's report accepts."""


def forbidden_processes(names: Iterable[str], patterns: Sequence[str]) -> list[str]:
    """The names matching any pattern: case-insensitive, `*` and `?` wildcards (the gateway's
    rule, proxy/core/posture_check.py, which the client may not import)."""
    folded = [p.casefold() for p in patterns]
    return [n for n in names if any(fnmatch.fnmatchcase(n.casefold(), p) for p in folded)]


def matching_pattern(name: str, patterns: Sequence[str]) -> str:
    return next(p for p in patterns if fnmatch.fnmatchcase(name.casefold(), p.casefold()))


def running_names() -> Iterable[str]:
    """Names of the processes running now; the ones that vanish or hide as they are read are
    passed over."""
    import psutil

    for process in psutil.process_iter(["name"]):
        name = process.info.get("name")
        if isinstance(name, str) and name:
            yield name


def measure(patterns: Sequence[str], names: Iterable[str] | None = None) -> list[str]:
    """The running names that match `patterns`, each once, sorted; nothing else is kept."""
    if not patterns:
        return []
    found = forbidden_processes(running_names() if names is None else names, patterns)
    return sorted({name[:MAX_NAME] for name in found}, key=str.casefold)


def judge_processes(found: Sequence[str], limits: Mapping[str, Any]) -> CheckResult:
    level = str(limits.get("level", "required"))
    patterns = [str(p) for p in limits.get("forbidden", [])]
    running = forbidden_processes(found, patterns)
    status = judge(level, not running)
    hint = None
    if status in (Status.WARN, Status.FAIL):
        en_shown = listed([f"{n} (matches {matching_pattern(n, patterns)})" for n in running])
        zh_shown = listed([f"{n}（匹配禁止项 {matching_pattern(n, patterns)}）" for n in running])
        hint = Hint(
            zh=f"正在运行禁止使用的程序：{zh_shown}：请关闭后重新检查",
            en=f"Forbidden program running: {en_shown}: close it and check again",
        )
    return CheckResult(NAME, status, {"names": list(running)}, dict(limits), hint)


def run(limits: Mapping[str, Any], ctx: CheckContext) -> CheckResult:
    patterns = [str(p) for p in limits.get("forbidden", [])]
    return judge_processes(measure(patterns), limits)
