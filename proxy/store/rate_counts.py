"""Rate-limit windows kept in the store: each agent's recent requests per limit, counted and
judged in one transaction that locks the agent's rows, so that gateway instances sharing the
database cannot both let through the request that fills a window."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Mapping, Sequence

from sqlalchemy import select, text, update

from ..core.limits import LimitVerdict, SlidingWindow
from .base import StoreBase, upsert
from .schema import rate_windows

Judge = Callable[[Mapping[str, SlidingWindow]], LimitVerdict]
"""Decides on the windows, and appends the request's time to them when it is let through."""


class RateCounts(StoreBase):
    def count_request(self, agent_id: str, limits: Sequence[str], judge: Judge) -> LimitVerdict:
        """Load the agent's windows of `limits`, let `judge` decide, and keep what it counted.
        Counts are not worth a disk flush per request (PostgreSQL: no synchronous commit; a
        crash loses at most the last moments' counts, never an audit record)."""
        names = sorted(set(limits))  # one lock order for every instance: no deadlocks
        with self._write() as tx:
            conn = tx.conn
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL synchronous_commit TO OFF"))
            for name in names:  # rows to lock, even for a first request
                upsert(
                    conn,
                    rate_windows,
                    {"agent_id": agent_id, "limit_name": name, "times": "[]"},
                    keys=("agent_id", "limit_name"),
                )
            query = (
                select(rate_windows.c.limit_name, rate_windows.c.times)
                .where(rate_windows.c.agent_id == agent_id)
                .where(rate_windows.c.limit_name.in_(names))
                .order_by(rate_windows.c.limit_name)
            )
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            before = {row.limit_name: row.times for row in conn.execute(query)}
            windows = {name: SlidingWindow(deque(json.loads(before[name]))) for name in names}
            verdict = judge(windows)
            for name, window in windows.items():
                after = json.dumps(list(window.times))
                if after != before[name]:
                    conn.execute(
                        update(rate_windows)
                        .where(rate_windows.c.agent_id == agent_id)
                        .where(rate_windows.c.limit_name == name)
                        .values(times=after)
                    )
        return verdict
