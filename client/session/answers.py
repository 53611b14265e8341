"""What the session's calls give back: the gateway's answers (settings, posture verdict,
enrolment), and the status snapshot a display shows, each with its JSON form for `--json`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..checks.result import CheckResult, Hint
from ..lang import Lang
from .errors import SessionError
from .recheck import Consequence
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
    set_aside: str | None = None
    """An unreadable shift file kept for support (see ShiftRecord.set_aside)."""

    def set_aside_hint(self) -> Hint | None:
        """What to tell the agent about an unreadable shift file, if there was one."""
        if self.set_aside is None:
            return None
        return Hint(
            zh=f"此电脑上的班次记录无法读取，已另存为 {self.set_aside}（供技术支持查看）。"
            "其中尚未发送的状态更改可能未送达网关：请核对您的状态，必要时重新设置。",
            en=f"This PC's record of your shift could not be read; it was kept as "
            f"{self.set_aside} for support. Status changes it held may not have reached the "
            "gateway: check your status, and set it again if needed.",
        )

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
            "set_aside": self.set_aside,
        }


@dataclass(frozen=True, slots=True)
class PostureFollowUp:
    """What a posture report's results did to the agent's status (see recheck.py)."""

    consequence: Consequence
    snapshot: StatusSnapshot
    """The status after it, with what the delivery of the change did (if one was made)."""
    judged_here: bool
    """True when the report did not reach the gateway and this PC judged the results."""

    @property
    def message(self) -> Hint:
        said = self.consequence.message(self.snapshot.status)
        if not self.judged_here:
            return said
        return Hint(
            zh=said.zh + "（结果未能发送到网关，由本机判断；状态更改已保存，网关恢复连接后发送）",
            en=said.en + " (the results could not reach the gateway, so this PC judged them; a "
            "status change is kept and sent once the gateway answers)",
        )

    def to_json(self) -> dict[str, Any]:
        said = self.message
        return {
            **self.consequence.to_json(),
            "judged_here": self.judged_here,
            "message": {"zh": said.zh, "en": said.en},
            "status": self.snapshot.to_json(),
        }


@dataclass(frozen=True, slots=True)
class RecheckOutcome:
    """One re-check during a shift: the results, the gateway's verdict, what it did to the
    status, and when the next is due. With `problem` set (the gateway could not be reached
    before the checks ran) nothing ran and nothing changed."""

    results: list[CheckResult]
    verdict: PostureVerdict | None
    """None when the report did not reach the gateway."""
    follow_up: PostureFollowUp | None
    next_at: float | None
    problem: SessionError | None = None
    """Why the report could not be sent, or why nothing ran; None when it was delivered."""

    @property
    def message(self) -> Hint:
        if self.follow_up is not None:
            return self.follow_up.message
        assert self.problem is not None
        return Hint(
            zh=f"未能复检：{self.problem.hint.zh}。稍后将自动重试。",
            en=f"The re-check could not run: {self.problem.hint.en}. It will be tried again "
            "shortly.",
        )

    def to_json(self, lang: Lang = "en") -> dict[str, Any]:
        verdict, problem, said = self.verdict, self.problem, self.message
        return {
            "checks": [r.to_json(lang) for r in self.results],
            "gateway": None
            if verdict is None
            else {
                "passed": verdict.passed,
                "failing": verdict.failing,
                "warnings": verdict.warnings,
                "expires_at": verdict.expires_at,
            },
            "follow_up": None if self.follow_up is None else self.follow_up.to_json(),
            "message": {"zh": said.zh, "en": said.en},
            "next_recheck_at": iso_time(self.next_at),
            "problem": None
            if problem is None
            else {"code": problem.code, "zh": problem.hint.zh, "en": problem.hint.en},
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
