"""Rate-limit windows kept in the store: each agent's recent requests per limit, counted and
judged in one transaction that locks the agent's rows, so that gateway instances sharing the
database cannot both let through the request that fills a window."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Mapping, Sequence

from sqlalchemy import Engine, bindparam, update

from ..core.limits import LimitVerdict, SlidingWindow
from .base import INSERTS, StoreBase
from .engine import WRITE_OPTION, make_engine
from .schema import rate_windows

_UPSERTS = {
    name: insert(rate_windows)
    .on_conflict_do_update(
        index_elements=["agent_id", "limit_name"], set_={"times": rate_windows.c.times}
    )
    .returning(rate_windows.c.limit_name, rate_windows.c.times)
    for name, insert in INSERTS.items()
}
"""Makes an agent's window of one limit if missing, locks it, returns it: by dialect."""

_UPDATE = (
    update(rate_windows)
    .where(rate_windows.c.agent_id == bindparam("agent"))
    .where(rate_windows.c.limit_name == bindparam("limit"))
    .values(times=bindparam("window"))
)

Judge = Callable[[Mapping[str, SlidingWindow]], LimitVerdict]
"""Decides on the windows, and appends the request's time to them when it is let through."""


class RateCounts(StoreBase):
    _counts_engine: Engine | None = None

    def _counts(self) -> Engine:
        """A second engine on the same database whose commits do not wait for the disk: a
        flush per proxied request cost ~10 ms here on SQLite, under the write lock every
        instance and the audit share (PostgreSQL: synchronous_commit off)."""
        if self._counts_engine is None:
            url = self.engine.url.render_as_string(hide_password=False)
            self._counts_engine = make_engine(url, durable=False)
        return self._counts_engine

    def close_counts(self) -> None:
        if self._counts_engine is not None:
            self._counts_engine.dispose()

    def count_request(self, agent_id: str, limits: Sequence[str], judge: Judge) -> LimitVerdict:
        """Load the agent's windows of `limits`, let `judge` decide, and keep what it counted.
        Counts are not worth a disk flush per request (PostgreSQL: no synchronous commit; a
        crash loses at most the last moments' counts, never an audit record)."""
        names = sorted(set(limits))  # one lock order for every instance: no deadlocks
        with self._counts().connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})  # SQLite: BEGIN IMMEDIATE
            with conn.begin():
                # One statement per limit (in that order) makes its row if missing, locks it (a
                # no-op update takes the row lock) and returns its window; one row per statement
                # keeps the statement's compiled form cached (a multi-row VALUES is not).
                upsert = _UPSERTS[conn.dialect.name]
                before = {
                    row.limit_name: row.times
                    for name in names
                    for row in conn.execute(
                        upsert, {"agent_id": agent_id, "limit_name": name, "times": "[]"}
                    )
                }
                windows = {name: SlidingWindow(deque(json.loads(before[name]))) for name in names}
                verdict = judge(windows)
                for name, window in windows.items():
                    after = json.dumps(list(window.times))
                    if after != before[name]:
                        conn.execute(_UPDATE, {"agent": agent_id, "limit": name, "window": after})
        return verdict
