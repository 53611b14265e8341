"""The `posture` section: what an agent's home setup must measure up to, per role."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .base import Level, Seconds, Strict


class CpuCheck(Strict):
    level: Level = Level.REQUIRED
    min_logical_cores: int = Field(4, ge=1)
    max_load_percent: float = Field(90.0, gt=0, le=100)


class MemoryCheck(Strict):
    level: Level = Level.REQUIRED
    min_total_gb: float = Field(8.0, gt=0)
    min_available_gb: float = Field(2.0, ge=0)


class NetworkCheck(Strict):
    level: Level = Level.REQUIRED
    max_rtt_ms: float = Field(150.0, gt=0)
    max_jitter_ms: float = Field(30.0, gt=0)
    max_loss_percent: float = Field(1.0, ge=0, le=100)
    min_mos: float = Field(3.6, ge=1, le=4.5)
    min_download_mbps: float = Field(4.0, ge=0)
    min_upload_mbps: float = Field(2.0, ge=0)
    test_seconds: Seconds = 3.0


class Calibration(Strict):
    """dB(A) = dBFS(A) + offset_db, known to within ± uncertainty_db."""

    offset_db: float = Field(120.0, ge=0, le=200)
    uncertainty_db: float = Field(6.0, ge=0, le=30)


class NoiseCheck(Strict):
    level: Level = Level.REQUIRED
    max_dba: float = Field(50.0, gt=0, le=140)
    seconds: Seconds = 5.0
    calibration: Calibration = Calibration()
    headsets: dict[str, Calibration] = Field(default_factory=dict)
    """Calibration per headset model, matched against the input device's name."""


class AudioDevicesCheck(Strict):
    level: Level = Level.REQUIRED
    require_input: bool = True
    require_output: bool = True


class RemovableStorageCheck(Strict):
    level: Level = Level.REQUIRED


class ProcessesCheck(Strict):
    level: Level = Level.REQUIRED
    forbidden: list[str] = Field(default_factory=list)
    """Process names (case-insensitive; `*` and `?` wildcards) that may not run during a shift."""


class PostureChecks(Strict):
    cpu: CpuCheck = CpuCheck()
    memory: MemoryCheck = MemoryCheck()
    network: NetworkCheck = NetworkCheck()
    noise: NoiseCheck = NoiseCheck()
    audio_devices: AudioDevicesCheck = AudioDevicesCheck()
    removable_storage: RemovableStorageCheck = RemovableStorageCheck()
    processes: ProcessesCheck = ProcessesCheck()

    def merged(self, override: dict[str, dict[str, Any]]) -> PostureChecks:
        """These checks with one role's overrides laid over them, field by field."""
        data = self.model_dump()
        for check, fields in override.items():
            data[check] = {**data[check], **fields}
        return PostureChecks.model_validate(data)


CHECK_NAMES = tuple(PostureChecks.model_fields)


class Posture(Strict):
    recheck_interval: Seconds = 30 * 60.0
    """How often the client re-runs the checks during a shift."""
    max_age: Seconds = 60 * 60.0
    """A posture report older than this no longer lets an agent clock in or stay clocked in."""
    checks: PostureChecks = PostureChecks()
    roles: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict)
    """Per role, per check, the fields that differ from `checks`. Validated by the loader."""

    def for_role(self, role: str) -> PostureChecks:
        return self.checks.merged(self.roles.get(role, {}))
