"""What the control API needs from the gateway: its store, policy, keys, audit writer and clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..core.policy.loader import LoadedPolicy
from ..store import AuditWriter, Store
from ..store.clock import utc_now

TOKEN_TTL = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class ControlContext:
    store: Store
    policy: Callable[[], LoadedPolicy]
    """The current policy; hot reload swaps what it returns (see PolicySource)."""
    token_key: Ed25519PrivateKey
    """Signs session tokens."""
    audit: AuditWriter
    """This gateway instance's audit chain."""
    proxy_address: str
    """Where clients send proxied traffic, `host:port`."""
    ca_pem: str
    """The gateway CA certificate (PEM) handed out at enrolment: it signs the control API's
    certificate and the interception certificates."""
    accepted_token_keys: Sequence[Ed25519PublicKey] = ()
    """Earlier signing keys still accepted during a rotation (the current key always is)."""
    token_ttl: dt.timedelta = TOKEN_TTL
    clock: Callable[[], dt.datetime] = field(default=utc_now)

    def now(self) -> dt.datetime:
        return self.clock()

    @property
    def token_public_keys(self) -> list[Ed25519PublicKey]:
        """What `read_token` should accept: the current key, then earlier ones."""
        return [self.token_key.public_key(), *self.accepted_token_keys]
