"""What the store hands back: plain frozen records, detached from the database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..core.agent_status import AgentStatus


@dataclass(frozen=True, slots=True)
class Agent:
    id: str
    role: str
    enabled: bool
    created_at: dt.datetime
    disabled_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class EnrolmentCode:
    code: str
    """Shown once; the store keeps only its hash."""
    agent: str
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Device:
    fingerprint: str
    agent: str
    public_key: bytes
    enrolled_at: dt.datetime
    revoked_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Enrolment:
    agent: Agent
    device: Device


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    agent: str
    device: str
    role: str
    started_at: dt.datetime
    token_expires_at: dt.datetime
    ended_at: dt.datetime | None = None
    end_reason: str | None = None


@dataclass(frozen=True, slots=True)
class StatusEvent:
    id: int
    agent: str
    session: str | None
    status: AgentStatus
    reason: str | None
    client_event_id: str | None
    client_time: dt.datetime | None
    server_time: dt.datetime
    duplicate: bool = False
    """True when this delivery repeated an event already stored (nothing new was recorded)."""


@dataclass(frozen=True, slots=True)
class PostureReport:
    id: int
    agent: str
    device: str
    received_at: dt.datetime
    measurements: dict[str, Any]
    report: bytes
    """The exact bytes the device signed."""
    signature: bytes
    passed: bool
    failing_checks: tuple[str, ...]
