"""The posture report a client sends: what each check measured on the agent's PC, and the
client's own status for it (kept for the record, never trusted).

Format (JSON object, version 1)::

    {"version": 1,
     "checks": {"cpu": {"status": "pass", "measurements": {"logical_cores": 8}},
                "noise": {"status": "warn",
                          "measurements": {"dbfs_a": -64.2, "dba": 55.8, "clipping": false,
                                           "dead_mic": false, "input_device": "Jabra Evolve2"}},
                ...}}

A measurement is named `<check>.<field>` (`network.rtt_ms`); the fields per check are the models
below. Unknown checks and fields are ignored (a newer client); a known field of the wrong type,
a negative amount, NaN or infinity is refused (PostureReportError).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_REPORT_BYTES = 64 * 1024
"""A report is a few hundred bytes; anything near this is not a report."""


class Outcome(StrEnum):
    """A check's result: `skip` when not run (client) or switched off (gateway)."""

    PASS = "pass"  # noqa: S105 (an outcome, not a password)
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


class PostureReportError(ValueError):
    """A report that cannot be read; the message names the first problems."""


Amount = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]


class _Part(BaseModel):
    # strict: "8" is not 8 and true is not 1; extra: fields a newer client adds are ignored
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


class CpuMeasurements(_Part):
    logical_cores: Annotated[int, Field(ge=0)] | None = None
    load_percent: Percent | None = None


class MemoryMeasurements(_Part):
    total_gb: Amount | None = None
    available_gb: Amount | None = None


class NetworkMeasurements(_Part):
    rtt_ms: Amount | None = None
    jitter_ms: Amount | None = None
    loss_percent: Percent | None = None
    download_mbps: Amount | None = None
    upload_mbps: Amount | None = None
    mos: Annotated[float, Field(ge=1, le=5, allow_inf_nan=False)] | None = None


class NoiseMeasurements(_Part):
    dbfs_a: Annotated[float, Field(le=0, ge=-200, allow_inf_nan=False)] | None = None
    """A-weighted level relative to full scale; the gateway turns it into dB(A) itself."""
    dba: Amount | None = None
    """The client's own dB(A) figure: kept, not judged."""
    uncertainty_db: Amount | None = None
    clipping: bool | None = None
    dead_mic: bool | None = None
    input_device: Annotated[str, Field(max_length=200)] | None = None
    """The microphone's name, to pick the headset's calibration."""


class AudioDevicesMeasurements(_Part):
    input: bool | None = None
    output: bool | None = None


class RemovableStorageMeasurements(_Part):
    mounted: Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=64)] | None = (
        None
    )
    """Mounted USB storage (drive letter, mount point or label); empty when none."""


class ProcessesMeasurements(_Part):
    names: Annotated[list[Annotated[str, Field(max_length=260)]], Field(max_length=512)] | None = (
        None
    )
    """Running process names; the client sends those matching the forbidden list, the gateway
    matches them again."""


class _Check[M: _Part](_Part):
    status: Outcome | None = None
    measurements: M | None = None


class ReportedChecks(_Part):
    cpu: _Check[CpuMeasurements] | None = None
    memory: _Check[MemoryMeasurements] | None = None
    network: _Check[NetworkMeasurements] | None = None
    noise: _Check[NoiseMeasurements] | None = None
    audio_devices: _Check[AudioDevicesMeasurements] | None = None
    removable_storage: _Check[RemovableStorageMeasurements] | None = None
    processes: _Check[ProcessesMeasurements] | None = None


class PostureReport(_Part):
    version: Literal[1]
    checks: ReportedChecks


def parse_report(data: bytes) -> PostureReport:
    """The report in `data` (UTF-8 JSON), or PostureReportError."""
    if len(data) > MAX_REPORT_BYTES:
        raise PostureReportError(
            f"posture report is {len(data)} bytes; at most {MAX_REPORT_BYTES} are accepted"
        )
    try:
        return PostureReport.model_validate_json(data)
    except ValidationError as err:
        problems = [
            f"{'.'.join(str(part) for part in e['loc']) or '(report)'}: {e['msg']}"
            for e in err.errors(include_url=False)[:5]
        ]
        raise PostureReportError("posture report refused: " + "; ".join(problems)) from None
