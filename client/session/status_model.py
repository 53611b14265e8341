"""The agent's status through a shift, as the client keeps it: which changes are allowed (the
gateway's state model, mirrored, not imported), the "next status" queued while busy, and the
timers (time in the current status, the shift total). Pure: no I/O, times are given.

A contact is in progress while `busy`. Not ready or a break asked for then does not interrupt
it: it becomes the next status, applied when the contact ends. The contact ends when the agent
leaves busy for ready (the next status is applied instead, or right after when the gateway does
not allow going there straight from busy) or for after-call work (the next status then replaces
the ready that ends the wrap-up).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from ..checks.result import Hint


class AgentStatus(StrEnum):
    NOT_READY = "not_ready"
    READY = "ready"
    BUSY = "busy"
    AFTER_CALL_WORK = "after_call_work"
    BREAK = "break"
    OFFLINE = "offline"


REASON_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
"""Reasons are codes (`meeting`, `lunch`), not prose: the supervisor's reports group by them."""

NEEDS_REASON = frozenset({AgentStatus.NOT_READY})
TAKES_REASON = frozenset({AgentStatus.NOT_READY, AgentStatus.BREAK, AgentStatus.OFFLINE})
WAITS_FOR_CONTACT = frozenset({AgentStatus.NOT_READY, AgentStatus.BREAK})
"""Asked for while busy, these become the next status instead of cutting the contact short."""

ALLOWED: dict[AgentStatus, frozenset[AgentStatus]] = {
    AgentStatus.OFFLINE: frozenset({AgentStatus.NOT_READY, AgentStatus.READY}),
    AgentStatus.NOT_READY: frozenset(
        {AgentStatus.NOT_READY, AgentStatus.READY, AgentStatus.BREAK, AgentStatus.OFFLINE}
    ),
    AgentStatus.READY: frozenset(
        {AgentStatus.BUSY, AgentStatus.NOT_READY, AgentStatus.BREAK, AgentStatus.OFFLINE}
    ),
    AgentStatus.BUSY: frozenset(
        {AgentStatus.AFTER_CALL_WORK, AgentStatus.READY, AgentStatus.NOT_READY, AgentStatus.OFFLINE}
    ),
    AgentStatus.AFTER_CALL_WORK: frozenset(
        {AgentStatus.READY, AgentStatus.NOT_READY, AgentStatus.BREAK, AgentStatus.OFFLINE}
    ),
    AgentStatus.BREAK: frozenset(
        {AgentStatus.BREAK, AgentStatus.READY, AgentStatus.NOT_READY, AgentStatus.OFFLINE}
    ),
}
"""The gateway's allowed changes (its core/agent_status.py); a test holds the two equal."""

STATUS_NAMES: dict[AgentStatus, Hint] = {
    AgentStatus.NOT_READY: Hint("未就绪", "not ready"),
    AgentStatus.READY: Hint("就绪", "ready"),
    AgentStatus.BUSY: Hint("通话中", "busy"),
    AgentStatus.AFTER_CALL_WORK: Hint("话后处理", "after-call work"),
    AgentStatus.BREAK: Hint("休息", "break"),
    AgentStatus.OFFLINE: Hint("离线", "offline"),
}


class StatusRefusedError(ValueError):
    """A change the agent cannot make now; `hint` says why and what to do instead."""

    def __init__(self, hint: Hint) -> None:
        super().__init__(hint.en)
        self.hint = hint


def parse_status(text: str) -> AgentStatus:
    """`ready`, `not_ready` (or `not-ready`), `busy`, `after_call_work`, `break`."""
    try:
        status = AgentStatus(text.strip().lower().replace("-", "_"))
    except ValueError:
        status = None
    if status is None or status is AgentStatus.OFFLINE:
        known = ", ".join(s.value for s in AgentStatus if s is not AgentStatus.OFFLINE)
        raise StatusRefusedError(
            Hint(
                zh=f"没有名为 {text} 的状态：可选 {known}（离线请用 homeagent clock-out）",
                en=f"There is no status {text}: choose {known} (to go offline, clock out)",
            )
        )
    return status


def check_reason(target: AgentStatus, reason: str | None) -> None:
    name = STATUS_NAMES[target]
    if target in NEEDS_REASON and not reason:
        raise StatusRefusedError(
            Hint(
                zh=f"“{name.zh}”需要原因：加上 --reason 原因（例如 meeting、training）",
                en=f"{name.en} needs a reason: add --reason CODE (e.g. meeting, training)",
            )
        )
    if reason is None:
        return
    if target not in TAKES_REASON:
        raise StatusRefusedError(Hint(zh=f"“{name.zh}”不需要原因", en=f"{name.en} takes no reason"))
    if not REASON_PATTERN.fullmatch(reason):
        raise StatusRefusedError(
            Hint(
                zh=f"原因 {reason!r} 应为代码：小写字母、数字和 _.-，最多 64 个字符（例如 lunch）",
                en=f"The reason {reason!r} must be a code: lower-case letters, digits and _.-, "
                "at most 64 (e.g. lunch)",
            )
        )


