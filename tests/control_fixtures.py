"""Building blocks for the control API tests: a test CA, a clock the test moves, the real app
served by uvicorn over TLS on 127.0.0.1 (in its own event loop thread), and an agent's client
that signs its requests as the real client will."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import ssl
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from homeagent.proxy.control import (
    ControlContext,
    ControlServer,
    PolicySource,
    control_certificate,
    create_control_app,
    serve_control,
)
from homeagent.proxy.core.device_auth import authorization
from homeagent.proxy.core.policy.loader import load_policy
from homeagent.proxy.store import AuditWriter, Store

from .store_fixtures import raw_public

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POLICY = ROOT / "policies" / "default.yaml"
T0 = dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)

PASSING: dict[str, dict[str, Any]] = {
    "cpu": {"logical_cores": 8, "load_percent": 20},
    "memory": {"total_gb": 16, "available_gb": 6},
    "network": {
        "rtt_ms": 40,
        "jitter_ms": 5,
        "loss_percent": 0,
        "mos": 4.3,
        "download_mbps": 80,
        "upload_mbps": 20,
    },
    "noise": {"dbfs_a": -80, "dba": 40, "clipping": False, "dead_mic": False},
    "audio_devices": {"input": True, "output": True},
    "removable_storage": {"mounted": []},
    "processes": {"names": []},
}


def posture_report(**changes: dict[str, Any] | None) -> bytes:
    """A report passing the default policy, with some checks' measurements changed (None:
    the check left out)."""
    checks: dict[str, Any] = {}
    for name, measurements in PASSING.items():
        if name in changes and changes[name] is None:
            continue
        merged = {**measurements, **(changes.get(name) or {})}
        checks[name] = {"status": "pass", "measurements": merged}
    return json.dumps({"version": 1, "checks": checks}).encode()


def make_ca() -> tuple[bytes, bytes]:
    """A throwaway CA: (certificate PEM, private key PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "homeagent test gateway CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


@dataclass
class FakeClock:
    at: dt.datetime = T0

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)


class WallClock(FakeClock):
    """The real time (plus what the test advanced): for tests where the real client signs
    with the PC's own clock."""

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + (self.at - T0)


class LoopThread:
    """An event loop in a thread, as the gateway's would be, for the server under test."""

    def __init__(self, netns: str | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self._netns = netns
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        if self._netns is not None:
            # The gateway's sockets are opened in this thread, so they live in the namespace.
            from .netns import enter_netns

            enter_netns(self._netns)
        self.loop.run_forever()

    def run[T](self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@dataclass
class AgentClient:
    """What the real client does: sign each request with the device key."""

    http: httpx.Client
    clock: FakeClock
    agent: str
    key: Ed25519PrivateKey
    skew: float = 0.0
    """Seconds the PC's clock is ahead of the gateway's."""

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content: bytes | None = None,
        key: Ed25519PrivateKey | None = None,
        send_content: bytes | None = None,
    ) -> httpx.Response:
        if content is None:
            content = b"" if body is None else json.dumps(body).encode()
        ts = int(self.clock().timestamp() + self.skew)
        header = authorization(key or self.key, self.agent, method, path, content, ts)
        return self.http.request(
            method,
            path,
            content=content if send_content is None else send_content,
            headers={"Authorization": header, "Content-Type": "application/json"},
        )

    def get(self, path: str) -> httpx.Response:
        return self.request("GET", path)

    def post(self, path: str, body: Any = None) -> httpx.Response:
        return self.request("POST", path, body)

    def send_posture(self, report: bytes) -> httpx.Response:
        signature = base64.b64encode(self.key.sign(report)).decode()
        return self.post("/v1/posture", {"report_json": report.decode(), "signature": signature})

    def clock_in(self, notice_version: str = "1") -> httpx.Response:
        return self.post("/v1/clock-in", {"notice_version": notice_version})


@dataclass
class Gateway:
    ctx: ControlContext
    server: ControlServer
    http: httpx.Client
    clock: FakeClock
    ca_pem: bytes
    policy: PolicySource
    store: Store
    audit: AuditWriter
    agents: dict[str, AgentClient] = field(default_factory=dict)

    @property
    def notice_version(self) -> str:
        return self.policy().policy.notice.version

    def enrol(self, agent: str = "A1023", role: str = "inbound") -> AgentClient:
        code = self.store.add_agent(agent, role, now=self.clock(), audit=self.audit)
        return self._redeem(agent, code.code)

    def enrol_again(self, agent: str = "A1023") -> AgentClient:
        """A new PC for the agent (the earlier device is revoked)."""
        code = self.store.issue_code(agent, now=self.clock(), audit=self.audit)
        return self._redeem(agent, code.code)

    def _redeem(self, agent: str, code: str) -> AgentClient:
        key = Ed25519PrivateKey.generate()
        public = base64.b64encode(raw_public(key)).decode()
        answer = self.http.post("/v1/enrol", json={"code": code, "public_key": public})
        assert answer.status_code == 200, answer.text
        return AgentClient(self.http, self.clock, agent, key)

    def on_shift(self, agent: str = "A1023", role: str = "inbound") -> tuple[AgentClient, str]:
        """Enrolled, posture passed, clocked in: the client and its token."""
        client = self.enrol(agent, role)
        assert client.send_posture(posture_report()).status_code == 201
        answer = client.clock_in(self.notice_version)
        assert answer.status_code == 201, answer.text
        return client, answer.json()["token"]


@contextmanager
def running_gateway(
    db_url: str,
    tmp: Path,
    policy_file: Path = DEFAULT_POLICY,
    *,
    host: str = "127.0.0.1",
    netns: str | None = None,
    clock: FakeClock | None = None,
    ca: tuple[bytes, bytes] | None = None,
    port: int = 0,
    instance: str = "gw-test",
) -> Iterator[Gateway]:
    """The control API on `host` (inside network namespace `netns` when given: then `http`,
    made in the caller's namespace, cannot reach it); the same `ca` and `port` again restart
    "the same" gateway (a client that pinned its CA reaches it again); a restart on the same
    database needs another audit `instance` name (each start signs with a new audit key)."""
    clock = clock or FakeClock()
    ca_cert, ca_key = ca or make_ca()
    chain, key = control_certificate(ca_cert, ca_key, sorted({"localhost", "127.0.0.1", host}))
    (tmp / "control.pem").write_bytes(chain)
    (tmp / "control-key.pem").write_bytes(key)
    loop = LoopThread(netns)
    with Store.open(db_url, clock=clock) as store:
        audit = store.audit_writer(instance, Ed25519PrivateKey.generate(), now=clock())
        policy = PolicySource(load_policy(policy_file), audit)
        ctx = ControlContext(
            store=store,
            policy=policy,
            token_key=Ed25519PrivateKey.generate(),
            audit=audit,
            proxy_address="127.0.0.1:8443",
            ca_pem=ca_cert.decode(),
            clock=clock,
        )
        server = serve_control(
            create_control_app(ctx), host, port, tmp / "control.pem", tmp / "control-key.pem"
        )
        loop.run(server.start())
        trust = ssl.create_default_context(cadata=ca_cert.decode())
        try:
            with httpx.Client(base_url=server.url, verify=trust, timeout=30) as http:
                yield Gateway(ctx, server, http, clock, ca_cert, policy, store, audit)
        finally:
            loop.run(server.stop())
            loop.close()
