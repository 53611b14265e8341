"""Posture re-checks during a shift, as pure decisions: when the next re-check is due, and what
its results mean for the agent's status. No I/O; times are Unix seconds and are given.

When: every `recheck_interval`, but always well before `max_age`, since the gateway ends the
shift of an agent whose report has aged out; sooner after a failing report (the agent is fixing
something), and soon again, backing off, while the gateway cannot be reached.

What it means (`decide`), the first failing required check giving the reason `posture.<check>`:

- ready: not ready (`posture.cpu`) at once;
- busy or after-call work (a contact, as the gateway counts it): not ready becomes the next
  status, applied when the contact ends; it replaces a next status the agent had queued;
- not ready for a posture reason: the reason follows the first failing check; not ready for
  another reason (meeting, clock_in) or a break: the status stays (the agent takes no contacts
  there, and a meeting or break should stay on the attendance record as what it was); the
  gateway refuses ready until a report passes;
- a passing re-check never sets ready by itself: an agent held not ready for a posture reason is
  told they may go ready again (they may not be at the PC), and a posture next status still
  queued in a contact is dropped, since its reason is gone;
- warnings only: shown, the status is untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from ..checks.labels import check_label
from ..checks.result import Hint
from .status_model import STATUS_NAMES, AgentStatus, Change, NextStatus, Shift

POSTURE_REASON_PREFIX = "posture."
IN_CONTACT = frozenset({AgentStatus.BUSY, AgentStatus.AFTER_CALL_WORK})
"""The gateway's contact (its control/shift.py): a failing re-check waits for its end."""

RUN_ALLOWANCE_S = 120.0
"""The least head start a re-check gets before max_age: a full run takes about 20 s (cpu 3 s,
network 3 × 3 s, noise 5 s) and a try or two may find the gateway unreachable."""
MARGIN_SHARE = 0.2
"""Re-check at the latest this share of max_age before the report ages out."""
MIN_GAP_S = 60.0
"""No schedule re-checks more often than this (a policy typo must not run the checks back to
back), unless max_age itself is shorter than twice it."""
AFTER_FAIL_S = 300.0
"""After a failing report, look again this soon: the agent has been told what to fix."""
RETRY_FIRST_S = 30.0
RETRY_MAX_S = 300.0
"""While the gateway cannot be reached: 30 s, 60 s, 120 s… at most 5 minutes apart."""


def posture_reason(check: str) -> str:
    return f"{POSTURE_REASON_PREFIX}{check}"


def is_posture_reason(reason: str | None) -> bool:
    return reason is not None and reason.startswith(POSTURE_REASON_PREFIX)


