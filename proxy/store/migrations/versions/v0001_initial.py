"""The first schema: agents, enrolment codes, devices, sessions, status, heartbeats, posture
reports, gateway instances and the audit chain.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
    )
    op.create_table(
        "gateway_instances",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_instances")),
    )
    op.create_table(
        "audit_records",
        sa.Column("instance", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(length=27), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("prev", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("sig", sa.String(length=88), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance"],
            ["gateway_instances.id"],
            name=op.f("fk_audit_records_instance_gateway_instances"),
        ),
        sa.PrimaryKeyConstraint("instance", "seq", name=op.f("pk_audit_records")),
    )
    op.create_index("ix_audit_records_at", "audit_records", ["at"], unique=False)
    op.create_table(
        "devices",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_devices_agent_id_agents")
        ),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_devices")),
    )
    op.create_index(op.f("ix_devices_agent_id"), "devices", ["agent_id"], unique=False)
    op.create_table(
        "enrolment_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("device_fingerprint", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_enrolment_codes_agent_id_agents")
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_enrolment_codes")),
    )
    op.create_index(
        op.f("ix_enrolment_codes_agent_id"), "enrolment_codes", ["agent_id"], unique=False
    )
    op.create_table(
        "posture_reports",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("device_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("measurements", sa.Text(), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("failing_checks", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_posture_reports_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["device_fingerprint"],
            ["devices.fingerprint"],
            name=op.f("fk_posture_reports_device_fingerprint_devices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posture_reports")),
    )
    op.create_index(
        "ix_posture_reports_agent_id_id", "posture_reports", ["agent_id", "id"], unique=False
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=43), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("device_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_sessions_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["device_fingerprint"],
            ["devices.fingerprint"],
            name=op.f("fk_sessions_device_fingerprint_devices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    op.create_index(
        "ix_sessions_agent_id_started_at", "sessions", ["agent_id", "started_at"], unique=False
    )
    op.create_index(
        "uq_sessions_open_agent",
        "sessions",
        ["agent_id"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_table(
        "heartbeats",
        sa.Column("session_id", sa.String(length=43), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_heartbeats_session_id_sessions")
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_heartbeats")),
    )
    op.create_table(
        "status_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=43), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("client_event_id", sa.String(length=64), nullable=True),
        sa.Column("client_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("server_time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_status_events_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_status_events_session_id_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_events")),
        sa.UniqueConstraint(
            "agent_id", "client_event_id", name=op.f("uq_status_events_agent_id_client_event_id")
        ),
    )
    op.create_index(
        "ix_status_events_agent_id_id", "status_events", ["agent_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_status_events_agent_id_id", table_name="status_events")
    op.drop_table("status_events")
    op.drop_table("heartbeats")
    op.drop_index(
        "uq_sessions_open_agent",
        table_name="sessions",
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.drop_index("ix_sessions_agent_id_started_at", table_name="sessions")
    op.drop_table("sessions")
    op.drop_index("ix_posture_reports_agent_id_id", table_name="posture_reports")
    op.drop_table("posture_reports")
    op.drop_index(op.f("ix_enrolment_codes_agent_id"), table_name="enrolment_codes")
    op.drop_table("enrolment_codes")
    op.drop_index(op.f("ix_devices_agent_id"), table_name="devices")
    op.drop_table("devices")
    op.drop_index("ix_audit_records_at", table_name="audit_records")
    op.drop_table("audit_records")
    op.drop_table("gateway_instances")
    op.drop_table("agents")
