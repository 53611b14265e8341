"""The gateway's own verdict on a posture report: each check judged from the measurements under
the policy for the agent's role (the client's verdict is kept, never trusted). Pure.

A `required` check that fails, or was not measured, fails the report; a `warn` check only warns;
an `off` check is skipped.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from .policy.base import Level
from .policy.posture import (
    AudioDevicesCheck,
    Calibration,
    CpuCheck,
    MemoryCheck,
    NetworkCheck,
    NoiseCheck,
    PostureChecks,
    ProcessesCheck,
    RemovableStorageCheck,
)
from .posture_hints import Hint, not_measured, out_of_limit
from .posture_report import (
    AudioDevicesMeasurements,
    CpuMeasurements,
    MemoryMeasurements,
    NetworkMeasurements,
    NoiseMeasurements,
    Outcome,
    PostureReport,
    ProcessesMeasurements,
    RemovableStorageMeasurements,
    parse_report,
)


@dataclass(frozen=True, slots=True)
class Shortfall:
    """One measurement outside its limit, or not measured (`measured` None)."""

    measurement: str
    measured: Any
    limit: Any
    hint: Hint


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: str
    level: Level
    outcome: Outcome
    measured: dict[str, Any] = field(default_factory=dict)
    limits: dict[str, Any] = field(default_factory=dict)
    shortfalls: tuple[Shortfall, ...] = ()
    client_status: Outcome | None = None

    @property
    def hint(self) -> Hint | None:
        return Hint.join([s.hint for s in self.shortfalls]) if self.shortfalls else None

    def as_json(self) -> dict[str, Any]:
        hint = self.hint
        return {
            "check": self.check,
            "level": self.level.value,
            "outcome": self.outcome.value,
            "measured": self.measured,
            "limits": self.limits,
            "hint": None if hint is None else {"en": hint.en, "zh": hint.zh},
            "shortfalls": [
                {
                    "measurement": s.measurement,
                    "measured": s.measured,
                    "limit": s.limit,
                    "hint": {"en": s.hint.en, "zh": s.hint.zh},
                }
                for s in self.shortfalls
            ],
            "client_status": None if self.client_status is None else self.client_status.value,
        }


@dataclass(frozen=True, slots=True)
class PostureVerdict:
    results: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        return not self.failing

    @property
    def failing(self) -> tuple[str, ...]:
        return tuple(r.check for r in self.results if r.outcome is Outcome.FAIL)

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(r.check for r in self.results if r.outcome is Outcome.WARN)

    def result(self, check: str) -> CheckResult:
        return next(r for r in self.results if r.check == check)

    def as_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "failing": list(self.failing),
            "warnings": list(self.warnings),
            "checks": [r.as_json() for r in self.results],
        }


# What one check's judge returns: the values it judged, the limits, what fell short.
Judged = tuple[dict[str, Any], dict[str, Any], list[Shortfall]]


def evaluate_posture(report: PostureReport, checks: PostureChecks) -> PostureVerdict:
    """Judge every check of the policy (in its order) against the report."""
    results = []
    for name, judge in JUDGES.items():
        policy_check: Any = getattr(checks, name)
        reported = getattr(report.checks, name)
        client_status = reported.status if reported is not None else None
        level: Level = policy_check.level
        if level is Level.OFF:
            results.append(CheckResult(name, level, Outcome.SKIP, client_status=client_status))
            continue
        measurements = reported.measurements if reported is not None else None
        measured, limits, shortfalls = judge(measurements, policy_check)
        if not shortfalls:
            outcome = Outcome.PASS
        else:
            outcome = Outcome.FAIL if level is Level.REQUIRED else Outcome.WARN
        results.append(
            CheckResult(name, level, outcome, measured, limits, tuple(shortfalls), client_status)
        )
    return PostureVerdict(tuple(results))


def evaluate_report(data: bytes, checks: PostureChecks) -> PostureVerdict:
    """Parse (PostureReportError when unreadable) and judge a report's exact bytes."""
    return evaluate_posture(parse_report(data), checks)


def _limits(
    check: str,
    measurements: BaseModel | None,
    rules: list[tuple[str, str, float, bool]],
) -> Judged:
    """Numeric limits: (field, limit name, limit, at_least) per measurement; a missing value
    falls short."""
    measured: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    shortfalls = []
    for name, limit_name, limit, at_least in rules:
        limits[limit_name] = limit
        full = f"{check}.{name}"
        value = getattr(measurements, name, None) if measurements is not None else None
        measured[name] = value
        if value is None:
            shortfalls.append(Shortfall(full, None, limit, not_measured(full)))
        elif (value < limit) if at_least else (value > limit):
            shortfalls.append(Shortfall(full, value, limit, out_of_limit(full, value, limit)))
    return measured, limits, shortfalls


def judge_cpu(measurements: CpuMeasurements | None, check: CpuCheck) -> Judged:
    rules: list[tuple[str, str, float, bool]] = [
        ("logical_cores", "min_logical_cores", check.min_logical_cores, True)
    ]
    # Load is judged when the client measured it: the client issue does not promise it.
    if measurements is not None and measurements.load_percent is not None:
        rules.append(("load_percent", "max_load_percent", check.max_load_percent, False))
    return _limits("cpu", measurements, rules)


