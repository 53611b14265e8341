"""Who is behind a flow: the session token in `Proxy-Authorization`, checked by signature,
expiry and — through the store, briefly cached — whether the session is still open."""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..core.session_token import SessionClaims, TokenError, read_token

SESSION_CACHE_SECONDS = 1.0
"""How long an open session is believed without asking the store again: the most a clock-out
on another gateway instance takes to bite here."""


@dataclass(frozen=True, slots=True)
class Agent:
    id: str
    role: str
    session: str
    device: str
    expires_at: float


def token_from_header(header: str | None) -> str:
    """The token in `Bearer TOKEN` or `Basic base64(AGENT:TOKEN)`; TokenError otherwise."""
    if not header:
        raise TokenError("no session token (Proxy-Authorization is missing)")
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value
    if scheme.lower() == "basic" and value:
        try:
            _, _, token = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as err:
            raise TokenError("Proxy-Authorization Basic value is not base64") from err
        if token:
            return token
    raise TokenError("Proxy-Authorization holds no session token")


class Identities:
    """Checks session tokens. `session_is_open(session)` asks the store (blocking, quick)."""

    def __init__(
        self,
        keys: Callable[[], list[Ed25519PublicKey]],
        session_is_open: Callable[[str], bool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._session_is_open = session_is_open
        self._clock = clock
        self._open_until: dict[str, float] = {}

    def forget(self, session: str) -> None:
        """A session ended here: stop believing it at once."""
        self._open_until.pop(session, None)

    async def agent(self, header: str | None) -> Agent:
        """The agent behind a Proxy-Authorization header, or TokenError saying why not."""
        claims: SessionClaims = read_token(
            token_from_header(header), self._keys(), now=self._clock(), is_revoked=_not_here
        )
        if not await self._session_open(claims.session):
            raise TokenError(SESSION_ENDED)
        return Agent(claims.agent, claims.role, claims.session, claims.device, claims.expires_at)

    async def still_valid(self, agent: Agent) -> bool:
        """For requests in a tunnel opened earlier: the token not expired, the session open."""
        return self._clock() < agent.expires_at and await self._session_open(agent.session)

    async def _session_open(self, session: str) -> bool:
        now = self._clock()
        if self._open_until.get(session, 0.0) > now:
            return True
        # The store is blocking I/O: never on the proxy's event loop.
        if not await asyncio.to_thread(self._session_is_open, session):
            self._open_until.pop(session, None)
            return False
        if len(self._open_until) > 100_000:
            self._open_until.clear()
        self._open_until[session] = now + SESSION_CACHE_SECONDS
        return True


SESSION_ENDED = "session has ended (clocked out, disabled or posture expired)"


def _not_here(session: str) -> bool:
    return False  # revocation is asked of the store separately, off the event loop