# --- when ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecheckState:
    """What the client remembers about its posture reports between runs."""

    interval: float | None = None
    """The gateway's recheck_interval, as last fetched (None: not yet)."""
    max_age: float | None = None
    reported_at: float | None = None
    """When the gateway last took a report from this PC (passing or not)."""
    expires_at: float | None = None
    """When the gateway stops counting that report."""
    passed: bool | None = None
    unreachable_tries: int = 0
    """Re-checks in a row that could not reach the gateway (0 after one that did)."""
    last_try_at: float | None = None

    def settings_fetched(self, interval: float, max_age: float) -> RecheckState:
        return replace(self, interval=interval, max_age=max_age)

    def reported(self, at: float, expires_at: float, passed: bool) -> RecheckState:
        return replace(
            self,
            reported_at=at,
            expires_at=expires_at,
            passed=passed,
            unreachable_tries=0,
            last_try_at=at,
        )

    def unreachable(self, at: float) -> RecheckState:
        return replace(self, unreachable_tries=self.unreachable_tries + 1, last_try_at=at)

    def to_json(self) -> dict[str, Any]:
        return {
            "interval": self.interval,
            "max_age": self.max_age,
            "reported_at": self.reported_at,
            "expires_at": self.expires_at,
            "passed": self.passed,
            "unreachable_tries": self.unreachable_tries,
            "last_try_at": self.last_try_at,
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> RecheckState:
        known = {k: data[k] for k in RecheckState.__dataclass_fields__ if k in data}
        return RecheckState(**known)


def regular_gap(interval: float, max_age: float) -> float:
    """Seconds from one report to the next re-check: the interval, but leaving at least
    `MARGIN_SHARE` of max_age (and `RUN_ALLOWANCE_S`, within half of max_age) before the report
    ages out; never under `MIN_GAP_S` (or half of max_age, when that is less)."""
    margin = min(max(max_age * MARGIN_SHARE, RUN_ALLOWANCE_S), max_age / 2)
    return max(min(interval, max_age - margin), min(MIN_GAP_S, max_age / 2))


def retry_gap(tries: int) -> float:
    """Seconds to wait after `tries` (≥ 1) re-checks in a row found the gateway unreachable."""
    doublings = min(max(tries - 1, 0), 10)
    return min(RETRY_FIRST_S * float(1 << doublings), RETRY_MAX_S)


def next_due(state: RecheckState) -> float | None:
    """When the next re-check is due (Unix seconds; it may be past: then now). None when no
    report is known: re-check at once."""
    if state.reported_at is None:
        if state.unreachable_tries and state.last_try_at is not None:
            return state.last_try_at + retry_gap(state.unreachable_tries)
        return None
    max_age = state.max_age
    if max_age is None and state.expires_at is not None:
        max_age = state.expires_at - state.reported_at
    if max_age is None or max_age <= 0:
        return None
    interval = state.interval if state.interval is not None else max_age / 2
    due = state.reported_at + regular_gap(interval, max_age)
    if state.passed is False:
        due = min(due, state.reported_at + min(AFTER_FAIL_S, max_age / 2))
    if state.unreachable_tries and state.last_try_at is not None:
        # The due time has come and gone (that is why there was a try): retry, backing off.
        due = state.last_try_at + retry_gap(state.unreachable_tries)
    return due


def due_now(state: RecheckState, now: float) -> bool:
    due = next_due(state)
    return due is None or due <= now


# --- what it means -------------------------------------------------------------------------


class Effect(StrEnum):
    NONE = "none"
    """Passed; nothing to say."""
    WARN = "warn"
    """Passed with warnings: show them; the status is untouched."""
    NOT_READY_NOW = "not_ready_now"
    """Moved to not ready (the posture reason) at once."""
    NOT_READY_NEXT = "not_ready_next"
    """In a contact: not ready is the next status, applied when the contact ends."""
    HELD = "held"
    """Failing, but not taking contacts already (not ready, break): the status stays, and the
    gateway refuses ready until a report passes."""
    MAY_GO_READY = "may_go_ready"
    """Passed after a posture failure held the agent not ready: they may go ready again."""
    NEXT_DROPPED = "next_dropped"
    """Passed in a contact: the posture next status queued earlier is dropped."""


@dataclass(frozen=True, slots=True)
class Consequence:
    effect: Effect
    reason: str | None = None
    """`posture.<first failing required check>` when one fails."""
    failing: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def apply(self, shift: Shift, at: float) -> tuple[Shift, list[Change]]:
        """The shift after this consequence, and the changes to send (through the queue)."""
        if self.effect is Effect.NOT_READY_NOW:
            assert self.reason is not None
            return shift.request(AgentStatus.NOT_READY, self.reason, at)
        if self.effect is Effect.NOT_READY_NEXT:
            assert self.reason is not None
            # Set directly, not by request(): after-call work is a contact to the gateway too,
            # and the status model applies a next status from there when it ends.
            return replace(shift, next=NextStatus(AgentStatus.NOT_READY, self.reason)), []
        if self.effect is Effect.NEXT_DROPPED:
            return shift.cancel_next(), []
        return shift, []

    def message(self, status: AgentStatus) -> Hint:
        """What the agent is told, in both languages; `status` is theirs after `apply`."""
        failing = _labels(self.failing)
        warned = _labels(self.warnings)
        warning = Hint(
            zh=f"（警告：{warned.zh}）" if self.warnings else "",
            en=f" (warning: {warned.en})" if self.warnings else "",
        )
        said = MESSAGES[self.effect]
        held = STATUS_NAMES[status]
        return Hint(
            zh=said.zh.format(failing=failing.zh, reason=self.reason, status=held.zh) + warning.zh,
            en=said.en.format(failing=failing.en, reason=self.reason, status=held.en) + warning.en,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "effect": self.effect.value,
            "reason": self.reason,
            "failing": list(self.failing),
            "warnings": list(self.warnings),
        }


def decide(shift: Shift, failing: Sequence[str], warnings: Sequence[str] = ()) -> Consequence:
    """What a re-check whose required checks `failing` (in checklist order) and warn-level
    `warnings` did not pass means for an agent in `shift` (see the module's docstring)."""
    failing, warnings = tuple(failing), tuple(warnings)
    status, following = shift.status, shift.next
    if failing:
        reason = posture_reason(failing[0])
        if status is AgentStatus.READY:
            effect = Effect.NOT_READY_NOW
        elif status in IN_CONTACT:
            effect = Effect.NOT_READY_NEXT
        elif status is AgentStatus.NOT_READY and is_posture_reason(shift.reason):
            effect = Effect.HELD if shift.reason == reason else Effect.NOT_READY_NOW
        else:
            effect = Effect.HELD
        return Consequence(effect, reason, failing, warnings)
    if status is AgentStatus.NOT_READY and is_posture_reason(shift.reason):
        return Consequence(Effect.MAY_GO_READY, warnings=warnings)
    if (
        status in IN_CONTACT
        and following is not None
        and following.status is AgentStatus.NOT_READY
        and is_posture_reason(following.reason)
    ):
        return Consequence(Effect.NEXT_DROPPED, warnings=warnings)
    return Consequence(Effect.WARN if warnings else Effect.NONE, warnings=warnings)


def _labels(checks: Sequence[str]) -> Hint:
    names = [check_label(c) for c in checks]
    return Hint(zh="、".join(n.zh for n in names), en=", ".join(n.en for n in names))


MESSAGES: dict[Effect, Hint] = {
    Effect.NONE: Hint(zh="复检通过。", en="Re-check passed."),
    Effect.WARN: Hint(zh="复检通过，但有警告。", en="Re-check passed, with a warning."),
    Effect.NOT_READY_NOW: Hint(
        zh="复检未通过（{failing}）：您的状态已改为“未就绪”（{reason}）。请按提示处理，然后重新检查"
        "（homeagent check）；通过后即可恢复就绪。",
        en="Re-check not passed ({failing}): you are now not ready ({reason}). Do what the "
        "checks say, then check again (`homeagent check`); once it passes you may go ready.",
    ),
    Effect.NOT_READY_NEXT: Hint(
        zh="复检未通过（{failing}）：请正常完成当前通话，结束后状态将改为“未就绪”（{reason}）。"
        "请在通话后按提示处理，然后重新检查（homeagent check）。",
        en="Re-check not passed ({failing}): finish this contact as usual; when it ends you "
        "will be set to not ready ({reason}). Then do what the checks say and check again "
        "(`homeagent check`).",
    ),
    Effect.HELD: Hint(
        zh="复检未通过（{failing}）：您仍为“{status}”，在检查通过之前无法切换为就绪。请按提示处理，"
        "然后重新检查（homeagent check）。",
        en="Re-check not passed ({failing}): you stay {status}, and cannot go ready until the "
        "checks pass. Do what they say, then check again (`homeagent check`).",
    ),
    Effect.MAY_GO_READY: Hint(
        zh="复检通过：问题已解决，您可以恢复就绪了（homeagent status ready）。",
        en="Re-check passed: the problem is fixed, you may go ready again "
        "(`homeagent status ready`).",
    ),
    Effect.NEXT_DROPPED: Hint(
        zh="复检通过：问题已解决，本次通话结束后不再改为“未就绪”。",
        en="Re-check passed: the problem is fixed, you will not be set to not ready after this "
        "contact.",
    ),
}
