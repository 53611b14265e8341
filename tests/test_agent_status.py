"""The agent status machine: what an agent may move to from where, and with which reasons."""

from __future__ import annotations

import pytest

from homeagent.proxy.core.agent_status import (
    ALLOWED,
    AgentStatus,
    StatusError,
    check_transition,
    parse_status,
)

S = AgentStatus


@pytest.mark.parametrize(
    ("current", "target", "reason"),
    [
        (S.OFFLINE, S.NOT_READY, "checks"),
        (S.OFFLINE, S.READY, None),
        (S.READY, S.BUSY, None),
        (S.BUSY, S.AFTER_CALL_WORK, None),
        (S.BUSY, S.READY, None),
        (S.AFTER_CALL_WORK, S.BREAK, "lunch"),
        (S.AFTER_CALL_WORK, S.BREAK, None),
        (S.NOT_READY, S.NOT_READY, "training"),
        (S.BREAK, S.READY, None),
        (S.BUSY, S.OFFLINE, "connection_lost"),
        (S.READY, S.NOT_READY, "posture.noise"),
    ],
)
def test_allowed_changes(current: AgentStatus, target: AgentStatus, reason: str | None) -> None:
    assert check_transition(current, target, reason) is target


@pytest.mark.parametrize(
    ("current", "target", "reason", "message"),
    [
        (S.NOT_READY, S.BUSY, None, "cannot go from not_ready to busy"),
        (S.OFFLINE, S.BUSY, None, "cannot go from offline to busy"),
        (S.BREAK, S.BUSY, None, "cannot go from break to busy"),
        (S.BUSY, S.BREAK, None, "cannot go from busy to break"),
        (S.READY, S.READY, None, "cannot go from ready to ready"),
        (S.OFFLINE, S.AFTER_CALL_WORK, None, "cannot go from offline"),
        (S.READY, S.NOT_READY, None, "not_ready needs a reason"),
        (S.READY, S.NOT_READY, "", "not_ready needs a reason"),
        (S.NOT_READY, S.READY, "because", "ready takes no reason"),
        (S.READY, S.NOT_READY, "Coffee Break", "is not a code"),
        (S.READY, S.NOT_READY, "x" * 65, "is not a code"),
    ],
)
def test_refused_changes(
    current: AgentStatus, target: AgentStatus, reason: str | None, message: str
) -> None:
    with pytest.raises(StatusError, match=message):
        check_transition(current, target, reason)


def test_offline_is_reachable_from_every_state_and_busy_only_from_ready() -> None:
    assert all(S.OFFLINE in ALLOWED[s] for s in S if s is not S.OFFLINE)
    assert {s for s in S if S.BUSY in ALLOWED[s]} == {S.READY}


@pytest.mark.parametrize("text", ["Ready", "away", ""])
def test_unknown_status_names_are_refused(text: str) -> None:
    with pytest.raises(StatusError, match="unknown status"):
        parse_status(text)
