"""An agent's shift: clock-in sessions, status changes (idempotent for the client's offline
queue) and heartbeats, all with server time stamps.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import Connection, RowMapping, bindparam, insert, select, update

from ..core.agent_status import REASON_PATTERN, AgentStatus, check_transition, parse_status
from .agents import agent_row, enabled_agent
from .audit import AuditWriter
from .base import StoreBase, Transaction, upsert
from .clock import as_utc
from .errors import (
    SessionNotActive,
    UnknownAgent,
    UnknownDevice,
)
from .model import Session, StatusEvent
from .schema import devices, heartbeats, sessions, status_events

TOKEN_TTL = dt.timedelta(minutes=30)
CLIENT_EVENT_ID_MAX = 64
# Built once: this check runs for every flow the gateway sees.
_OPEN_SESSION = select(sessions.c.id).where(
    sessions.c.id == bindparam("session"), sessions.c.ended_at.is_(None)
)


class ShiftLog(StoreBase):
    def start_session(
        self,
        agent_id: str,
        device_fingerprint: str,
        *,
        token_ttl: dt.timedelta = TOKEN_TTL,
        now: dt.datetime | None = None,
        audit: AuditWriter | None = None,
    ) -> Session:
        """Clock in on an enrolled device. An open session of the same agent (a PC that crashed
        before clock-out) ends as `superseded`: one open session per agent."""
        at = self._now(now)
        with self._write(audit) as tx:
            agent = enabled_agent(tx.conn, agent_id, lock=True)
            device = tx.conn.execute(
                select(devices.c.fingerprint).where(
                    devices.c.fingerprint == device_fingerprint,
                    devices.c.agent_id == agent_id,
                    devices.c.revoked_at.is_(None),
                )
            ).first()
            if device is None:
                raise UnknownDevice(
                    f"device {device_fingerprint[:12]}… is not enrolled for agent {agent_id}: "
                    "enrol it with a new code"
                )
            end_open_sessions(tx, agent_id, "superseded", at)
            session = Session(
                id=secrets.token_urlsafe(24),
                agent=agent_id,
                device=device_fingerprint,
                role=agent.role,
                started_at=at,
                token_expires_at=at + token_ttl,
            )
            tx.conn.execute(
                insert(sessions).values(
                    id=session.id,
                    agent_id=agent_id,
                    device_fingerprint=device_fingerprint,
                    role=agent.role,
                    started_at=at,
                    token_expires_at=session.token_expires_at,
                )
            )
            tx.audit(
                "clock.in",
                {"agent": agent_id, "session": session.id, "device": device_fingerprint},
                at,
            )
        return session

    def renew_session(
        self,
        session_id: str,
        *,
        token_ttl: dt.timedelta = TOKEN_TTL,
        now: dt.datetime | None = None,
    ) -> Session:
        """Push the token expiry out (a fresh token is issued with it)."""
        at = self._now(now)
        with self._write() as tx:
            changed = tx.conn.execute(
                update(sessions)
                .where(sessions.c.id == session_id, sessions.c.ended_at.is_(None))
                .values(token_expires_at=at + token_ttl)
            )
            if changed.rowcount != 1:
                raise SessionNotActive("this session has ended: clock in again")
            return _session(_session_row(tx.conn, session_id))

    def end_session(
        self,
        session_id: str,
        reason: str,
        *,
        now: dt.datetime | None = None,
        audit: AuditWriter | None = None,
    ) -> Session:
        """Clock out (`clock_out`), or end for another reason (`posture_expired`…). Ending a
        session that already ended changes nothing and returns it."""
        if not REASON_PATTERN.fullmatch(reason):
            raise ValueError(f"end reason {reason!r} is not a code")
        at = self._now(now)
        with self._write(audit) as tx:
            row = _session_row(tx.conn, session_id)
            if row["ended_at"] is None:
                _lock_agent(tx.conn, row["agent_id"])
                _end_session(tx, row, reason, at)
                row = _session_row(tx.conn, session_id)
            return _session(row)

    def get_session(self, session_id: str) -> Session | None:
        with self._read() as conn:
            row = (
                conn.execute(select(sessions).where(sessions.c.id == session_id))
                .mappings()
                .one_or_none()
            )
        return None if row is None else _session(row)

    def is_session_active(self, session_id: str) -> bool:
        """False once the session ended (clock-out, disable, posture expiry) or if unknown:
        what `read_token`'s `is_revoked` asks."""
        with self._read() as conn:
            return conn.execute(_OPEN_SESSION, {"session": session_id}).first() is not None

    def open_session(self, agent_id: str) -> Session | None:
        with self._read() as conn:
            row = (
                conn.execute(
                    select(sessions).where(
                        sessions.c.agent_id == agent_id, sessions.c.ended_at.is_(None)
                    )
                )
                .mappings()
                .one_or_none()
            )
        return None if row is None else _session(row)

    def record_status(
        self,
        agent_id: str,
        session_id: str,
        status: AgentStatus | str,
        reason: str | None = None,
        *,
        client_event_id: str | None = None,
        client_time: dt.datetime | None = None,
        now: dt.datetime | None = None,
        audit: AuditWriter | None = None,
    ) -> StatusEvent:
        """Record a status change in an open session, if the state machine allows it. The same
        `client_event_id` delivered again returns the stored event (`duplicate=True`)."""
        target = parse_status(status)
        if client_event_id is not None and not 0 < len(client_event_id) <= CLIENT_EVENT_ID_MAX:
            raise ValueError(f"client event ID must be 1 to {CLIENT_EVENT_ID_MAX} characters")
        client_at = as_utc(client_time) if client_time is not None else None
        at = self._now(now)
        with self._write(audit) as tx:
            _lock_agent(tx.conn, agent_id)
            if client_event_id is not None:
                seen = (
                    tx.conn.execute(
                        select(status_events).where(
                            status_events.c.agent_id == agent_id,
                            status_events.c.client_event_id == client_event_id,
                        )
                    )
                    .mappings()
                    .one_or_none()
                )
                if seen is not None:
                    return _status_event(seen, duplicate=True)
            session = tx.conn.execute(
                select(sessions.c.id).where(
                    sessions.c.id == session_id,
                    sessions.c.agent_id == agent_id,
                    sessions.c.ended_at.is_(None),
                )
            ).first()
            if session is None:
                raise SessionNotActive(f"agent {agent_id} has no open session {session_id}")
            check_transition(_current(tx.conn, agent_id), target, reason)
            event = _insert_status(
                tx, agent_id, session_id, target, reason, at, client_event_id, client_at
            )
        return event

    def current_status(self, agent_id: str) -> StatusEvent | None:
        """The agent's latest status event (None: never clocked in, i.e. offline)."""
        with self._read() as conn:
            row = _latest_status(conn, agent_id)
        return None if row is None else _status_event(row)

    def status_history(
        self, agent_id: str, *, since: dt.datetime | None = None
    ) -> list[StatusEvent]:
        query = select(status_events).where(status_events.c.agent_id == agent_id)
        if since is not None:
            query = query.where(status_events.c.server_time >= as_utc(since))
        with self._read() as conn:
            rows = conn.execute(query.order_by(status_events.c.id)).mappings().all()
        return [_status_event(row) for row in rows]

    def heartbeat(self, session_id: str, *, now: dt.datetime | None = None) -> None:
        at = self._now(now)
        with self._write() as tx:
            if not tx.conn.execute(
                select(sessions.c.id).where(
                    sessions.c.id == session_id, sessions.c.ended_at.is_(None)
                )
            ).first():
                raise SessionNotActive("this session has ended: clock in again")
            upsert(
                tx.conn,
                heartbeats,
                {"session_id": session_id, "last_seen": at},
                keys=["session_id"],
                update=["last_seen"],
            )

    def last_heartbeat(self, session_id: str) -> dt.datetime | None:
        with self._read() as conn:
            return conn.execute(
                select(heartbeats.c.last_seen).where(heartbeats.c.session_id == session_id)
            ).scalar_one_or_none()


