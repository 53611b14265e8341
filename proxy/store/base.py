"""What every part of the store shares: the engine, the clock, and transactions that may carry
audit records, so that a change and its audit record commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Table, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from ..core.audit_chain import AuditChain
from .clock import Clock, as_utc, audit_time, utc_now
from .engine import WRITE_OPTION
from .errors import AuditConflict
from .schema import audit_records

if TYPE_CHECKING:
    from .audit import AuditWriter


class StoreBase:
    def __init__(self, engine: Engine, clock: Clock = utc_now) -> None:
        self.engine = engine
        self._clock = clock
        # Reads that need no snapshot across statements skip BEGIN and ROLLBACK (PostgreSQL;
        # SQLite readers issue no BEGIN anyway, see engine.py).
        self._reader = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )

    def _now(self, now: dt.datetime | None) -> dt.datetime:
        return as_utc(now if now is not None else self._clock())

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._reader.connect() as conn:
            yield conn

    @contextmanager
    def _write(self, audit: AuditWriter | None = None) -> Iterator[Transaction]:
        """A write transaction (SQLite: holding the write lock from the start). Audit records
        staged in it are inserted just before the commit; if anything fails, the writer's
        chain forgets them and re-reads its tail from the database before the next append."""
        with audit.lock if audit is not None else nullcontext():
            try:
                with self.engine.connect() as conn:
                    conn.execution_options(**{WRITE_OPTION: True})
                    with conn.begin():
                        if audit is not None:
                            # every writing path, not only append_many (status changes,
                            # clock-in and clock-out chain their own records)
                            audit.resync(conn)
                        tx = Transaction(conn, audit.chain if audit is not None else None)
                        yield tx
                        tx.flush()
            except BaseException:
                if audit is not None:
                    audit.resync_needed = True
                raise


class Transaction:
    """A connection inside a write transaction, and the audit records it will commit."""

    def __init__(self, conn: Connection, chain: AuditChain | None) -> None:
        self.conn = conn
        self._chain = chain
        self._pending: list[dict[str, Any]] = []

    def audit(self, kind: str, data: Mapping[str, Any], now: dt.datetime) -> dict[str, Any] | None:
        """Chain and stage a record (None when this transaction has no audit writer)."""
        if self._chain is None:
            return None
        record = self._chain.append(kind, data, at=audit_time(now))
        self._pending.append(record)
        return record

    def flush(self) -> None:
        if not self._pending:
            return
        rows = [audit_row(record) for record in self._pending]
        try:
            self.conn.execute(insert(audit_records), rows)
        except IntegrityError as err:
            raise AuditConflict(
                f"audit record {rows[0]['instance']}#{rows[0]['seq']} already exists: is another "
                "gateway process running with the same instance ID?"
            ) from err
        self._pending.clear()


def audit_row(record: Mapping[str, Any]) -> dict[str, Any]:
    row = dict(record)
    row["data"] = canonical_json(record["data"])
    return row


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


INSERTS: dict[str, Callable[[Table], postgresql.Insert | sqlite.Insert]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}
"""The INSERT with ON CONFLICT of each database the store runs on, by dialect name."""


def upsert(
    conn: Connection,
    table: Table,
    values: Mapping[str, Any],
    keys: Sequence[str],
    update: Sequence[str] = (),
) -> None:
    """INSERT, or on a clash of `keys` update the `update` columns (or leave the row be)."""
    stmt = INSERTS[conn.dialect.name](table)
    stmt = stmt.values(**values)
    if update:
        set_ = {name: stmt.excluded[name] for name in update}
        conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=set_))
    else:
        conn.execute(stmt.on_conflict_do_nothing(index_elements=list(keys)))
