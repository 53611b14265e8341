"""Bringing a database to the current schema with the Alembic migrations shipped in this
package, safely when several gateway instances start at once.
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from .engine import WRITE_OPTION
from .errors import SchemaTooNew

MIGRATIONS = Path(__file__).with_name("migrations")
LOCK_KEY = 0x686F6D65_6167  # "homeag": one advisory lock for schema changes, cluster-wide
# Alembic runs env.py through a module-global `context`: two threads migrating at once (even
# different databases) would trample each other's environment.
_ALEMBIC = threading.Lock()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine) -> None:
    """Migrate to head. PostgreSQL: under a transaction-scoped advisory lock, so two instances
    starting together take turns; SQLite: under the database's write lock (BEGIN IMMEDIATE)."""
    config = alembic_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    with _ALEMBIC, engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
            current = current_revision(conn)
            if current == head:
                return
            known = {s.revision for s in ScriptDirectory.from_config(config).walk_revisions()}
            if current is not None and current not in known:
                raise SchemaTooNew(
                    f"the database is at schema {current}, which this homeagent does not know; "
                    "upgrade homeagent"
                )
            config.attributes["connection"] = conn
            command.upgrade(config, "head")


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()
