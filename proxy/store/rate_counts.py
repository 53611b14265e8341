"""Rate-limit counts shared by every gateway instance: one atomic upsert per agent, limit and
request (this fixed window's count, and the window before's), which `core.limits.judge` weighs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, and_, case, update
from sqlalchemy.dialects import postgresql, sqlite

from ..core.limits import WindowCount
from .base import StoreBase
from .schema import rate_counts


class RateCounts(StoreBase):
    @contextmanager
    def _write_one(self) -> Iterator[Connection]:
        """A connection for one writing statement. PostgreSQL: autocommit, so the statement is
        the whole round-trip (no BEGIN, no COMMIT); SQLite: a write transaction (BEGIN IMMEDIATE,
        see engine.py), local and quick."""
        if self.engine.dialect.name == "postgresql":
            with self._reader.connect() as conn:
                yield conn
        else:
            with self._write() as tx:
                yield tx.conn

    def count_request(self, agent_id: str, limit: str, window: int) -> WindowCount:
        """Count one request by `agent_id` against `limit` in fixed window `window` (atomic
        across instances: concurrent requests each see a distinct count)."""
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        t = rate_counts
        stmt = dialect.insert(t).values(
            agent_id=agent_id, limit_name=limit, window=window, current=1, previous=0
        )
        excluded = stmt.excluded
        # Every right-hand side below reads the row as it was before this update.
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.agent_id, t.c.limit_name],
            set_={
                "previous": case(
                    (t.c.window == excluded.window, t.c.previous),
                    (t.c.window == excluded.window - 1, t.c.current),
                    else_=0,
                ),
                "current": case((t.c.window == excluded.window, t.c.current + 1), else_=1),
                "window": excluded.window,
            },
        ).returning(t.c.window, t.c.current, t.c.previous)
        with self._write_one() as conn:
            row = conn.execute(stmt).one()
        return WindowCount(int(row.window), int(row.current), int(row.previous))

    def uncount_request(self, agent_id: str, limit: str, window: int) -> None:
        """Take back a request `count_request` counted (it was refused), if its window is
        still the current one."""
        t = rate_counts
        stmt = (
            update(t)
            .where(and_(t.c.agent_id == agent_id, t.c.limit_name == limit, t.c.window == window))
            .where(t.c.current > 0)
            .values(current=t.c.current - 1)
        )
        with self._write_one() as conn:
            conn.execute(stmt)
