"""The checklist as the UI runs it, in a worker thread: each check in order under its limits,
with a callback as each starts and finishes. A check whose module this version lacks shows as
"not available yet"; one that breaks down does not pass and says so; the others still run."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..checks.checklist import NOT_ENROLLED, broken_check
from ..checks.context import CheckContext
from ..checks.registry import CHECK_NAMES, check_module, run_check
from ..checks.result import CheckResult, Status
from .texts import NOT_AVAILABLE


def available(name: str) -> bool:
    """Whether this installation has the check's module (network, noise and audio devices
    arrive in later versions)."""
    try:
        check_module(name)
    except ModuleNotFoundError as err:
        if err.name == f"homeagent.client.checks.{name}":
            return False
        raise
    return True


def checklist_names(only: Sequence[str] | None) -> list[str]:
    """The checks to show, in checklist order."""
    wanted = set(CHECK_NAMES if only is None else only)
    return [name for name in CHECK_NAMES if name in wanted]


def run_one(name: str, limits: Mapping[str, Any], ctx: CheckContext) -> CheckResult:
    """One check as the checklist shows it; never raises for the check's own faults."""
    if limits.get("level", "required") == "off":
        return CheckResult(name, Status.SKIP, limits=dict(limits))
    if name == "network" and ctx.gateway is None:
        return CheckResult(name, Status.SKIP, limits=dict(limits), hint=NOT_ENROLLED)
    try:
        if not available(name):
            return CheckResult(name, Status.SKIP, limits=dict(limits), hint=NOT_AVAILABLE)
        return run_check(name, limits, ctx)
    except Exception as err:  # the edge where one check's fault becomes its result
        return broken_check(name, dict(limits), err)


def run_checklist(
    thresholds: Mapping[str, Mapping[str, Any]],
    ctx: CheckContext,
    names: Sequence[str],
    started: Callable[[str], None],
    finished: Callable[[CheckResult], None],
) -> list[CheckResult]:
    results = []
    for name in names:
        started(name)
        result = run_one(name, thresholds.get(name, {"level": "off"}), ctx)
        finished(result)
        results.append(result)
    return results
