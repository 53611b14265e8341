"""An index on status changes by time, for the supervisor's status report over a window.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_status_events_server_time"), "status_events", ["server_time"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_status_events_server_time"), table_name="status_events")
