"""Building blocks for the store tests: device keys, an enrolled agent in an open session."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from homeagent.proxy.store import Session, Store

T0 = dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass
class OnShift:
    agent: str
    device_key: Ed25519PrivateKey
    fingerprint: str
    session: Session


def on_shift(store: Store, agent: str = "A1023", role: str = "inbound") -> OnShift:
    """An agent added, enrolled with a fresh device key and clocked in."""
    code = store.add_agent(agent, role, now=T0)
    key = Ed25519PrivateKey.generate()
    enrolment = store.enrol(code.code, raw_public(key), now=T0)
    session = store.start_session(agent, enrolment.device.fingerprint, now=T0)
    return OnShift(agent, key, enrolment.device.fingerprint, session)
