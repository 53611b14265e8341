"""Signed requests that may be taken only once: each is remembered, by a digest of what was
signed (agent, method, target, time, body hash: a signature altered to another valid one of
the same request is caught too), until its time leaves the clock window and the clock check
refuses it anyway. The database is shared, so a replay to another gateway instance is refused
too."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import delete

from .base import INSERTS, StoreBase
from .schema import used_signatures

_REMEMBER = {
    name: insert(used_signatures)
    .on_conflict_do_nothing(index_elements=["digest"])
    .returning(used_signatures.c.digest)
    for name, insert in INSERTS.items()
}


class UsedSignatures(StoreBase):
    def first_use(
        self, agent_id: str, signed: bytes, *, until: dt.datetime, now: dt.datetime | None = None
    ) -> bool:
        """True the first time the request whose signed text is `signed` is presented; False
        for a replay of it. It is remembered `until` then (when a replay could no longer pass
        the clock check)."""
        at = self._now(now)
        digest = hashlib.sha256(agent_id.encode() + b"\n" + signed).hexdigest()
        with self._write() as tx:
            tx.conn.execute(delete(used_signatures).where(used_signatures.c.expires_at < at))
            taken = tx.conn.execute(
                _REMEMBER[tx.conn.dialect.name],
                {"digest": digest, "agent_id": agent_id, "expires_at": until},
            )
            return taken.first() is not None  # no row back: it was there already
