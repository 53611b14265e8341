"""Time in each status per agent over a window: each status change runs until the agent's next
one, clipped to the window; a status still current counts up to now or the window's end."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..core.agent_status import AgentStatus

WORKING = (
    AgentStatus.READY,
    AgentStatus.BUSY,
    AgentStatus.AFTER_CALL_WORK,
    AgentStatus.NOT_READY,
    AgentStatus.BREAK,
)
"""The statuses a clocked-in agent can be in, in the order the report shows them."""
NO_STATUS = "no_status"
"""Clocked in, no status chosen yet (the client is still checking, or the notice is open)."""


@dataclass(frozen=True, slots=True)
class StatusChange:
    agent: str
    status: AgentStatus | None
    """None: a clock-in, which starts the shift with no status yet."""
    reason: str | None
    at: dt.datetime

    @property
    def rank(self) -> int:
        """At one instant a session ends (offline), the next begins, then its statuses."""
        if self.status is AgentStatus.OFFLINE:
            return 0
        return 1 if self.status is None else 2


@dataclass(frozen=True, slots=True)
class StatusTimeRow:
    agent: str
    time_in: dict[AgentStatus | None, dt.timedelta] = field(default_factory=dict)
    """Every status of WORKING and None (no status yet), zero when never in it."""
    reasons: dict[str, dt.timedelta] = field(default_factory=dict)
    """Not-ready and break time by reason code (`not_ready:meeting`, `break:lunch`)."""
    still_on: bool = False
    """Clocked in at the window's end (or now): the last status is still running."""

    @property
    def on_shift(self) -> dt.timedelta:
        return sum(self.time_in.values(), dt.timedelta())


def status_time(
    changes: Iterable[StatusChange], since: dt.datetime, until: dt.datetime, now: dt.datetime
) -> list[StatusTimeRow]:
    """Rows by agent, for agents with any time in a working status inside [since, until).
    `changes` hold status changes and clock-ins, each agent's last one before `since` included
    (it says what the agent was doing when the window opened); they are taken in time order,
    ties in the order given."""
    end = min(until, now)
    by_agent: dict[str, list[StatusChange]] = defaultdict(list)
    for change in changes:
        by_agent[change.agent].append(change)
    for history in by_agent.values():
        history.sort(key=lambda change: (change.at, change.rank))
    rows = []
    for agent in sorted(by_agent):
        time_in: dict[AgentStatus | None, dt.timedelta] = dict.fromkeys(
            [*WORKING, None], dt.timedelta()
        )
        reasons: dict[str, dt.timedelta] = defaultdict(dt.timedelta)
        history = by_agent[agent]
        for change, following in zip(history, [*history[1:], None], strict=True):
            if change.status is AgentStatus.OFFLINE:
                continue
            stop = following.at if following is not None else end
            span = min(stop, end) - max(change.at, since)
            if span <= dt.timedelta():
                continue
            time_in[change.status] += span
            if change.reason and change.status is not None:
                reasons[f"{change.status.value}:{change.reason}"] += span
        still_on = history[-1].status is not AgentStatus.OFFLINE and history[-1].at < end
        if any(time_in.values()):
            rows.append(StatusTimeRow(agent, time_in, dict(sorted(reasons.items())), still_on))
    return rows
