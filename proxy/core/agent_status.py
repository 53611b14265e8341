"""An agent's status in the shift (ready, busy, break…) and which changes are allowed, so that
every gateway instance and the supervisor's reports agree on what an agent may do next.
"""

from __future__ import annotations

import re
from enum import StrEnum


class AgentStatus(StrEnum):
    NOT_READY = "not_ready"
    READY = "ready"
    BUSY = "busy"
    AFTER_CALL_WORK = "after_call_work"
    BREAK = "break"
    OFFLINE = "offline"


class StatusError(ValueError):
    """A status change that must be refused; the message says why, for the agent's screen."""


REASON_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
"""Reasons are codes (`meeting`, `posture.noise`), not prose: reports group by them."""

NEEDS_REASON = frozenset({AgentStatus.NOT_READY})
TAKES_REASON = frozenset({AgentStatus.NOT_READY, AgentStatus.BREAK, AgentStatus.OFFLINE})

ALLOWED: dict[AgentStatus, frozenset[AgentStatus]] = {
    # Clock-in starts not ready (checks, notice) or straight in ready.
    AgentStatus.OFFLINE: frozenset({AgentStatus.NOT_READY, AgentStatus.READY}),
    # Changing the not-ready reason (meeting -> training) is a change worth recording.
    AgentStatus.NOT_READY: frozenset(
        {AgentStatus.NOT_READY, AgentStatus.READY, AgentStatus.BREAK, AgentStatus.OFFLINE}
    ),
    AgentStatus.READY: frozenset(
        {AgentStatus.BUSY, AgentStatus.NOT_READY, AgentStatus.BREAK, AgentStatus.OFFLINE}
    ),
    # A contact ends in after-call work, straight back to ready, or not ready; a break must wait.
    # Offline stays reachable from everywhere: a lost connection cannot be refused.
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


def parse_status(text: str) -> AgentStatus:
    try:
        return AgentStatus(text)
    except ValueError:
        known = ", ".join(s.value for s in AgentStatus)
        raise StatusError(f"unknown status {text!r} (one of: {known})") from None


def check_transition(current: AgentStatus, target: AgentStatus, reason: str | None) -> AgentStatus:
    """`target` when an agent in `current` may move to it with this reason, else StatusError."""
    if target in NEEDS_REASON and not reason:
        raise StatusError(f"{target.value} needs a reason code")
    if reason is not None:
        if target not in TAKES_REASON:
            raise StatusError(f"{target.value} takes no reason (got {reason!r})")
        if not REASON_PATTERN.fullmatch(reason):
            raise StatusError(
                f"reason {reason!r} is not a code (lower-case letters, digits, '_.-', ≤ 64)"
            )
    if target not in ALLOWED[current]:
        raise StatusError(f"cannot go from {current.value} to {target.value}")
    return target