def judge_memory(measurements: MemoryMeasurements | None, check: MemoryCheck) -> Judged:
    return _limits(
        "memory",
        measurements,
        [
            ("total_gb", "min_total_gb", check.min_total_gb, True),
            ("available_gb", "min_available_gb", check.min_available_gb, True),
        ],
    )


def judge_network(measurements: NetworkMeasurements | None, check: NetworkCheck) -> Judged:
    return _limits(
        "network",
        measurements,
        [
            ("rtt_ms", "max_rtt_ms", check.max_rtt_ms, False),
            ("jitter_ms", "max_jitter_ms", check.max_jitter_ms, False),
            ("loss_percent", "max_loss_percent", check.max_loss_percent, False),
            ("mos", "min_mos", check.min_mos, True),
            ("download_mbps", "min_download_mbps", check.min_download_mbps, True),
            ("upload_mbps", "min_upload_mbps", check.min_upload_mbps, True),
        ],
    )


def headset_calibration(check: NoiseCheck, input_device: str | None) -> tuple[str, Calibration]:
    """The calibration for this microphone: the longest headset model named in the device's
    name (case-insensitive), else the default."""
    if input_device:
        device = input_device.casefold()
        named = [model for model in check.headsets if model.casefold() in device]
        if named:
            model = max(named, key=len)
            return model, check.headsets[model]
    return "default", check.calibration


def judge_noise(measurements: NoiseMeasurements | None, check: NoiseCheck) -> Judged:
    limits: dict[str, Any] = {"max_dba": check.max_dba}
    if measurements is None or measurements.dbfs_a is None:
        return {}, limits, [Shortfall("noise.dbfs_a", None, None, not_measured("noise.dbfs_a"))]
    # dB(A) from the raw level and the policy's calibration, not the client's arithmetic.
    model, calibration = headset_calibration(check, measurements.input_device)
    dba = round(measurements.dbfs_a + calibration.offset_db, 1)
    measured = {
        "dbfs_a": measurements.dbfs_a,
        "dba": dba,
        "uncertainty_db": calibration.uncertainty_db,
        "calibration": model,
        "client_dba": measurements.dba,
        "clipping": bool(measurements.clipping),
        "dead_mic": bool(measurements.dead_mic),
    }
    shortfalls = []
    # A dead or clipped microphone gives a level that means nothing: it cannot pass.
    if measurements.dead_mic:
        shortfalls.append(
            Shortfall("noise.dead_mic", True, False, out_of_limit("noise.dead_mic", True, False))
        )
    if measurements.clipping:
        shortfalls.append(
            Shortfall("noise.clipping", True, False, out_of_limit("noise.clipping", True, False))
        )
    if dba > check.max_dba:
        shortfalls.append(
            Shortfall(
                "noise.dba", dba, check.max_dba, out_of_limit("noise.dba", dba, check.max_dba)
            )
        )
    return measured, limits, shortfalls


def judge_audio_devices(
    measurements: AudioDevicesMeasurements | None, check: AudioDevicesCheck
) -> Judged:
    measured: dict[str, Any] = {}
    limits: dict[str, Any] = {
        "require_input": check.require_input,
        "require_output": check.require_output,
    }
    shortfalls = []
    for name, required in (("input", check.require_input), ("output", check.require_output)):
        value = getattr(measurements, name, None) if measurements is not None else None
        measured[name] = value
        if not required:
            continue
        full = f"audio_devices.{name}"
        if value is None:
            shortfalls.append(Shortfall(full, None, True, not_measured(full)))
        elif not value:
            shortfalls.append(Shortfall(full, False, True, out_of_limit(full, False, True)))
    return measured, limits, shortfalls


def judge_removable_storage(
    measurements: RemovableStorageMeasurements | None, check: RemovableStorageCheck
) -> Judged:
    limits: dict[str, Any] = {"max_mounted": 0}
    full = "removable_storage.mounted"
    if measurements is None or measurements.mounted is None:
        return {}, limits, [Shortfall(full, None, 0, not_measured(full))]
    mounted = list(measurements.mounted)
    shortfalls = [Shortfall(full, mounted, 0, out_of_limit(full, mounted, 0))] if mounted else []
    return {"mounted": mounted}, limits, shortfalls


def forbidden_processes(names: list[str], patterns: list[str]) -> list[str]:
    """The names matching any pattern: case-insensitive, `*` and `?` wildcards."""
    folded = [p.casefold() for p in patterns]
    return [n for n in names if any(fnmatch.fnmatchcase(n.casefold(), p) for p in folded)]


def judge_processes(measurements: ProcessesMeasurements | None, check: ProcessesCheck) -> Judged:
    limits: dict[str, Any] = {"forbidden": list(check.forbidden)}
    if not check.forbidden:
        return {}, limits, []
    full = "processes.names"
    if measurements is None or measurements.names is None:
        return {}, limits, [Shortfall(full, None, None, not_measured(full))]
    running = forbidden_processes(list(measurements.names), list(check.forbidden))
    measured = {"names": list(measurements.names), "forbidden_running": running}
    shortfalls = [Shortfall(full, running, [], out_of_limit(full, running, []))] if running else []
    return measured, limits, shortfalls


JUDGES: dict[str, Callable[[Any, Any], Judged]] = {
    "cpu": judge_cpu,
    "memory": judge_memory,
    "network": judge_network,
    "noise": judge_noise,
    "audio_devices": judge_audio_devices,
    "removable_storage": judge_removable_storage,
    "processes": judge_processes,
}
