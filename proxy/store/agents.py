"""Agents and their devices: adding an agent with a one-time enrolment code, redeeming the code
with a device key (exactly once, even with gateway instances racing), disabling an agent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, RowMapping, insert, select, update

from .audit import AuditWriter
from .base import StoreBase, Transaction
from .codes import code_hash, new_code
from .errors import (
    AgentDisabled,
    AgentExists,
    CodeExpired,
    CodeUsed,
    DeviceAlreadyEnrolled,
    InvalidAgentId,
    InvalidPublicKey,
    UnknownAgent,
    UnknownCode,
)
from .model import Agent, Device, Enrolment, EnrolmentCode
from .schema import AGENT_ID, agents, devices, enrolment_codes

CODE_TTL = dt.timedelta(hours=24)
AGENT_ID_PATTERN = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{AGENT_ID - 1}}}")


def device_fingerprint(public_key: bytes) -> str:
    """How a device is named everywhere (session tokens, audit): SHA-256 of its raw key, hex."""
    return hashlib.sha256(public_key).hexdigest()


class AgentRegistry(StoreBase):
    def add_agent(
        self,
        agent_id: str,
        role: str,
        *,
        code_ttl: dt.timedelta = CODE_TTL,
        now: dt.datetime | None = None,
        audit: AuditWriter | None = None,
    ) -> EnrolmentCode:
        """A new, enabled agent and its first one-time enrolment code."""
        if not AGENT_ID_PATTERN.fullmatch(agent_id):
            raise InvalidAgentId(
                f"agent ID {agent_id!r}: use letters, digits and '._-' (at most {AGENT_ID}), "
                "starting with a letter or digit"
            )
        if not role.strip():
            raise ValueError("an agent needs a role")
        at = self._now(now)
        with self._write(audit) as tx:
            if agent_row(tx.conn, agent_id) is not None:
                raise AgentExists(f"agent {agent_id} already exists")
            tx.conn.execute(
                insert(agents).values(id=agent_id, role=role, enabled=True, created_at=at)
            )
            code = _issue_code(tx, agent_id, code_ttl, at)
            tx.audit("agent.add", {"agent": agent_id, "role": role}, at)
        return code

    def issue_code(
        self,
        agent_id: str,
        *,
        code_ttl: dt.timedelta = CODE_TTL,
        now: dt.datetime | None = None,
        audit: AuditWriter | None = None,
    ) -> EnrolmentCode:
        """Another one-time code for an existing agent (new PC, lost code)."""
        at = self._now(now)
        with self._write(audit) as tx:
            enabled_agent(tx.conn, agent_id, lock=True)
            code = _issue_code(tx, agent_id, code_ttl, at)
            tx.audit("agent.code", {"agent": agent_id}, at)
        return code

    def enrol(
        self,
        code: str,
        public_key: bytes,
        *,
        now: dt.datetime | None = None,
        audit: AuditWriter | None = None,
    ) -> Enrolment:
        """Redeem a one-time code for a device's Ed25519 public key (32 raw bytes). The device
        becomes the agent's only device: an earlier one is revoked."""
        try:
            Ed25519PublicKey.from_public_bytes(public_key)
        except ValueError as err:
            raise InvalidPublicKey(f"not an Ed25519 public key: {err}") from None
        fingerprint = device_fingerprint(public_key)
        digest = code_hash(code)
        at = self._now(now)
        with self._write(audit) as tx:
            found = (
                tx.conn.execute(
                    select(enrolment_codes).where(enrolment_codes.c.code_hash == digest)
                )
                .mappings()
                .one_or_none()
            )
            if found is None:
                raise UnknownCode("unknown enrolment code: check it, or ask for a new one")
            agent = enabled_agent(tx.conn, found["agent_id"], lock=True)
            if found["used_at"] is not None:
                raise CodeUsed("this enrolment code was already used: ask for a new one")
            if found["expires_at"] <= at:
                raise CodeExpired("this enrolment code has expired: ask for a new one")
            # The guarded UPDATE is what makes the code single-use when instances race: only
            # one transaction can move used_at from NULL.
            claimed = tx.conn.execute(
                update(enrolment_codes)
                .where(enrolment_codes.c.code_hash == digest, enrolment_codes.c.used_at.is_(None))
                .values(used_at=at, device_fingerprint=fingerprint)
            )
            if claimed.rowcount != 1:
                raise CodeUsed("this enrolment code was already used: ask for a new one")
            if tx.conn.execute(
                select(devices.c.agent_id).where(devices.c.fingerprint == fingerprint)
            ).first():
                raise DeviceAlreadyEnrolled(
                    "this device key is already enrolled: make a new key to enrol again"
                )
            _revoke_devices(tx.conn, agent.id, at, "replaced")
            tx.conn.execute(
                insert(devices).values(
                    fingerprint=fingerprint,
                    agent_id=agent.id,
                    public_key=public_key,
                    enrolled_at=at,
                )
            )
            tx.audit("agent.enrol", {"agent": agent.id, "device": fingerprint}, at)
        return Enrolment(agent, Device(fingerprint, agent.id, public_key, at))

    def disable_agent(
        self,
        agent_id: str,
        *,
        now: dt.datetime | None = None,
        audit: AuditWriter | None = None,
    ) -> Agent:
        """Disable the agent, revoke their devices and end their open session."""
        from .shifts import end_open_sessions  # here: shifts.py imports this module

        at = self._now(now)
        with self._write(audit) as tx:
            row = agent_row(tx.conn, agent_id, lock=True)
            if row is None:
                raise UnknownAgent(f"no agent {agent_id}")
            if row["enabled"]:
                tx.conn.execute(
                    update(agents)
                    .where(agents.c.id == agent_id)
                    .values(enabled=False, disabled_at=at)
                )
                _revoke_devices(tx.conn, agent_id, at, "agent_disabled")
                end_open_sessions(tx, agent_id, "agent_disabled", at)
                tx.audit("agent.disable", {"agent": agent_id}, at)
            row = agent_row(tx.conn, agent_id)
            assert row is not None
            return _agent(row)

    def get_agent(self, agent_id: str) -> Agent:
        with self._read() as conn:
            row = agent_row(conn, agent_id)
        if row is None:
            raise UnknownAgent(f"no agent {agent_id}")
        return _agent(row)

    def list_agents(self) -> list[Agent]:
        with self._read() as conn:
            rows = conn.execute(select(agents).order_by(agents.c.id)).mappings().all()
        return [_agent(row) for row in rows]

    def agent_devices(self, agent_id: str) -> list[Device]:
        with self._read() as conn:
            rows = (
                conn.execute(
                    select(devices)
                    .where(devices.c.agent_id == agent_id)
                    .order_by(devices.c.enrolled_at)
                )
                .mappings()
                .all()
            )
        return [_device(row) for row in rows]

    def active_device(self, fingerprint: str) -> Device | None:
        """The enrolled, unrevoked device with this fingerprint, if any."""
        with self._read() as conn:
            row = (
                conn.execute(
                    select(devices).where(
                        devices.c.fingerprint == fingerprint, devices.c.revoked_at.is_(None)
                    )
                )
                .mappings()
                .one_or_none()
            )
        return None if row is None else _device(row)


