"""Alembic's entry point: runs the migrations on the connection `migrate.upgrade` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

# Absolute: Alembic loads this file by path, outside the package.
from homeagent.proxy.store.schema import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through homeagent.proxy.store.migrate.upgrade()")
# render_as_batch: SQLite cannot ALTER most things; batch mode rebuilds the table instead.
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
