"""What the session's calls give back: the gateway's answers (settings, posture verdict,
enrolment), and the status snapshot a display shows, each with its JSON form for `--json`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..lang import Lang
from .errors import SessionError
from .shift_file import PendingChange, RefusedChange
from .status_model import AgentStatus, NextStatus


@dataclass(frozen=True, slots=True)
class EnrolOutcome:
    agent: str
    role: str
    device: str
    """This device's fingerprint as the gateway records it."""
    ca_fingerprint: str
    control_url: str
    proxy: str
    key_file: Path
    ca_file: Path


@dataclass(frozen=True, slots=True)
class Notice:
    version: str
    zh: str
    en: str

    def __call__(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True, slots=True)
class Settings:
    """`GET /v1/settings`: what the client needs to run the checks and clock in."""

    agent: str
    role: str
    posture: dict[str, dict[str, Any]]
    """Per check its level and thresholds (what `run_checks` takes)."""
    recheck_interval: float
    max_age: float
    notice: Notice
    proxy: str
    token_ttl: float


@dataclass(frozen=True, slots=True)
class PostureVerdict:
    """The gateway's judgement of a posture report (it, not the client, decides)."""

    passed: bool
    failing: list[str]
    warnings: list[str]
    checks: list[dict[str, Any]]
    expires_at: str


@dataclass(frozen=True, slots=True)
class ClockOutOutcome:
    ended_at: str | None
    """None when the gateway had already ended the session (e.g. posture expired)."""
    undelivered: int
    """Status changes still queued: they stay queued and are delivered later."""


@dataclass(frozen=True, slots=True)
class FlushResult:
    delivered: int
    refused: list[RefusedChange]
    remaining: int
    problem: SessionError | None = None
    """Why delivery stopped early (unreachable, clocks apart…); None when the queue emptied."""

    def to_json(self) -> dict[str, Any]:
        problem = self.problem
        return {
            "delivered": self.delivered,
            "refused": [_refused_json(r) for r in self.refused],
            "remaining": self.remaining,
            "problem": None
            if problem is None
            else {"code": problem.code, "zh": problem.hint.zh, "en": problem.hint.en},
        }


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    """What a status display shows: the status and its timer, the shift total, the next
    status, and the changes not yet delivered."""

    clocked_in: bool
    status: AgentStatus
    reason: str | None
    since: float | None
    seconds_in_status: float
    shift_start: float | None
    shift_seconds: float
    next: NextStatus | None
    pending: list[PendingChange] = field(default_factory=list)
    refused: list[RefusedChange] = field(default_factory=list)
    token_expires_at: float | None = None
    delivery: FlushResult | None = None
    """What the delivery attempt that came with this snapshot did (set_status), if any."""

    def to_json(self) -> dict[str, Any]:
        return {
            "clocked_in": self.clocked_in,
            "status": self.status.value,
            "reason": self.reason,
            "since": iso_time(self.since),
            "seconds_in_status": round(self.seconds_in_status),
            "shift_start": iso_time(self.shift_start),
            "shift_seconds": round(self.shift_seconds),
            "next": None
            if self.next is None
            else {"status": self.next.status.value, "reason": self.next.reason},
            "pending": [{**p.to_json(), "at": iso_time(p.at)} for p in self.pending],
            "refused": [_refused_json(r) for r in self.refused],
            "token_expires_at": iso_time(self.token_expires_at),
            "delivery": None if self.delivery is None else self.delivery.to_json(),
        }


def _refused_json(refused: RefusedChange) -> dict[str, Any]:
    hint = {"zh": refused.hint.zh, "en": refused.hint.en}
    return {**refused.change.to_json(), "at": iso_time(refused.change.at), "hint": hint}


def iso_time(at: float | None) -> str | None:
    if at is None:
        return None
    return dt.datetime.fromtimestamp(at, dt.UTC).isoformat(timespec="seconds")


def unix_time(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
