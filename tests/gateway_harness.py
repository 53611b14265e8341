"""A real gateway (mitmproxy embedded, the addon chain, a SQLite or PostgreSQL store) in a
background event loop, in front of the sample app, with agents clocked in through the store."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from homeagent.proxy.core.session_token import SessionClaims, issue_token
from homeagent.proxy.gateway.server import GatewayConfig, RunningGateway
from homeagent.proxy.sample_app import SampleApp

ROOT = Path(__file__).resolve().parent.parent
ACME = ROOT / "policies" / "examples" / "acme.yaml"
ACME_HOSTS = ("crm.acme.test", "kb.acme.test", "chat.acme.test", "reports.acme.test")
T = TypeVar("T")


class GatewayHarness:
    def __init__(
        self,
        tmp: Path,
        app: SampleApp,
        *,
        policy: Path = ACME,
        db_url: str | None = None,
        upstream: dict[str, tuple[str, int]] | None = None,
        upstream_timeout: float = 30.0,
        client_head_timeout: float = 60.0,
        http2: bool = False,
    ) -> None:
        self.config = GatewayConfig(
            policy=policy,
            data_dir=tmp / "gateway",
            db_url=db_url or f"sqlite:///{tmp}/gateway.db",
            listen=("127.0.0.1", 0),
            control=("127.0.0.1", 0),
            instance="test-gw",
            upstream_map={host: ("127.0.0.1", app.port) for host in ACME_HOSTS} | (upstream or {}),
            upstream_ca=app.ca_path,
            upstream_timeout=upstream_timeout,
            client_head_timeout=client_head_timeout,
            http2=http2,
            workers=1,
        )
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="gateway-loop", daemon=True
        )
        self._thread.start()
        self.gateway: RunningGateway = self.call(self._start())
        host, port = self.gateway.address
        self.proxy_url = f"http://{host}:{port}"

    async def _start(self) -> RunningGateway:
        gateway = RunningGateway(self.config)
        await gateway.start()
        return gateway

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    def clock_in(self, agent: str, role: str) -> tuple[str, str]:
        """Add, enrol and clock in an agent through the store: (session ID, token)."""
        store = self.gateway.store
        code = store.add_agent(agent, role)
        device = (
            Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        )
        fingerprint = store.enrol(code.code, device).device.fingerprint
        session = store.start_session(agent, fingerprint)
        claims = SessionClaims(
            agent, fingerprint, role, session.id, time.time(), session.token_expires_at.timestamp()
        )
        return session.id, issue_token(claims, self.gateway.token_key)

    def client(self, token: str | None) -> httpx.Client:
        headers = {"Proxy-Authorization": f"Bearer {token}"} if token else None
        return httpx.Client(
            proxy=httpx.Proxy(self.proxy_url, headers=headers),
            verify=str(self.config.ca_cert),
            timeout=30,
        )

    def audited_flow(self, reference: str) -> dict[str, object]:
        """The one audit record of the flow with this reference."""
        records: list[dict[str, object]] = [
            r["data"]
            for r in self.gateway.store.iter_audit(self.config.instance)
            if r["kind"] == "flow" and r["data"].get("reference") == reference
        ]
        assert len(records) == 1, f"flow {reference} audited {len(records)} times"
        return records[0]

    def stop(self) -> None:
        self.call(self.gateway.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
