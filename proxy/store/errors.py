"""What the store refuses, as typed exceptions the control API turns into clear answers."""

from __future__ import annotations


class StoreError(Exception):
    """Base of everything the store refuses; the message is fit for the officer or the agent."""


class UnknownAgent(StoreError):
    pass


class AgentExists(StoreError):
    pass


class AgentDisabled(StoreError):
    pass


class InvalidAgentId(StoreError, ValueError):
    pass


class UnknownCode(StoreError):
    pass


class CodeUsed(StoreError):
    pass


class CodeExpired(StoreError):
    pass


class InvalidPublicKey(StoreError, ValueError):
    pass


class DeviceAlreadyEnrolled(StoreError):
    pass


class UnknownDevice(StoreError):
    """Not an enrolled, unrevoked device of this agent."""


class SessionNotActive(StoreError):
    """Unknown, ended, or not this agent's session."""


class BadSignature(StoreError):
    """A posture report whose signature the device key does not verify."""


class MalformedReport(StoreError, ValueError):
    pass


class InstanceKeyMismatch(StoreError):
    """An audit writer for an instance registered with a different public key."""


class AuditConflict(StoreError):
    """Another writer appended to this instance's chain: two processes share an instance ID."""


class SchemaTooNew(StoreError):
    """The database was migrated by a newer homeagent than this one."""
