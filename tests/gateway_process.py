"""`homeagent-proxy run` as a real process for the fault tests: its own data dir and policy copy,
any upstream map and extra options, agents clocked in through its store, and its memory read
from /proc."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from homeagent.proxy.core.session_token import SessionClaims, issue_token
from homeagent.proxy.gateway.secrets_store import signing_key
from homeagent.proxy.store import Store

from .gateway_harness import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class GatewayProcess:
    def __init__(
        self,
        tmp: Path,
        upstream: dict[str, int],
        upstream_ca: Path,
        *,
        db_url: str | None = None,
        extra: tuple[str, ...] = (),
        prefix: tuple[str, ...] = (),
    ) -> None:
        """`prefix`: a command that runs the gateway's (e.g. in its own mount namespace)."""
        shutil.copytree(ROOT / "policies", tmp / "policies")
        self.policy = tmp / "policies" / "examples" / "acme.yaml"
        self.data = tmp / "data"
        self.db = db_url or f"sqlite:///{tmp}/gateway.db"
        self.port = free_port()
        self.control_port = free_port()
        command = [
            *prefix,
            str(Path(sys.executable).parent / "homeagent-proxy"), "run",
            "--policy", str(self.policy), "--data-dir", str(self.data), "--db", self.db,
            "--listen", f"127.0.0.1:{self.port}", "--control", f"127.0.0.1:{self.control_port}",
            "--instance", "gw-faults", "--workers", "1", "--upstream-ca", str(upstream_ca),
            *extra,
        ]  # fmt: skip
        for host, port in upstream.items():
            command += ["--upstream-map", f"{host}=127.0.0.1:{port}"]
        self.log = (tmp / "gateway.log").open("w")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log, text=True)
        assert self.process.stdout is not None
        banner = self.process.stdout.readline()
        assert "proxy on" in banner, banner + (tmp / "gateway.log").read_text()

    @property
    def ca(self) -> Path:
        return self.data / "ca" / "mitmproxy-ca-cert.pem"

    def token(self, agent: str, role: str = "inbound") -> str:
        with Store.open(self.db) as store:
            code = store.add_agent(agent, role)
            device = (
                Ed25519PrivateKey.generate()
                .public_key()
                .public_bytes(Encoding.Raw, PublicFormat.Raw)
            )
            fingerprint = store.enrol(code.code, device).device.fingerprint
            session = store.start_session(agent, fingerprint)
        key = signing_key(self.data / "keys" / "token-signing.key")
        claims = SessionClaims(
            agent, fingerprint, role, session.id, time.time(), session.token_expires_at.timestamp()
        )
        return issue_token(claims, key)

    def client(self, token: str, timeout: float = 30) -> httpx.Client:
        proxy = httpx.Proxy(
            f"http://127.0.0.1:{self.port}", headers={"Proxy-Authorization": f"Bearer {token}"}
        )
        return httpx.Client(proxy=proxy, verify=str(self.ca), timeout=timeout)

    def peak_rss_mb(self) -> dict[int, float]:
        """Peak resident memory (VmHWM) of the gateway and each of its child processes, in MB."""
        pids = [self.process.pid, *_children(self.process.pid)]
        peaks = {}
        for pid in pids:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = int(line.split()[1]) / 1024
        return peaks

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait(timeout=10)
        self.log.close()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found