def _issue_code(
    tx: Transaction, agent_id: str, ttl: dt.timedelta, at: dt.datetime
) -> EnrolmentCode:
    if ttl <= dt.timedelta(0):
        raise ValueError("an enrolment code must be valid for some time")
    code = new_code()
    expires = at + ttl
    tx.conn.execute(
        insert(enrolment_codes).values(
            code_hash=code_hash(code), agent_id=agent_id, created_at=at, expires_at=expires
        )
    )
    return EnrolmentCode(code, agent_id, expires)


def agent_row(conn: Connection, agent_id: str, *, lock: bool = False) -> RowMapping | None:
    query = select(agents).where(agents.c.id == agent_id)
    # The agent's row is the lock that serialises changes to one agent across instances
    # (PostgreSQL); on SQLite the write transaction already holds the database's lock.
    return conn.execute(query.with_for_update() if lock else query).mappings().one_or_none()


def enabled_agent(conn: Connection, agent_id: str, *, lock: bool = False) -> Agent:
    row = agent_row(conn, agent_id, lock=lock)
    if row is None:
        raise UnknownAgent(f"no agent {agent_id}")
    if not row["enabled"]:
        raise AgentDisabled(f"agent {agent_id} is disabled: ask the security officer")
    return _agent(row)


def _revoke_devices(conn: Connection, agent_id: str, at: dt.datetime, reason: str) -> None:
    conn.execute(
        update(devices)
        .where(devices.c.agent_id == agent_id, devices.c.revoked_at.is_(None))
        .values(revoked_at=at, revoke_reason=reason)
    )


def _agent(row: RowMapping) -> Agent:
    return Agent(row["id"], row["role"], row["enabled"], row["created_at"], row["disabled_at"])


def _device(row: RowMapping | dict[str, Any]) -> Device:
    return Device(
        row["fingerprint"],
        row["agent_id"],
        bytes(row["public_key"]),
        row["enrolled_at"],
        row["revoked_at"],
    )