def end_open_sessions(tx: Transaction, agent_id: str, reason: str, at: dt.datetime) -> None:
    """End the agent's open session, if any (the caller holds the agent's lock)."""
    rows = (
        tx.conn.execute(
            select(sessions).where(sessions.c.agent_id == agent_id, sessions.c.ended_at.is_(None))
        )
        .mappings()
        .all()
    )
    for row in rows:
        _end_session(tx, row, reason, at)


def _end_session(tx: Transaction, row: RowMapping, reason: str, at: dt.datetime) -> None:
    tx.conn.execute(
        update(sessions).where(sessions.c.id == row["id"]).values(ended_at=at, end_reason=reason)
    )
    # The shift's end is a status change too, so attendance reads from one table.
    _insert_status(tx, row["agent_id"], row["id"], AgentStatus.OFFLINE, reason, at, None, None)
    tx.audit("clock.out", {"agent": row["agent_id"], "session": row["id"], "reason": reason}, at)


def _insert_status(
    tx: Transaction,
    agent_id: str,
    session_id: str,
    status: AgentStatus,
    reason: str | None,
    at: dt.datetime,
    client_event_id: str | None,
    client_time: dt.datetime | None,
) -> StatusEvent:
    row_id = tx.conn.execute(
        insert(status_events)
        .values(
            agent_id=agent_id,
            session_id=session_id,
            status=status.value,
            reason=reason,
            client_event_id=client_event_id,
            client_time=client_time,
            server_time=at,
        )
        .returning(status_events.c.id)
    ).scalar_one()
    tx.audit(
        "status",
        {
            "agent": agent_id,
            "session": session_id,
            "status": status.value,
            "reason": reason,
            "client_event_id": client_event_id,
            "client_time": client_time.isoformat() if client_time else None,
        },
        at,
    )
    return StatusEvent(
        row_id, agent_id, session_id, status, reason, client_event_id, client_time, at
    )


