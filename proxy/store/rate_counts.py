"""Rate-limit counts shared by every gateway instance: one atomic upsert per proxied request
(for every limit it matches at once) bumps this fixed window's count and keeps the window
before's, which `core.limits.judge` weighs into a sliding estimate."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, and_, case, create_engine, event, update
from sqlalchemy.dialects import postgresql, sqlite

from ..core.limits import WindowCount
from .base import StoreBase
from .clock import Clock, utc_now
from .engine import make_engine
from .schema import rate_counts


def counts_engine(engine: Engine) -> Engine:
    """A second engine on the same database for the counts alone: each statement commits on
    its own (one round-trip) and without waiting for the disk. A crash of the database may
    forget the last fraction of a second of counts — an agent gets that much more allowance —
    while every flow's audit record and status change still waits for the disk, as before."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "postgresql":
        return create_engine(
            engine.url,
            isolation_level="AUTOCOMMIT",
            pool_pre_ping=False,
            connect_args={"options": "-c synchronous_commit=off"},
        )
    counts = make_engine(url)

    @event.listens_for(counts, "connect")
    def relaxed(dbapi_connection: Any, record: Any) -> None:
        # WAL + NORMAL: the commit is atomic and consistent, synced at the next checkpoint
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    return counts


class RateCounts(StoreBase):
    def __init__(self, engine: Engine, clock: Clock = utc_now) -> None:
        super().__init__(engine, clock)
        self._counts = counts_engine(engine)

    def count_request(
        self, agent_id: str, limits: list[str], window: dict[str, int]
    ) -> dict[str, WindowCount]:
        """Count one request by `agent_id` against each of `limits`, each in its fixed window
        `window[limit]`: atomic across instances (concurrent requests see distinct counts)."""
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        t = rate_counts
        rows = [
            {"agent_id": agent_id, "limit_name": limit, "window": window[limit], "current": 1,
             "previous": 0}
            for limit in limits
        ]  # fmt: skip
        stmt = dialect.insert(t).values(rows)
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
        ).returning(t.c.limit_name, t.c.window, t.c.current, t.c.previous)
        with self._counts.connect() as conn:
            found = conn.execute(stmt).all()
        return {
            row.limit_name: WindowCount(int(row.window), int(row.current), int(row.previous))
            for row in found
        }

    def uncount_request(self, agent_id: str, window: dict[str, int]) -> None:
        """Take back a request `count_request` counted (it was refused), from each limit whose
        window is still the one it was counted in."""
        t = rate_counts
        with self._counts.connect() as conn:
            for limit, index in window.items():
                conn.execute(
                    update(t)
                    .where(and_(t.c.agent_id == agent_id, t.c.limit_name == limit))
                    .where(and_(t.c.window == index, t.c.current > 0))
                    .values(current=t.c.current - 1)
                )
