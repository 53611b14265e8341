"""The whole gateway as a client meets it: enrol over the control API with a device key, report a
passing posture, acknowledge the notice and clock in, browse the CRM through the proxy with the
token, clock out — and the same token is refused afterwards."""

from __future__ import annotations

import base64
import datetime as dt
import json
import ssl
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from homeagent.proxy.core.device_auth import authorization
from homeagent.proxy.sample_app import SampleApp

from .control_fixtures import posture_report
from .gateway_harness import GatewayHarness


class Device:
    """What the agent's client does: a device key, and every control call signed with it."""

    def __init__(self, harness: GatewayHarness, agent: str) -> None:
        control = harness.gateway.control
        assert control is not None
        self.agent = agent
        self.key = Ed25519PrivateKey.generate()
        context = ssl.create_default_context(cafile=str(harness.config.ca_cert))
        self.http = httpx.Client(base_url=control.url, verify=context, timeout=30)

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

    def enrol(self, code: str) -> httpx.Response:
        public = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return self.http.post(
            "/v1/enrol", json={"code": code, "public_key": base64.b64encode(public).decode()}
        )

    def report_posture(self, report: bytes) -> httpx.Response:
        signature = base64.b64encode(self.key.sign(report)).decode()
        return self.call(
            "POST", "/v1/posture", {"report_json": report.decode(), "signature": signature}
        )


def test_enrol_report_clock_in_browse_clock_out(
    harness: GatewayHarness, sample_app: SampleApp
) -> None:
    code = harness.gateway.store.add_agent("A7001", "inbound").code
    device = Device(harness, "A7001")
    enrolled = device.enrol(code)
    assert enrolled.status_code == 200, enrolled.text
    assert enrolled.json()["role"] == "inbound"
    assert "BEGIN CERTIFICATE" in enrolled.json()["ca_pem"]
    assert device.enrol(code).status_code >= 400  # single use

    settings = device.call("GET", "/v1/settings").json()
    notice = settings["notice"]["version"]
    refused = device.call("POST", "/v1/clock-in", {"notice_version": notice})
    assert refused.status_code == 403  # no posture report yet
    assert device.report_posture(posture_report()).status_code in (200, 201)
    assert device.call("POST", "/v1/clock-in", {"notice_version": "old"}).status_code == 409
    clocked = device.call("POST", "/v1/clock-in", {"notice_version": notice})
    assert clocked.status_code in (200, 201), clocked.text
    token = clocked.json()["token"]

    with harness.client(token) as browser:
        page = browser.get("https://crm.acme.test/customers/1002.json")
    assert page.status_code == 200 and "****" in page.text

    activity = device.call("GET", "/v1/activity?limit=5").json()
    assert any(item.get("rule") == "inbound.crm-customers" for item in _items(activity))

    assert device.call("POST", "/v1/clock-out").status_code in (200, 201)
    harness.gateway.identities.forget(clocked.json()["session"])
    with harness.client(token) as browser, pytest.raises(httpx.ProxyError, match="407"):
        browser.get("https://crm.acme.test/customers/1002.json")


def test_a_failing_required_check_blocks_clock_in_and_says_why(harness: GatewayHarness) -> None:
    code = harness.gateway.store.add_agent("A7002", "inbound").code
    device = Device(harness, "A7002")
    assert device.enrol(code).status_code == 200
    report = posture_report(noise={"dbfs_a": -50, "dba": 70})
    verdict = device.report_posture(report).json()
    assert verdict["passed"] is False
    notice = device.call("GET", "/v1/settings").json()["notice"]["version"]
    refused = device.call("POST", "/v1/clock-in", {"notice_version": notice})
    assert refused.status_code == 403
    text = json.dumps(refused.json(), ensure_ascii=False)
    assert "noise" in text


def test_the_openapi_document_lists_the_endpoints(harness: GatewayHarness) -> None:
    control = harness.gateway.control
    assert control is not None
    context = ssl.create_default_context(cafile=str(harness.config.ca_cert))
    document = httpx.get(control.url + "/v1/openapi.json", verify=context).json()
    for path in (
        "/v1/enrol",
        "/v1/settings",
        "/v1/posture",
        "/v1/clock-in",
        "/v1/clock-out",
        "/v1/status",
    ):
        assert path in document["paths"], path


def _items(activity: object) -> list[dict[str, object]]:
    if isinstance(activity, dict):
        for value in activity.values():
            if isinstance(value, list):
                return value
    return activity if isinstance(activity, list) else []


def test_data_dir_holds_the_control_certificate(harness: GatewayHarness) -> None:
    key = harness.config.data_dir / "control" / "control-test-gw-key.pem"
    assert key.exists() and (key.stat().st_mode & 0o077) == 0
    assert Path(harness.config.ca_cert).exists()
