"""An agent's client as the control API meets it, for the fault tests: enrolled with its own
device key, every call signed, its PC clock as far off the gateway's as the test says."""

from __future__ import annotations

import base64
import datetime as dt
import json
import ssl
import time

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from homeagent.proxy.core.device_auth import authorization

from .control_fixtures import posture_report
from .gateway_harness import GatewayHarness


class SkewedDevice:
    """An agent's client whose PC clock is `offset` seconds off the gateway's."""

    def __init__(self, harness: GatewayHarness, agent: str, offset: float) -> None:
        control = harness.gateway.control
        assert control is not None
        self.agent, self.offset = agent, offset
        self.key = Ed25519PrivateKey.generate()
        context = ssl.create_default_context(cafile=str(harness.config.ca_cert))
        self.http = httpx.Client(base_url=control.url, verify=context, timeout=30)
        code = harness.gateway.store.add_agent(agent, "inbound").code
        public = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        enrolled = self.http.post(
            "/v1/enrol", json={"code": code, "public_key": base64.b64encode(public).decode()}
        )
        assert enrolled.status_code == 200, enrolled.text  # enrolment is not signed: no clock

    def now(self) -> float:
        return time.time() + self.offset

    def signed(self, method: str, path: str, body: object = None) -> httpx.Request:
        content = b"" if body is None else json.dumps(body).encode()
        header = authorization(self.key, self.agent, method, path, content, int(self.now()))
        return self.http.build_request(
            method,
            path,
            content=content,
            headers={"Authorization": header, "Content-Type": "application/json"},
        )

    def call(self, method: str, path: str, body: object = None) -> httpx.Response:
        return self.http.send(self.signed(method, path, body))

    def report_posture(self) -> httpx.Response:
        report = posture_report()
        signature = base64.b64encode(self.key.sign(report)).decode()
        return self.call(
            "POST", "/v1/posture", {"report_json": report.decode(), "signature": signature}
        )

    def status(self, status: str, event: str) -> httpx.Request:
        client_time = dt.datetime.fromtimestamp(self.now(), dt.UTC).isoformat()
        body = {"status": status, "client_event_id": event, "client_time": client_time}
        return self.signed("POST", "/v1/status", body)

    def clock_in(self) -> httpx.Response:
        """Report a passing posture and clock in after the current notice."""
        posture = self.report_posture()
        assert posture.status_code in (200, 201), posture.text
        notice = self.call("GET", "/v1/settings").json()["notice"]["version"]
        return self.call("POST", "/v1/clock-in", {"notice_version": notice})
