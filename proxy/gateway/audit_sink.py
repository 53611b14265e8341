"""Audit records of flows, committed in groups: each flow waits for its own record to be durable
before its response leaves (so an acknowledged flow is never missing from the log), while one
commit serves every flow that arrived meanwhile."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Mapping
from typing import Any

from ..store.audit import AuditWriter

log = logging.getLogger(__name__)
MAX_BATCH = 500


class AuditUnavailableError(RuntimeError):
    """The record could not be committed: the flow must be blocked."""


class AuditSink:
    def __init__(self, writer: AuditWriter) -> None:
        self._writer = writer
        self._queue: queue.Queue[
            tuple[str, Mapping[str, Any], asyncio.Future[str], asyncio.AbstractEventLoop] | None
        ] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="audit-sink", daemon=True)
        self._thread.start()

    async def record(self, kind: str, data: Mapping[str, Any]) -> str:
        """Commit one record; returns its `instance:seq` once durable, or AuditUnavailableError."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[str] = loop.create_future()
        self._queue.put((kind, data, done, loop))
        return await done

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                batch.append(item)
            try:
                records = self._writer.append_many([(kind, data) for kind, data, _, _ in batch])
            except Exception as err:
                log.error("audit commit failed for %d record(s): %s", len(batch), err)
                for _, _, done, loop in batch:
                    loop.call_soon_threadsafe(_fail, done, AuditUnavailableError(str(err)))
                continue
            for (_, _, done, loop), record in zip(batch, records, strict=True):
                loop.call_soon_threadsafe(_succeed, done, f"{record['instance']}:{record['seq']}")


def _succeed(done: asyncio.Future[str], value: str) -> None:
    if not done.done():
        done.set_result(value)


def _fail(done: asyncio.Future[str], err: Exception) -> None:
    if not done.done():
        done.set_exception(err)
