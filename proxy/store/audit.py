"""The audit log in the database: each gateway instance appends to its own signed hash chain;
anyone with the database can read, export and verify every chain.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Connection, RowMapping, func, insert, select, update

from ..core.audit_chain import GENESIS, AuditChain, ChainReport, verify_chain
from .base import StoreBase
from .clock import audit_time
from .errors import InstanceKeyMismatch
from .schema import audit_records, gateway_instances

INSTANCE_ID_MAX = 64
STREAM_BATCH = 1000


@dataclass(frozen=True, slots=True)
class AuditInstance:
    id: str
    public_key: bytes
    started_at: dt.datetime
    last_started_at: dt.datetime
    last_seq: int


class AuditWriter:
    """Appends one gateway instance's audit records; an append returns once committed.
    Thread-safe within a process; one writer per instance ID across processes."""

    def __init__(self, store: AuditLog, chain: AuditChain) -> None:
        self._store = store
        self.chain = chain
        self.lock = threading.Lock()
        self.resync_needed = False
        """Set when a transaction failed: the chain's tail is re-read before the next append."""

    @property
    def instance(self) -> str:
        return self.chain.instance

    def append(
        self, kind: str, data: Mapping[str, Any], *, now: dt.datetime | None = None
    ) -> dict[str, Any]:
        """Chain, sign and commit one record; returns it (with seq, hash, sig)."""
        return self.append_many([(kind, data)], now=now)[0]

    def append_many(
        self, entries: Iterable[tuple[str, Mapping[str, Any]]], *, now: dt.datetime | None = None
    ) -> list[dict[str, Any]]:
        """Several records in one commit: all acknowledged together, or none."""
        at = self._store._now(now)
        with self._store._write(self) as tx:  # _write re-reads the tail after a failure
            records = [tx.audit(kind, data, at) for kind, data in entries]
        return [record for record in records if record is not None]

    def resync(self, conn: Connection) -> None:
        """After a failed transaction, take the chain's tail from the database: the records
        that transaction chained in memory may or may not have been committed."""
        if self.resync_needed:
            self.chain.last_seq, self.chain.last_hash = _chain_tail(conn, self.instance)
            self.resync_needed = False


class AuditLog(StoreBase):
    def audit_writer(
        self, instance_id: str, private_key: Ed25519PrivateKey, *, now: dt.datetime | None = None
    ) -> AuditWriter:
        """The writer for this instance's chain, resumed after its last stored record. The first
        call registers the instance with its public key; a different key later is refused."""
        if not 0 < len(instance_id) <= INSTANCE_ID_MAX or not instance_id.isprintable():
            raise ValueError(f"instance ID must be 1 to {INSTANCE_ID_MAX} printable characters")
        public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        at = self._now(now)
        with self._write() as tx:
            known = tx.conn.execute(
                select(gateway_instances.c.public_key)
                .where(gateway_instances.c.id == instance_id)
                .with_for_update()
            ).scalar_one_or_none()
            if known is None:
                tx.conn.execute(
                    insert(gateway_instances).values(
                        id=instance_id, public_key=public, started_at=at, last_started_at=at
                    )
                )
            elif bytes(known) != public:
                raise InstanceKeyMismatch(
                    f"gateway instance {instance_id!r} signs its audit chain with another key; "
                    "use that key, or give this gateway a new instance ID"
                )
            else:
                tx.conn.execute(
                    update(gateway_instances)
                    .where(gateway_instances.c.id == instance_id)
                    .values(last_started_at=at)
                )
            last_seq, last_hash = _chain_tail(tx.conn, instance_id)
        return AuditWriter(
            self, AuditChain(instance_id, private_key, last_seq=last_seq, last_hash=last_hash)
        )

    def audit_instances(self) -> list[AuditInstance]:
        last = (
            select(audit_records.c.instance, func.max(audit_records.c.seq).label("last_seq"))
            .group_by(audit_records.c.instance)
            .subquery()
        )
        query = (
            select(gateway_instances, func.coalesce(last.c.last_seq, 0))
            .outerjoin(last, last.c.instance == gateway_instances.c.id)
            .order_by(gateway_instances.c.id)
        )
        with self._read() as conn:
            return [
                AuditInstance(row[0], bytes(row[1]), row[2], row[3], int(row[4]))
                for row in conn.execute(query)
            ]

    def iter_audit(
        self,
        instance: str | None = None,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Records by instance then seq, streamed; `since` inclusive, `until` exclusive. A record
        whose data is no longer valid JSON comes back with that text as its data (and so fails
        verification) rather than stopping the export."""
        query = select(audit_records).order_by(audit_records.c.instance, audit_records.c.seq)
        if instance is not None:
            query = query.where(audit_records.c.instance == instance)
        if since is not None:
            query = query.where(audit_records.c.at >= audit_time(since))
        if until is not None:
            query = query.where(audit_records.c.at < audit_time(until))
        # A transaction, not an autocommit read: PostgreSQL's server-side cursor needs one.
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=STREAM_BATCH).execute(query)
            for row in result.mappings():
                yield _record(row)

    def agent_flows(
        self, agent_id: str, *, limit: int = 50, since: dt.datetime | None = None
    ) -> list[dict[str, Any]]:
        """The agent's latest `flow` records (data.agent == agent_id), newest first, at most
        `limit`, none older than `since`. Audit data is JSON text with no index on the agent:
        a LIKE on the canonical `"agent":"ID"` narrows the scan (the `at` index bounds it), and
        each candidate is checked once parsed."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        needle = json.dumps({"agent": agent_id}, separators=(",", ":"), ensure_ascii=False)[1:-1]
        query = select(audit_records).where(
            audit_records.c.kind == "flow",
            audit_records.c.data.contains(needle, autoescape=True),
        )
        if since is not None:
            query = query.where(audit_records.c.at >= audit_time(since))
        query = query.order_by(audit_records.c.at.desc(), audit_records.c.seq.desc())
        found: list[dict[str, Any]] = []
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=max(limit, 64)).execute(query)
            for row in result.mappings():
                record = _record(row)
                data = record["data"]
                if isinstance(data, dict) and data.get("agent") == agent_id:
                    found.append(record)
                    if len(found) == limit:
                        break
        return found

    def verify_audit(
        self, trusted_keys: Mapping[str, Ed25519PublicKey] | None = None
    ) -> list[ChainReport]:
        """One report per instance that has records or a registered key. Keys come from the
        database unless `trusted_keys` names them (keys kept apart from the database are
        stronger: whoever can rewrite the records could rewrite a key too)."""
        instances = {i.id: i.public_key for i in self.audit_instances()}
        with self._read() as conn:
            recorded = set(conn.execute(select(audit_records.c.instance).distinct()).scalars())
        reports = []
        for name in sorted(set(instances) | recorded):
            key = (trusted_keys or {}).get(name)
            if key is None and name in instances:
                key = Ed25519PublicKey.from_public_bytes(instances[name])
            if key is None:
                reports.append(ChainReport(name, 0, 1, "no public key is registered for it"))
                continue
            reports.append(verify_chain(name, self.iter_audit(name), key))
        return reports


def _chain_tail(conn: Connection, instance: str) -> tuple[int, str]:
    row = conn.execute(
        select(audit_records.c.seq, audit_records.c.hash)
        .where(audit_records.c.instance == instance)
        .order_by(audit_records.c.seq.desc())
        .limit(1)
    ).one_or_none()
    return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))


def _record(row: RowMapping) -> dict[str, Any]:
    record = dict(row)
    try:
        record["data"] = json.loads(row["data"])
    except ValueError:
        record["data"] = row["data"]
    return record
