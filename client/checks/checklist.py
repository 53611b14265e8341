"""The whole checklist, run the way an agent sees it: each check in order under its limits,
the network check skipped (and saying why) without a gateway, and a check that breaks down
reported as not passing while the others still run."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .context import CheckContext
from .registry import CHECK_NAMES, run_check
from .result import CheckResult, Hint, Status, judge

NOT_ENROLLED = Hint(
    zh="尚未登记到公司网关，已跳过网络检查：请先运行 homeagent enrol 登记码 --gateway 网址",
    en="Not enrolled with a company gateway, so the network check was skipped: run "
    "`homeagent enrol CODE --gateway URL` first",
)


def checklist_names(only: Sequence[str] | None) -> list[str]:
    """The checks to run (all by default), in checklist order."""
    wanted = set(CHECK_NAMES if only is None else only)
    return [name for name in CHECK_NAMES if name in wanted]


def run_each(
    thresholds: Mapping[str, Mapping[str, Any]],
    ctx: CheckContext,
    only: Sequence[str] | None,
    starting: Callable[[str], None],
    finished: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Each check in checklist order through the registry, calling `starting` before a check
    that runs and `finished` with every result. Without a gateway the network check is skipped
    and says why; a check that breaks down (a missing module included) does not pass and says
    so, and the others still run."""
    results = []
    for name in checklist_names(only):
        result = _run_one(name, dict(thresholds.get(name, {"level": "off"})), ctx, starting)
        if finished is not None:
            finished(result)
        results.append(result)
    return results


def _run_one(
    name: str, limits: dict[str, Any], ctx: CheckContext, starting: Callable[[str], None]
) -> CheckResult:
    if limits.get("level", "required") == "off":
        return CheckResult(name, Status.SKIP, limits=limits)
    if name == "network" and ctx.gateway is None:
        return CheckResult(name, Status.SKIP, limits=limits, hint=NOT_ENROLLED)
    starting(name)
    try:
        return run_check(name, limits, ctx)
    except Exception as err:  # the edge where one check's fault becomes its result
        return broken_check(name, limits, err)


def broken_check(name: str, limits: dict[str, Any], err: Exception) -> CheckResult:
    status = judge(str(limits.get("level", "required")), False)
    reason = f"{type(err).__name__}: {err}"[:200]
    hint = Hint(
        zh=f"此项检查无法完成（{reason}）：请重新运行检查，仍不行请联系技术支持",
        en=f"This check could not run ({reason}): run the checks again, and call support if "
        "it stays so",
    )
    return CheckResult(name, status, limits=limits, hint=hint)
