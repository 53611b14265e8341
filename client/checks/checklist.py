"""The whole checklist, run the way an agent sees it: each check in order under its limits,
the network check skipped (and saying why) without a gateway, and a check that breaks down
reported as not passing while the others still run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .context import CheckContext
from .registry import CHECK_NAMES, run_checks
from .result import CheckResult, Hint, Status, judge

if TYPE_CHECKING:
    from .limits import Thresholds


NOT_ENROLLED = Hint(
    zh="尚未登记到公司网关，已跳过网络检查：请先运行 homeagent enrol 登记码 --gateway 网址",
    en="Not enrolled with a company gateway, so the network check was skipped: run "
    "`homeagent enrol CODE --gateway URL` first",
)


def run_each(
    thresholds: Thresholds,
    ctx: CheckContext,
    only: Sequence[str] | None,
    starting: Callable[[str], None],
) -> list[CheckResult]:
    """Each check in checklist order through the registry. Without a gateway the network check
    is skipped and says why; a check that breaks down does not pass and says so, and the
    others still run."""
    wanted = set(CHECK_NAMES if only is None else only)
    results = []
    for name in CHECK_NAMES:
        if name not in wanted:
            continue
        limits = dict(thresholds.get(name, {"level": "off"}))
        if name == "network" and ctx.gateway is None and limits.get("level") != "off":
            results.append(CheckResult(name, Status.SKIP, limits=limits, hint=NOT_ENROLLED))
            continue
        if limits.get("level") != "off":
            starting(name)
        try:
            results.extend(run_checks({name: limits}, ctx, only=[name]))
        except Exception as err:  # the edge where one check's fault becomes its result
            results.append(broken_check(name, limits, err))
    return results


def broken_check(name: str, limits: dict[str, Any], err: Exception) -> CheckResult:
    status = judge(str(limits.get("level", "required")), False)
    reason = f"{type(err).__name__}: {err}"[:200]
    hint = Hint(
        zh=f"此项检查无法完成（{reason}）：请重新运行检查，仍不行请联系技术支持",
        en=f"This check could not run ({reason}): run the checks again, and call support if "
        "it stays so",
    )
    return CheckResult(name, status, limits=limits, hint=hint)
