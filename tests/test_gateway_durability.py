"""`homeagent-proxy run` as a real process: SIGHUP with a broken policy keeps it serving, and
SIGKILL in the middle of a burst loses no flow whose response an agent received."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from homeagent.proxy.core.session_token import SessionClaims, issue_token
from homeagent.proxy.gateway.secrets_store import signing_key
from homeagent.proxy.sample_app import SampleApp, start_sample_app
from homeagent.proxy.store import Store

from .gateway_harness import ACME_HOSTS, ROOT

CUSTOMER = "https://crm.acme.test/customers/{}.json"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def app(tmp_path: Path) -> Iterator[SampleApp]:
    sample = start_sample_app(0, tmp_path / "app-certs")
    yield sample
    sample.stop()


class GatewayProcess:
    def __init__(self, tmp: Path, app: SampleApp) -> None:
        shutil.copytree(ROOT / "policies", tmp / "policies")
        self.policy = tmp / "policies" / "examples" / "acme.yaml"
        self.data = tmp / "data"
        self.db = f"sqlite:///{tmp}/gateway.db"
        self.port = _free_port()
        command = [
            str(Path(sys.executable).parent / "homeagent-proxy"), "run",
            "--policy", str(self.policy), "--data-dir", str(self.data), "--db", self.db,
            "--listen", f"127.0.0.1:{self.port}", "--control", f"127.0.0.1:{_free_port()}",
            "--instance", "gw-kill", "--workers", "1", "--upstream-ca", str(app.ca_path),
        ]  # fmt: skip
        for host in ACME_HOSTS:
            command += ["--upstream-map", f"{host}=127.0.0.1:{app.port}"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        banner = self.process.stdout.readline()
        assert "proxy on" in banner, banner + (
            self.process.stderr.read() if self.process.stderr else ""
        )

    def token(self, agent: str) -> str:
        with Store.open(self.db) as store:
            code = store.add_agent(agent, "inbound")
            device = (
                Ed25519PrivateKey.generate()
                .public_key()
                .public_bytes(Encoding.Raw, PublicFormat.Raw)
            )
            fingerprint = store.enrol(code.code, device).device.fingerprint
            session = store.start_session(agent, fingerprint)
        key = signing_key(self.data / "keys" / "token-signing.key")
        claims = SessionClaims(
            agent,
            fingerprint,
            "inbound",
            session.id,
            time.time(),
            session.token_expires_at.timestamp(),
        )
        return issue_token(claims, key)

    def client(self, token: str) -> httpx.Client:
        proxy = httpx.Proxy(
            f"http://127.0.0.1:{self.port}", headers={"Proxy-Authorization": f"Bearer {token}"}
        )
        return httpx.Client(
            proxy=proxy, verify=str(self.data / "ca" / "mitmproxy-ca-cert.pem"), timeout=10
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def gateway(tmp_path: Path, app: SampleApp) -> Iterator[GatewayProcess]:
    process = GatewayProcess(tmp_path, app)
    yield process
    process.stop()


def test_sighup_with_a_broken_policy_keeps_the_gateway_serving(gateway: GatewayProcess) -> None:
    token = gateway.token("A1023")
    gateway.policy.write_text(
        gateway.policy.read_text().replace("version: 1", "version: 1\nversion: 2", 1)
    )
    gateway.process.send_signal(signal.SIGHUP)
    with gateway.client(token) as client:
        deadline = time.monotonic() + 10
        while True:  # the reload is audited once done
            with Store.open(gateway.db) as store:
                events = [r["data"] for r in store.iter_audit("gw-kill") if r["kind"] == "control"]
            if any(e.get("event") == "policy-reload" for e in events):
                break
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert client.get(CUSTOMER.format(1001)).status_code == 200
    reload = next(e for e in events if e.get("event") == "policy-reload")
    assert reload["changed"] is False and "duplicate key 'version'" in str(reload["message"])
    assert gateway.process.poll() is None


def test_sigkill_during_a_burst_loses_no_acknowledged_flow(gateway: GatewayProcess) -> None:
    token = gateway.token("A2002")
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def agent(worker: int) -> None:
        with gateway.client(token) as client:
            for n in range(40):  # bounded: 4 workers x 40 requests at most
                if stop.is_set():
                    return
                try:
                    response = client.get(CUSTOMER.format(1001 + (worker * 40 + n) % 100))
                except httpx.HTTPError:
                    return  # the gateway died under us: nothing acknowledged
                with lock:
                    acknowledged.append(response.headers["X-Homeagent-Reference"])

    workers = [threading.Thread(target=agent, args=(w,)) for w in range(4)]
    for thread in workers:
        thread.start()
    deadline = time.monotonic() + 20
    while len(acknowledged) < 30 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(gateway.process.pid, signal.SIGKILL)
    stop.set()
    for thread in workers:
        thread.join(timeout=20)
    gateway.process.wait(timeout=10)
    assert len(acknowledged) >= 30
    with Store.open(gateway.db) as store:
        audited = {
            r["data"]["reference"] for r in store.iter_audit("gw-kill") if r["kind"] == "flow"
        }
        reports = store.verify_audit()
    missing = set(acknowledged) - audited
    assert not missing, f"{len(missing)} acknowledged flows missing from the audit log"
    assert all(report.intact for report in reports)
