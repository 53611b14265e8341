"""What every check gives back: its status, what it measured, the limits it was held to, and a
plain hint for the agent in Chinese and English when it does not pass."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a check's outcome, not a password
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Hint:
    zh: str
    en: str

    def __call__(self, lang: str) -> str:
        return self.zh if lang.startswith("zh") else self.en


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    """cpu, memory, network, noise, audio_devices, removable_storage, processes."""
    status: Status
    measured: dict[str, Any] = field(default_factory=dict)
    """Named as the gateway's posture report names them (e.g. noise: dbfs_a, dba)."""
    limits: dict[str, Any] = field(default_factory=dict)
    hint: Hint | None = None

    def to_json(self, lang: str = "en") -> dict[str, Any]:
        """The `homeagent check --json` form."""
        return {
            "name": self.name,
            "status": self.status.value,
            "measured": self.measured,
            "limits": self.limits,
            "hint": self.hint(lang) if self.hint else None,
        }

    def to_report(self) -> dict[str, Any]:
        """This check's part of the posture report sent to the gateway."""
        return {"status": self.status.value, "measurements": self.measured}


def judge(level: str, ok: bool) -> Status:
    """A check's status from its policy level (`required | warn | off`) and whether it met it."""
    if level == "off":
        return Status.SKIP
    if ok:
        return Status.PASS
    return Status.FAIL if level == "required" else Status.WARN
