"""The shift as this PC remembers it between runs: the status model, the status changes not yet
delivered (in the order made) and the ones the gateway refused. One sealed file, replaced
atomically and fsynced before a change is reported as made; one lock so the TUI and a command
run at the same time do not lose each other's changes."""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..checks.result import Hint
from ..state import write_private
from .sealed import SealedFileError, derive_key, seal, unseal
from .status_model import AgentStatus, Change, Shift

SHIFT_FILE = "shift.sealed"
LOCK_FILE = "shift.lock"
KEY_PURPOSE = b"homeagent shift file v1"
MAX_REFUSED_KEPT = 20


@dataclass(frozen=True, slots=True)
class PendingChange:
    """A status change waiting for the gateway; `id` is its client_event_id, so delivering it
    twice records it once."""

    id: str
    status: AgentStatus
    reason: str | None
    at: float

    @staticmethod
    def of(change: Change) -> PendingChange:
        return PendingChange(uuid.uuid4().hex, change.status, change.reason, change.at)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status.value, "reason": self.reason, "at": self.at}

    @staticmethod
    def from_json(data: dict[str, Any]) -> PendingChange:
        return PendingChange(data["id"], AgentStatus(data["status"]), data["reason"], data["at"])


@dataclass(frozen=True, slots=True)
class RefusedChange:
    """A queued change the gateway would not take (e.g. the shift ended meanwhile)."""

    change: PendingChange
    hint: Hint

    def to_json(self) -> dict[str, Any]:
        return {**self.change.to_json(), "hint": {"zh": self.hint.zh, "en": self.hint.en}}

    @staticmethod
    def from_json(data: dict[str, Any]) -> RefusedChange:
        hint = data.get("hint") or {}
        return RefusedChange(
            PendingChange.from_json(data), Hint(zh=hint.get("zh", ""), en=hint.get("en", ""))
        )


@dataclass(frozen=True, slots=True)
class ShiftRecord:
    shift: Shift = field(default_factory=Shift)
    pending: tuple[PendingChange, ...] = ()
    refused: tuple[RefusedChange, ...] = ()
    set_aside: str | None = None
    """The name of an earlier shift file this PC could not read and kept for support: the
    agent is told until their next clock-in, since changes it held may never have been sent."""

    def queued(self, changes: list[Change]) -> ShiftRecord:
        return replace(self, pending=self.pending + tuple(PendingChange.of(c) for c in changes))

    def delivered(self, change_id: str) -> ShiftRecord:
        return replace(self, pending=tuple(p for p in self.pending if p.id != change_id))

    def refused_change(self, change: PendingChange, hint: Hint) -> ShiftRecord:
        kept = (*self.refused, RefusedChange(change, hint))[-MAX_REFUSED_KEPT:]
        return replace(self.delivered(change.id), refused=kept)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "shift": self.shift.to_json(),
            "pending": [p.to_json() for p in self.pending],
            "refused": [r.to_json() for r in self.refused],
            "set_aside": self.set_aside,
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> ShiftRecord:
        return ShiftRecord(
            Shift.from_json(data["shift"]),
            tuple(PendingChange.from_json(p) for p in data.get("pending", [])),
            tuple(RefusedChange.from_json(r) for r in data.get("refused", [])),
            data.get("set_aside"),
        )


class ShiftFile:
    """The sealed shift file of the agent enrolled in `home`."""

    def __init__(self, home: Path, device_private: bytes, agent: str) -> None:
        self.path = home / SHIFT_FILE
        self._lock_path = home / LOCK_FILE
        self._key = derive_key(device_private, KEY_PURPOSE)
        self._context = f"homeagent shift of {agent}".encode()

    def load(self) -> ShiftRecord:
        """The record, or a fresh one when there is none yet (or it cannot be opened: it is
        then moved aside, not overwritten, and the fresh record says so). Call under `locked`."""
        try:
            sealed = self.path.read_bytes()
        except FileNotFoundError:
            return ShiftRecord()
        try:
            return ShiftRecord.from_json(json.loads(unseal(self._key, sealed, self._context)))
        except (SealedFileError, ValueError, KeyError, TypeError):
            # Altered, or sealed by an earlier key: kept aside for support, and the agent
            # carries on with a fresh record rather than being stuck, told what happened.
            aside = self.path.with_name(f"{self.path.name}.unreadable-{int(time.time())}")
            self.path.replace(aside)
            record = ShiftRecord(set_aside=aside.name)
            self.save(record)
            return record

    def save(self, record: ShiftRecord) -> None:
        data = json.dumps(record.to_json(), ensure_ascii=False).encode()
        write_private(self.path, seal(self._key, data, self._context))

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Held across load-change-save, never across a call to the gateway."""
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock(fd)
            yield
        finally:
            os.close(fd)  # closing releases the lock


def _lock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        # Blocks, retrying for about 10 s, then raises: long enough for a save to finish.
        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)
