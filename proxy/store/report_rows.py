"""What the supervisor's reports read from the store: shifts, status changes and clock-ins
over a window, who is on shift now, and the audit log's blocked and would-block flows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import and_, func, not_, or_, select

from ..core.agent_status import AgentStatus
from ..reports.attendance import ShiftRecord
from ..reports.floor import OnShift
from ..reports.status_time import StatusChange
from .audit import STREAM_BATCH, _record
from .base import StoreBase
from .clock import as_utc, audit_time
from .schema import audit_records, heartbeats, sessions, status_events

# Audit data is canonical JSON (sorted keys, no spaces): these substrings pick out the flows a
# security report wants without parsing every record; the report checks each one it parses.
_DENIED = '"decision":"deny"'
_NOTHING_WOULD_BLOCK = '"would_block":[]'


class ReportRows(StoreBase):
    def shifts_started(self, since: dt.datetime, until: dt.datetime) -> list[ShiftRecord]:
        """Sessions clocked in within [since, until): a shift belongs to the day it began."""
        query = (
            select(sessions)
            .where(sessions.c.started_at >= as_utc(since), sessions.c.started_at < as_utc(until))
            .order_by(sessions.c.agent_id, sessions.c.started_at)
        )
        with self._read() as conn:
            return [
                ShiftRecord(
                    row["agent_id"],
                    row["role"],
                    row["id"],
                    row["started_at"],
                    row["ended_at"],
                    row["end_reason"],
                )
                for row in conn.execute(query).mappings()
            ]

    def status_changes(self, since: dt.datetime, until: dt.datetime) -> list[StatusChange]:
        """Status changes and clock-ins in [since, until), and what each agent was doing when
        the window opened: their last status change before it, and the clock-in of a session
        open at that moment."""
        start, end = as_utc(since), as_utc(until)
        before = (
            select(func.max(status_events.c.id))
            .where(status_events.c.server_time < start)
            .group_by(status_events.c.agent_id)
        )
        events = (
            select(
                status_events.c.agent_id,
                status_events.c.status,
                status_events.c.reason,
                status_events.c.server_time,
            )
            .where(
                or_(
                    and_(status_events.c.server_time >= start, status_events.c.server_time < end),
                    status_events.c.id.in_(before),
                )
            )
            .order_by(status_events.c.agent_id, status_events.c.id)
        )
        clock_ins = select(sessions.c.agent_id, sessions.c.started_at).where(
            sessions.c.started_at < end,
            or_(sessions.c.ended_at.is_(None), sessions.c.ended_at >= start),
        )
        with self._read() as conn:
            changes = [
                StatusChange(row[0], AgentStatus(row[1]), row[2], row[3])
                for row in conn.execute(events)
            ]
            changes += [StatusChange(row[0], None, None, row[1]) for row in conn.execute(clock_ins)]
        return changes

    def on_shift(self) -> list[OnShift]:
        """Every open session with the agent's latest status in it (None before the first)
        and the client's last heartbeat."""
        latest = (
            select(func.max(status_events.c.id).label("id"))
            .join(sessions, sessions.c.id == status_events.c.session_id)
            .where(sessions.c.ended_at.is_(None))
            .group_by(status_events.c.session_id)
            .subquery()
        )
        current = (
            select(
                status_events.c.session_id,
                status_events.c.status,
                status_events.c.reason,
                status_events.c.server_time,
            )
            .join(latest, latest.c.id == status_events.c.id)
            .subquery()
        )
        query = (
            select(
                sessions.c.agent_id,
                sessions.c.role,
                sessions.c.started_at,
                current.c.status,
                current.c.reason,
                current.c.server_time,
                heartbeats.c.last_seen,
            )
            .outerjoin(current, current.c.session_id == sessions.c.id)
            .outerjoin(heartbeats, heartbeats.c.session_id == sessions.c.id)
            .where(sessions.c.ended_at.is_(None))
            .order_by(sessions.c.agent_id)
        )
        with self._read() as conn:
            return [
                OnShift(
                    row[0],
                    row[1],
                    row[2],
                    AgentStatus(row[3]) if row[3] is not None else None,
                    row[4],
                    row[5] if row[5] is not None else row[2],
                    row[6],
                )
                for row in conn.execute(query)
            ]

    def security_flows(self, since: dt.datetime, until: dt.datetime) -> Iterator[dict[str, Any]]:
        """Audit `flow` records in [since, until) that were refused or that a report-only rule
        would have refused, streamed."""
        query = (
            select(audit_records)
            .where(
                audit_records.c.kind == "flow",
                audit_records.c.at >= audit_time(since),
                audit_records.c.at < audit_time(until),
                or_(
                    audit_records.c.data.contains(_DENIED, autoescape=True),
                    not_(audit_records.c.data.contains(_NOTHING_WOULD_BLOCK, autoescape=True)),
                ),
            )
            .order_by(audit_records.c.at, audit_records.c.instance, audit_records.c.seq)
        )
        # A transaction, not an autocommit read: PostgreSQL's server-side cursor needs one.
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=STREAM_BATCH).execute(query)
            for row in result.mappings():
                yield _record(row)
