"""Posture reports: what the agent's PC measured, signed by its device key and kept verbatim
with the gateway's verdict, so a report can be checked again later."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import insert, select

from .agents import enabled_agent
from .audit import AuditWriter
from .base import StoreBase
from .errors import BadSignature, MalformedReport, UnknownDevice
from .model import PostureReport
from .schema import devices, posture_reports


class PostureLog(StoreBase):
    def record_posture(
        self,
        agent_id: str,
        device_fingerprint: str,
        report: bytes,
        signature: bytes,
        *,
        passed: bool,
        failing_checks: Sequence[str] = (),
        now: dt.datetime | None = None,
        audit: AuditWriter | None = None,
    ) -> PostureReport:
        """Keep a posture report: `report` is the JSON object of measurements exactly as the
        device signed it; `passed` and `failing_checks` are the gateway's own verdict under the
        policy (the client's is not trusted)."""
        at = self._now(now)
        with self._write(audit) as tx:
            enabled_agent(tx.conn, agent_id)
            key = tx.conn.execute(
                select(devices.c.public_key).where(
                    devices.c.fingerprint == device_fingerprint,
                    devices.c.agent_id == agent_id,
                    devices.c.revoked_at.is_(None),
                )
            ).scalar_one_or_none()
            if key is None:
                raise UnknownDevice(f"device is not enrolled for agent {agent_id}")
            try:
                Ed25519PublicKey.from_public_bytes(bytes(key)).verify(signature, report)
            except InvalidSignature:
                raise BadSignature("posture report signature does not verify") from None
            measurements = _measurements(report)
            failing = list(failing_checks)
            row_id = tx.conn.execute(
                insert(posture_reports)
                .values(
                    agent_id=agent_id,
                    device_fingerprint=device_fingerprint,
                    received_at=at,
                    measurements=report.decode(),
                    signature=signature,
                    passed=passed,
                    failing_checks=json.dumps(failing),
                )
                .returning(posture_reports.c.id)
            ).scalar_one()
            tx.audit(
                "posture",
                {
                    "agent": agent_id,
                    "device": device_fingerprint,
                    "report": row_id,
                    "passed": passed,
                    "failing_checks": failing,
                },
                at,
            )
        return PostureReport(
            row_id,
            agent_id,
            device_fingerprint,
            at,
            measurements,
            report,
            signature,
            passed,
            tuple(failing),
        )

    def latest_posture(self, agent_id: str) -> PostureReport | None:
        with self._read() as conn:
            row = (
                conn.execute(
                    select(posture_reports)
                    .where(posture_reports.c.agent_id == agent_id)
                    .order_by(posture_reports.c.id.desc())
                    .limit(1)
                )
                .mappings()
                .one_or_none()
            )
        if row is None:
            return None
        report = row["measurements"].encode()
        return PostureReport(
            row["id"],
            row["agent_id"],
            row["device_fingerprint"],
            row["received_at"],
            _measurements(report),
            report,
            bytes(row["signature"]),
            row["passed"],
            tuple(json.loads(row["failing_checks"])),
        )


def _measurements(report: bytes) -> dict[str, Any]:
    try:
        value = json.loads(report.decode())
    except (UnicodeDecodeError, ValueError) as err:
        raise MalformedReport(f"posture report is not JSON: {err}") from None
    if not isinstance(value, dict):
        raise MalformedReport("posture report must be a JSON object of measurements")
    return value
