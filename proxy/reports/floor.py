"""Who is on the floor now: each clocked-in agent's status and for how long, and the head
count per status the floor manager watches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..core.agent_status import AgentStatus
from .formats import Report
from .status_time import NO_STATUS, WORKING
from .window import zone_label


@dataclass(frozen=True, slots=True)
class OnShift:
    """An open session and the agent's latest status, as the store hands them out."""

    agent: str
    role: str
    clocked_in: dt.datetime
    status: AgentStatus | None
    """None: clocked in, no status chosen yet."""
    reason: str | None
    status_since: dt.datetime
    last_seen: dt.datetime | None


@dataclass(frozen=True, slots=True)
class FloorRow:
    agent: str
    role: str
    status: AgentStatus | None
    reason: str | None
    in_status: dt.timedelta
    on_shift: dt.timedelta
    clocked_in: dt.datetime
    last_seen: dt.datetime | None


def floor_rows(agents: Iterable[OnShift], now: dt.datetime) -> list[FloorRow]:
    """By status (in WORKING order), then longest in that status first: who has been on
    break longest is at the top of the breaks."""
    order: dict[AgentStatus | None, int] = {s: i for i, s in enumerate([*WORKING, None])}
    rows = [
        FloorRow(
            a.agent,
            a.role,
            a.status,
            a.reason,
            max(now - a.status_since, dt.timedelta()),
            max(now - a.clocked_in, dt.timedelta()),
            a.clocked_in,
            a.last_seen,
        )
        for a in agents
    ]
    rows.sort(key=lambda r: (order.get(r.status, len(order)), -r.in_status, r.agent))
    return rows


def head_count(rows: Iterable[FloorRow]) -> dict[AgentStatus | None, int]:
    """Agents per working status and None (no status yet), every one present, zero included."""
    counts: dict[AgentStatus | None, int] = dict.fromkeys([*WORKING, None], 0)
    for row in rows:
        if row.status in counts:
            counts[row.status] += 1
    return counts


FLOOR_COLUMNS = (
    "agent",
    "role",
    "status",
    "reason",
    "in_status",
    "on_shift",
    "clocked_in",
    "last_seen",
)


def floor_report(rows: Sequence[FloorRow], now: dt.datetime, zone: dt.tzinfo) -> Report:
    """The floor as a report: what `--once` prints and the view's export writes."""
    counts = head_count(rows)
    summary = ", ".join(
        f"{NO_STATUS if status is None else status.value} {count}"
        for status, count in counts.items()
    )
    return Report(
        "floor",
        FLOOR_COLUMNS,
        [
            {
                "agent": row.agent,
                "role": row.role,
                "status": NO_STATUS if row.status is None else row.status.value,
                "reason": row.reason,
                "in_status": row.in_status,
                "on_shift": row.on_shift,
                "clocked_in": row.clocked_in,
                "last_seen": row.last_seen,
            }
            for row in rows
        ],
        f"On shift {len(rows)} at {now.astimezone(zone):%Y-%m-%d %H:%M:%S} "
        f"({zone_label(zone, now)}): {summary}",
        {
            "at": now,
            "timezone": zone_label(zone, now),
            "head_count": {
                NO_STATUS if status is None else status.value: count
                for status, count in counts.items()
            },
        },
    )
