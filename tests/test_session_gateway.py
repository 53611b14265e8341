"""The client's session against the whole running gateway (mitmproxy, addon chain, control API
from the gateway CA): enrolment on first use with the CA's fingerprint, posture, clock-in, a
page through the proxy with the token the client keeps, status, clock-out."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from homeagent.client.session.first_contact import ca_fingerprint
from homeagent.client.session.service import ShiftService

from .gateway_harness import GatewayHarness
from .session_fixtures import passing_results


def test_a_shift_through_the_real_gateway(harness: GatewayHarness, tmp_path: Path) -> None:
    control = harness.gateway.control
    assert control is not None
    store = harness.gateway.store
    code = store.add_agent("A7101", "inbound").code
    service = ShiftService(tmp_path / "client", "en")
    pem, fingerprint = service.offered_ca(control.url)
    # what the officer reads out from the CA file the gateway keeps
    assert fingerprint == ca_fingerprint(harness.config.ca_cert.read_bytes())
    outcome = service.enrol(code, control.url, expected_fingerprint=fingerprint)
    assert outcome.agent == "A7101"
    assert service.send_posture(passing_results()).passed
    settings = service.settings()
    session = service.clock_in(settings.notice.version)
    with harness.client(session.token) as browser:
        page = browser.get("https://kb.acme.test/")
    assert page.status_code == 200
    service.set_status("ready")
    assert service.gateway_status()["status"] == "ready"
    assert any(item["host"] == "kb.acme.test" for item in service.activity(limit=10))
    open_session = store.open_session("A7101")
    assert open_session is not None
    service.clock_out()
    # the gateway believes an open session for a few seconds; as the end-to-end test does
    harness.gateway.identities.forget(open_session.id)
    with harness.client(session.token) as browser, pytest.raises(httpx.ProxyError, match="407"):
        browser.get("https://kb.acme.test/")
    assert [e.status.value for e in store.status_history("A7101")] == [
        "not_ready",
        "ready",
        "offline",
    ]
    assert pem.strip() == harness.config.ca_cert.read_text().strip()
