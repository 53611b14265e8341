"""Signed control requests that hand out a session token, remembered while a replay of them
could still pass the clock check, so that each is taken once on every instance.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "used_signatures",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_used_signatures")),
    )
    op.create_index(
        op.f("ix_used_signatures_expires_at"), "used_signatures", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_used_signatures_expires_at"), table_name="used_signatures")
    op.drop_table("used_signatures")
