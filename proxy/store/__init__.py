"""The gateway's state and audit log: SQLite by default, PostgreSQL for a fleet of gateways."""

from .agents import device_fingerprint
from .audit import AuditInstance, AuditWriter
from .errors import (
    AgentDisabled,
    AgentExists,
    AuditConflict,
    BadSignature,
    CodeExpired,
    CodeUsed,
    DeviceAlreadyEnrolled,
    InstanceKeyMismatch,
    InvalidAgentId,
    InvalidPublicKey,
    MalformedReport,
    SchemaTooNew,
    SessionNotActive,
    StoreError,
    UnknownAgent,
    UnknownCode,
    UnknownDevice,
)
from .model import Agent, Device, Enrolment, EnrolmentCode, PostureReport, Session, StatusEvent
from .store import Store

__all__ = [
    "Agent",
    "AgentDisabled",
    "AgentExists",
    "AuditConflict",
    "AuditInstance",
    "AuditWriter",
    "BadSignature",
    "CodeExpired",
    "CodeUsed",
    "Device",
    "DeviceAlreadyEnrolled",
    "Enrolment",
    "EnrolmentCode",
    "InstanceKeyMismatch",
    "InvalidAgentId",
    "InvalidPublicKey",
    "MalformedReport",
    "PostureReport",
    "SchemaTooNew",
    "Session",
    "SessionNotActive",
    "StatusEvent",
    "Store",
    "StoreError",
    "UnknownAgent",
    "UnknownCode",
    "UnknownDevice",
    "device_fingerprint",
]