def _lock_agent(conn: Connection, agent_id: str) -> None:
    """Lock the agent's row, enabled or not: this agent's changes go one at a time."""
    if agent_row(conn, agent_id, lock=True) is None:
        raise UnknownAgent(f"no agent {agent_id}")


def _session_row(conn: Connection, session_id: str) -> RowMapping:
    row = conn.execute(select(sessions).where(sessions.c.id == session_id)).mappings().one_or_none()
    if row is None:
        raise SessionNotActive(f"unknown session {session_id}")
    return row


def _latest_status(conn: Connection, agent_id: str) -> RowMapping | None:
    return (
        conn.execute(
            select(status_events)
            .where(status_events.c.agent_id == agent_id)
            .order_by(status_events.c.id.desc())
            .limit(1)
        )
        .mappings()
        .one_or_none()
    )


def _current(conn: Connection, agent_id: str) -> AgentStatus:
    row = _latest_status(conn, agent_id)
    return AgentStatus.OFFLINE if row is None else AgentStatus(row["status"])


def _session(row: RowMapping) -> Session:
    return Session(
        row["id"],
        row["agent_id"],
        row["device_fingerprint"],
        row["role"],
        row["started_at"],
        row["token_expires_at"],
        row["ended_at"],
        row["end_reason"],
    )


def _status_event(row: RowMapping, *, duplicate: bool = False) -> StatusEvent:
    return StatusEvent(
        row["id"],
        row["agent_id"],
        row["session_id"],
        AgentStatus(row["status"]),
        row["reason"],
        row["client_event_id"],
        row["client_time"],
        row["server_time"],
        duplicate,
    )
