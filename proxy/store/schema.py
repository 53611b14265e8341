"""The store's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL. Migrations in
`migrations/versions/` build exactly this; a test compares the two.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator

from .clock import as_utc

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC in, aware UTC out. SQLite keeps no zone, so it stores naive UTC; PostgreSQL
    keeps `timestamptz`."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        utc = as_utc(value)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# SQLite only auto-numbers an INTEGER PRIMARY KEY; PostgreSQL wants 64 bits for event tables.
AutoId = BigInteger().with_variant(Integer(), "sqlite")

AGENT_ID = 64
FINGERPRINT = 64  # hex SHA-256 of the device's raw public key

agents = Table(
    "agents",
    metadata,
    Column("id", String(AGENT_ID), primary_key=True),
    Column("role", String(64), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
)

enrolment_codes = Table(
    "enrolment_codes",
    metadata,
    # SHA-256 of the normalised code: a stolen database yields no usable code.
    Column("code_hash", String(64), primary_key=True),
    Column("agent_id", String(AGENT_ID), ForeignKey("agents.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
    Column("device_fingerprint", String(FINGERPRINT)),
)

devices = Table(
    "devices",
    metadata,
    Column("fingerprint", String(FINGERPRINT), primary_key=True),
    Column("agent_id", String(AGENT_ID), ForeignKey("agents.id"), nullable=False, index=True),
    Column("public_key", LargeBinary(32), nullable=False),
    Column("enrolled_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("revoke_reason", String(64)),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(43), primary_key=True),
    Column("agent_id", String(AGENT_ID), ForeignKey("agents.id"), nullable=False),
    Column(
        "device_fingerprint",
        String(FINGERPRINT),
        ForeignKey("devices.fingerprint"),
        nullable=False,
    ),
    Column("role", String(64), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("token_expires_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    Column("end_reason", String(64)),
    Index("ix_sessions_agent_id_started_at", "agent_id", "started_at"),
    # One open session per agent, whichever instance clocked them in.
    Index(
        "uq_sessions_open_agent",
        "agent_id",
        unique=True,
        sqlite_where=text("ended_at IS NULL"),
        postgresql_where=text("ended_at IS NULL"),
    ),
)

status_events = Table(
    "status_events",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("agent_id", String(AGENT_ID), ForeignKey("agents.id"), nullable=False),
    Column("session_id", String(43), ForeignKey("sessions.id")),
    Column("status", String(20), nullable=False),
    Column("reason", String(64)),
    # The client's ID for the event, so a redelivery from its offline queue is stored once.
    Column("client_event_id", String(64)),
    Column("client_time", UTCDateTime),
    Column("server_time", UTCDateTime, nullable=False),
    UniqueConstraint("agent_id", "client_event_id"),
    Index("ix_status_events_agent_id_id", "agent_id", "id"),
    # the supervisor's status report reads a window of days out of months of changes
    Index("ix_status_events_server_time", "server_time"),
)

heartbeats = Table(
    "heartbeats",
    metadata,
    # Its own table: the frequent update leaves the session row (and its index) alone.
    Column("session_id", String(43), ForeignKey("sessions.id"), primary_key=True),
    Column("last_seen", UTCDateTime, nullable=False),
)

posture_reports = Table(
    "posture_reports",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("agent_id", String(AGENT_ID), ForeignKey("agents.id"), nullable=False),
    Column(
        "device_fingerprint",
        String(FINGERPRINT),
        ForeignKey("devices.fingerprint"),
        nullable=False,
    ),
    Column("received_at", UTCDateTime, nullable=False),
    # The exact JSON the device signed, so the signature can be checked again later.
    Column("measurements", Text, nullable=False),
    Column("signature", LargeBinary(64), nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("failing_checks", Text, nullable=False),  # JSON list of check names
    Index("ix_posture_reports_agent_id_id", "agent_id", "id"),
)

gateway_instances = Table(
    "gateway_instances",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("public_key", LargeBinary(32), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("last_started_at", UTCDateTime, nullable=False),
)

audit_records = Table(
    "audit_records",
    metadata,
    Column("instance", String(64), ForeignKey("gateway_instances.id"), nullable=False),
    Column("seq", BigInteger, nullable=False, autoincrement=False),
    # Text, not a timestamp or JSON column: the hash covers these exact strings, and a JSON
    # column type (jsonb) would normalise them.
    Column("at", String(27), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("data", Text, nullable=False),
    Column("prev", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("sig", String(88), nullable=False),
    PrimaryKeyConstraint("instance", "seq"),
    Index("ix_audit_records_at", "at"),
)

rate_windows = Table(
    "rate_windows",
    metadata,
    # One row per agent and rate limit: the times (Unix seconds, a JSON list) of the requests
    # counted in the limit's window, shared by every gateway instance.
    Column("agent_id", String(64), nullable=False),
    Column("limit_name", String(64), nullable=False),
    Column("times", Text, nullable=False),
    PrimaryKeyConstraint("agent_id", "limit_name"),
)

used_signatures = Table(
    "used_signatures",
    metadata,
    # Signed control requests that may be taken only once (those that hand out a session
    # token), kept while their time is still within the clock window: a replay is refused.
    Column("digest", String(64), primary_key=True),
    Column("agent_id", String(64), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)
