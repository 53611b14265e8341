"""The gateway's store: agents, enrolment, shifts and the audit log, in one SQLite file or a
PostgreSQL database shared by several gateway instances."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Engine

from .agents import AgentRegistry
from .audit import AuditLog
from .clock import Clock, utc_now
from .engine import make_engine
from .migrate import upgrade
from .posture import PostureLog
from .rate_counts import RateCounts
from .report_rows import ReportRows
from .shifts import ShiftLog
from .signatures import UsedSignatures


class Store(AgentRegistry, ShiftLog, PostureLog, AuditLog, RateCounts, ReportRows, UsedSignatures):
    """Every method runs in its own transaction and is safe to call from several threads and
    several processes (instances) at once."""

    @classmethod
    def open(cls, url: str, *, clock: Clock = utc_now) -> Store:
        """Connect and migrate the schema to the latest version."""
        engine = make_engine(url)
        try:
            upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, clock)

    @classmethod
    def attach(cls, engine: Engine, *, clock: Clock = utc_now) -> Store:
        """A store over an engine whose schema is already current (no migration)."""
        return cls(engine, clock)

    def close(self) -> None:
        self.close_counts()
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