@dataclass(frozen=True, slots=True)
class Change:
    """One status change to tell the gateway about, made at `at` (Unix seconds)."""

    status: AgentStatus
    reason: str | None
    at: float


@dataclass(frozen=True, slots=True)
class NextStatus:
    status: AgentStatus
    reason: str | None


@dataclass(frozen=True, slots=True)
class Shift:
    """Where the agent stands in the shift. `shift_start` None: not clocked in."""

    status: AgentStatus = AgentStatus.OFFLINE
    reason: str | None = None
    since: float | None = None
    """When the current status began (Unix seconds)."""
    shift_start: float | None = None
    next: NextStatus | None = None

    @property
    def clocked_in(self) -> bool:
        return self.shift_start is not None

    def clock_in(self, at: float) -> Shift:
        """A new shift begins; its first status is not ready (`clock_in`) until the agent
        says ready."""
        return Shift(AgentStatus.NOT_READY, "clock_in", at, at, None)

    def clock_out(self, at: float) -> Shift:
        return Shift(AgentStatus.OFFLINE, None, at, None, None)

    def request(
        self, target: AgentStatus, reason: str | None, at: float
    ) -> tuple[Shift, list[Change]]:
        """The shift after the agent asks for `target`, and the changes to send (none when it
        only became the next status). StatusRefusedError when it cannot be done."""
        if not self.clocked_in:
            raise StatusRefusedError(
                Hint(
                    zh="您尚未打卡上班：请先运行 homeagent clock-in",
                    en="You are not clocked in: run `homeagent clock-in` first",
                )
            )
        if target is AgentStatus.OFFLINE:
            raise StatusRefusedError(
                Hint(zh="下班请使用 homeagent clock-out", en="To go offline, clock out")
            )
        check_reason(target, reason)
        if self.status is AgentStatus.BUSY and target in WAITS_FOR_CONTACT:
            return replace(self, next=NextStatus(target, reason)), []
        wanted = [NextStatus(target, reason)]
        keep_next = self.next
        if self.status is AgentStatus.BUSY and target is AgentStatus.READY and self.next:
            # The contact ends: the next status instead of ready, or right after it.
            direct = self.next.status in ALLOWED[AgentStatus.BUSY]
            wanted = [self.next] if direct else [wanted[0], self.next]
            keep_next = None
        elif self.status is AgentStatus.AFTER_CALL_WORK and self.next:
            if target is AgentStatus.READY:
                wanted = [self.next]
            keep_next = None
        elif target is not AgentStatus.AFTER_CALL_WORK:
            keep_next = None
        shift = self
        changes = []
        for step in wanted:
            if step.status not in ALLOWED[shift.status]:
                raise StatusRefusedError(_not_from(shift.status, step.status))
            changes.append(Change(step.status, step.reason, at))
            shift = replace(shift, status=step.status, reason=step.reason, since=at)
        return replace(shift, next=keep_next), changes

    def cancel_next(self) -> Shift:
        return replace(self, next=None)

    def seconds_in_status(self, now: float) -> float:
        return 0.0 if self.since is None else max(0.0, now - self.since)

    def shift_seconds(self, now: float) -> float:
        return 0.0 if self.shift_start is None else max(0.0, now - self.shift_start)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "reason": self.reason,
            "since": self.since,
            "shift_start": self.shift_start,
            "next": None
            if self.next is None
            else {"status": self.next.status.value, "reason": self.next.reason},
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> Shift:
        following = data.get("next")
        return Shift(
            status=AgentStatus(data["status"]),
            reason=data.get("reason"),
            since=data.get("since"),
            shift_start=data.get("shift_start"),
            next=None
            if not following
            else NextStatus(AgentStatus(following["status"]), following.get("reason")),
        )


def _not_from(current: AgentStatus, target: AgentStatus) -> Hint:
    a, b = STATUS_NAMES[current], STATUS_NAMES[target]
    return Hint(zh=f"无法从“{a.zh}”切换到“{b.zh}”", en=f"You cannot go from {a.en} to {b.en}")


def clock(seconds: float) -> str:
    """`1:05:09` (hours:minutes:seconds), or `5:09` under an hour: a status timer."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
