"""The control API's request and response bodies: the contract with the client, and what the
OpenAPI document at /v1/openapi.json describes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ..core.agent_status import REASON_PATTERN

API_VERSION = "1"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Message(Body):
    en: str
    zh: str


class ErrorBody(Body):
    error: str
    """A stable code (`posture_failed`, `clocks_apart`…) the client may branch on."""
    message: Message


class EnrolRequest(Body):
    code: Annotated[str, Field(min_length=1, max_length=64)]
    public_key: Annotated[str, Field(min_length=1, max_length=64)]
    """The device's Ed25519 public key: 32 raw bytes, standard base64."""


class EnrolResponse(Body):
    agent: str
    role: str
    device: str
    """The device's fingerprint (hex SHA-256 of its raw public key)."""
    ca_pem: str
    """Trust this CA (and only it) for the control API and the proxy."""
    proxy: str
    """`host:port` of the gateway's proxy listener (TLS)."""
    api_version: str = API_VERSION
    server_time: dt.datetime


class NoticeBody(Body):
    version: str
    zh: str
    en: str


class SettingsResponse(Body):
    agent: str
    role: str
    posture: dict[str, Any]
    """The role's posture checks: level and thresholds per check (the policy's `PostureChecks`)."""
    recheck_interval: float
    """Seconds between posture re-checks during a shift."""
    max_age: float
    """Seconds a posture report stays good for clock-in and token renewal."""
    notice: NoticeBody
    proxy: str
    token_ttl: float
    server_time: dt.datetime


class PostureRequest(Body):
    report_json: Annotated[str, Field(max_length=64 * 1024)]
    """The report (core/posture_report.py), as the exact JSON text the device signed."""
    signature: Annotated[str, Field(max_length=128)]
    """Standard base64 of the Ed25519 signature over report_json's UTF-8 bytes."""


class PostureResponse(Body):
    report: int
    received_at: dt.datetime
    expires_at: dt.datetime
    passed: bool
    failing: list[str]
    warnings: list[str]
    checks: list[dict[str, Any]]
    """Per check: check, level, outcome, measured, limits, hint {en, zh}, shortfalls,
    client_status."""


NONCE = Field(
    default=None,
    min_length=1,
    max_length=64,
    description="Any value new to each request (the client sends random hex), so that two "
    "requests alike in one second are signed apart: each signed request is taken once",
)


class ClockInRequest(Body):
    notice_version: Annotated[str, Field(min_length=1, max_length=40)]
    nonce: str | None = NONCE


class RenewRequest(Body):
    nonce: str | None = NONCE


class TokenResponse(Body):
    token: str
    """Send it as `Proxy-Authorization: Bearer <token>` with every proxied request."""
    session: str
    expires_at: dt.datetime


class ClockOutResponse(Body):
    session: str
    ended_at: dt.datetime
    reason: str


class StatusRequest(Body):
    status: Annotated[str, Field(max_length=20)]
    """not_ready, ready, busy, after_call_work, break."""
    reason: Annotated[str, Field(pattern=f"^{REASON_PATTERN.pattern}$")] | None = None
    """A code (`meeting`, `posture.noise`): not_ready needs one, break may have one."""
    client_event_id: Annotated[str, Field(min_length=1, max_length=64)]
    """The client's ID for this change: a redelivery returns the stored event."""
    client_time: AwareDatetime


class StatusEventBody(Body):
    id: int
    status: str
    reason: str | None
    session: str | None
    client_event_id: str | None
    client_time: dt.datetime | None
    server_time: dt.datetime
    duplicate: bool


class StatusResponse(Body):
    status: str
    reason: str | None
    since: dt.datetime | None
    """Server time of the change into this status."""
    session: str | None
    shift_start: dt.datetime | None
    posture_passed: bool | None
    posture_expires_at: dt.datetime | None
    server_time: dt.datetime


class HeartbeatResponse(Body):
    session: str
    server_time: dt.datetime
    token_expires_at: dt.datetime
    posture_expires_at: dt.datetime


class ActivityItem(Body):
    at: str
    decision: str | None
    rule: str | None
    host: str | None
    path: str | None
    masked: dict[str, int]
    """Masked values per detector."""
    masked_total: int


class ActivityResponse(Body):
    agent: str
    items: list[ActivityItem]


class UploadResponse(Body):
    bytes: int
    seconds: float


class HealthResponse(Body):
    status: str
    server_time: dt.datetime
    api_version: str = API_VERSION
