"""An agent of a fleet, as the real client meets it: enrol, posture and clock-in over the control
API (directly at one instance or through HAProxy), then requests through a proxy with the token."""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import ssl
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from homeagent.proxy.core.device_auth import authorization
from homeagent.proxy.store import Store

from .control_fixtures import posture_report
from .gateway_harness import ROOT

CUSTOMER = "https://crm.acme.test/customers/{}.json"


def acme_with_limit(tmp: Path, max_requests: int, per: str) -> Path:
    """A copy of the ACME policy whose customer-reads limit is `max_requests` per `per`."""
    shutil.copytree(ROOT / "policies", tmp / "policies")
    policy = tmp / "policies" / "examples" / "acme.yaml"
    text = policy.read_text()
    assert "max_requests: 120\n    per: 10m" in text
    policy.write_text(
        text.replace(
            "max_requests: 120\n    per: 10m", f"max_requests: {max_requests}\n    per: {per}"
        )
    )
    return policy


class FleetAgent:
    """One agent with its device key; `control` is the control API it talks to."""

    def __init__(self, agent: str, ca: Path, control_url: str) -> None:
        self.agent = agent
        self.ca = ca
        self.key = Ed25519PrivateKey.generate()
        self.http = httpx.Client(
            base_url=control_url, verify=ssl.create_default_context(cafile=str(ca)), timeout=15
        )
        self.token = ""

    def call(self, method: str, path: str, body: object = None) -> httpx.Response:
        content = b"" if body is None else json.dumps(body).encode()
        ts = int(dt.datetime.now(dt.UTC).timestamp())
        header = authorization(self.key, self.agent, method, path, content, ts)
        return self.http.request(
            method,
            path,
            content=content,
            headers={"Authorization": header, "Content-Type": "application/json"},
        )

    def on_shift(self, db_url: str, role: str = "inbound") -> str:
        """Added by the officer (in the store), enrolled, posture passed, clocked in: the token."""
        with Store.open(db_url) as store:
            code = store.add_agent(self.agent, role).code
        public = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        enrolled = self.http.post(
            "/v1/enrol", json={"code": code, "public_key": base64.b64encode(public).decode()}
        )
        assert enrolled.status_code == 200, enrolled.text
        notice = self.call("GET", "/v1/settings").json()["notice"]["version"]
        signature = base64.b64encode(self.key.sign(posture_report())).decode()
        posted = self.call(
            "POST",
            "/v1/posture",
            {"report_json": posture_report().decode(), "signature": signature},
        )
        assert posted.status_code in (200, 201), posted.text
        clocked = self.call("POST", "/v1/clock-in", {"notice_version": notice})
        assert clocked.status_code == 201, clocked.text
        self.token = str(clocked.json()["token"])
        return self.token

    def status(self, value: str, event: str) -> httpx.Response:
        return self.call(
            "POST",
            "/v1/status",
            {
                "status": value,
                "client_event_id": event,
                "client_time": dt.datetime.now(dt.UTC).isoformat(),
            },
        )

    def browser(self, proxy_url: str, timeout: float = 15) -> httpx.Client:
        """What the forwarder does for the browser: every request with the session token."""
        proxy = httpx.Proxy(proxy_url, headers={"Proxy-Authorization": f"Bearer {self.token}"})
        return httpx.Client(proxy=proxy, verify=str(self.ca), timeout=timeout)

    def close(self) -> None:
        self.http.close()
