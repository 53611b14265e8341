"""Every check by name, in the order the checklist shows them. Modules are imported only when
their check runs, so the audio and numeric libraries load only for the checks that need them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib import import_module
from typing import Any, Protocol

from .context import CheckContext
from .result import CheckResult, Status

CHECK_NAMES: tuple[str, ...] = (
    "cpu",
    "memory",
    "network",
    "noise",
    "audio_devices",
    "removable_storage",
    "processes",
)


class CheckModule(Protocol):
    def run(self, limits: Mapping[str, Any], ctx: CheckContext) -> CheckResult: ...


def check_module(name: str) -> CheckModule:
    if name not in CHECK_NAMES:
        raise KeyError(name)
    module: CheckModule = import_module(f"homeagent.client.checks.{name}")
    return module


def run_check(name: str, limits: Mapping[str, Any], ctx: CheckContext) -> CheckResult:
    """One check under its limits (`level` plus thresholds); `level: off` skips it unrun."""
    if limits.get("level", "required") == "off":
        return CheckResult(name, Status.SKIP, limits=dict(limits))
    return check_module(name).run(limits, ctx)


def run_checks(
    thresholds: Mapping[str, Mapping[str, Any]],
    ctx: CheckContext,
    only: Iterable[str] | None = None,
) -> list[CheckResult]:
    """The checks named in `only` (all by default), in checklist order."""
    wanted = set(only) if only is not None else set(CHECK_NAMES)
    return [
        run_check(name, thresholds.get(name, {"level": "off"}), ctx)
        for name in CHECK_NAMES
        if name in wanted
    ]
