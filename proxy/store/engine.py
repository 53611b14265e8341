"""Connecting to the store's database: a SQLite file set up for durability, or PostgreSQL."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

BUSY_TIMEOUT_MS = 10_000
WRITE_OPTION = "homeagent_write"
"""Execution option marking a connection whose transactions write (SQLite: BEGIN IMMEDIATE)."""


def sqlite_url(path: Path) -> str:
    return URL.create("sqlite+pysqlite", database=str(path)).render_as_string()


def make_engine(url: str, *, durable: bool = True) -> Engine:
    """An engine for `sqlite:///FILE` or `postgresql+psycopg://...`. Not `durable`: a commit
    returns before it is on disk, for counts that are not worth a flush each (a crash of the
    machine or the database may forget their last moments)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ValueError("the store needs a SQLite file, not an in-memory database")
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _set_up_sqlite(engine, "FULL" if durable else "NORMAL")
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        # No pre-ping: it costs a round trip on every checkout, doubling the per-flow session
        # check. After a database restart the first statement on a dead connection fails
        # (that flow is blocked: fail closed) and SQLAlchemy then discards the whole pool.
        options = {} if durable else {"options": "-c synchronous_commit=off"}
        return create_engine(parsed, pool_pre_ping=False, connect_args=options)
    raise ValueError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite:///FILE "
        "or postgresql+psycopg://USER@HOST/DB"
    )


def _set_up_sqlite(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        # The driver's own transaction handling would hide BEGIN from us; we issue it below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        _enter_wal(cursor)
        # FULL: a commit that returned is on disk (acknowledged == durable, even on power loss).
        # NORMAL (WAL): on disk at the next checkpoint; only for the rate counts' own engine.
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Any) -> None:
        # A writer takes the write lock up front: a deferred transaction that reads and then
        # writes fails at once (SQLITE_BUSY) when another process wrote in between. Readers
        # issue no BEGIN: each of their statements reads its own consistent snapshot, and the
        # per-flow session check saves a round of BEGIN and ROLLBACK.
        if conn.get_execution_options().get(WRITE_OPTION, False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def _enter_wal(cursor: Any) -> None:
    """Switch to WAL. On a fresh file several instances starting together race for that switch,
    and SQLite answers the losers `database is locked` at once, without waiting the busy
    timeout: so wait and try again here, within the same bound."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.01
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
