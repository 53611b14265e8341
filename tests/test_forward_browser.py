"""Issue 3's end-to-end test with a real browser: headless Chromium, as an enrolled, clocked-in
`inbound` agent, loads a CRM customer page through the forwarder (PAC and fixed proxy both) and the
gateway; what it rendered has the customer's numbers masked and the agent's watermark on it. The
screenshot is kept under $HOMEAGENT_ARTIFACTS (default tests/artifacts/) for a person to look at."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from homeagent.client.browser_trust import browser_stores, install
from homeagent.client.forward import Forwarder
from homeagent.proxy.core.watermark import MarkReader
from homeagent.proxy.sample_app import SampleApp

from .control_fixtures import LoopThread
from .forward_fixtures import enrolment_for, forwarding
from .gateway_harness import GatewayHarness

AGENT = "A1023"
CUSTOMER_ID = 1001
PAGE = f"https://crm.acme.test/customers/{CUSTOMER_ID}"
WINDOW = (1280, 1000)
FLAGS = (
    "--headless",
    "--no-sandbox",  # the tests run as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def artifacts_dir() -> Path:
    configured = os.environ.get("HOMEAGENT_ARTIFACTS")
    folder = Path(configured) if configured else Path(__file__).parent / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:  # CI must run this test: a missing browser is a failure, not a skip
        pytest.fail(f"{name} is not installed: scripts/setup installs it (Debian's package)")
    return found


@pytest.fixture(scope="module")
def browser_home(tmp_path_factory: pytest.TempPathFactory, harness: GatewayHarness) -> Path:
    """A HOME whose NSS database trusts the gateway's interception CA, set up by the client's
    own code (Chromium on Linux reads $HOME/.pki/nssdb)."""
    home = tmp_path_factory.mktemp("browser-home")
    ca_file = harness.config.ca_cert
    for store in browser_stores(home):  # what `homeagent trust` does after the agent's yes
        install(store, ca_file.read_text("ascii"), ca_file)
    return home


@pytest.fixture(scope="module")
def forwarder(harness: GatewayHarness) -> Iterator[Forwarder]:
    _, token = harness.clock_in(AGENT, "inbound")
    host, port = harness.gateway.address
    enrolment = enrolment_for(f"{host}:{port}", harness.config.ca_cert, role="inbound")
    loop = LoopThread()
    try:
        with forwarding(loop, enrolment, lambda: token) as running:
            yield running
    finally:
        loop.close()


def chromium(home: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [_tool("chromium"), *FLAGS, f"--user-data-dir={profile}", *args]
    env = {**os.environ, "HOME": str(home)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _digits(text: str) -> str:
    """Digits only, full-width ones made plain, so a number is found whatever separates it."""
    return re.sub(r"\D", "", text.translate({c: c - 0xFEE0 for c in range(0xFF10, 0xFF1A)}))


def test_chromium_renders_the_customer_masked_and_watermarked(
    harness: GatewayHarness,
    sample_app: SampleApp,
    forwarder: Forwarder,
    browser_home: Path,
    tmp_path: Path,
) -> None:
    # The rendered DOM, through the PAC file: this also proves a browser follows the PAC.
    dom = chromium(
        browser_home, tmp_path / "profile-dom", f"--proxy-pac-url={forwarder.pac_url}",
        "--dump-dom", PAGE,
    ).stdout  # fmt: skip
    out = artifacts_dir()
    (out / f"crm-customer-{CUSTOMER_ID}.html").write_text(dom, "utf-8")
    assert f"客户档案 #{CUSTOMER_ID}" in dom, dom[:2000]  # the CRM page, not an error page

    truth = [v for v in sample_app.ground_truth().pii if v.customer_id == CUSTOMER_ID]
    assert {v.kind for v in truth} >= {"cn_mobile", "cn_id", "bank_card", "email", "address"}
    digits, upper = _digits(dom), dom.upper()
    for value in truth:
        if value.kind in ("cn_mobile", "cn_landline", "cn_id", "bank_card"):
            assert value.canonical.rstrip("X") not in digits, value
        elif value.kind in ("email", "acme_policy_no"):
            assert value.canonical.upper() not in upper, value
        else:  # names and addresses
            assert value.canonical not in dom, value
    for value in truth:
        if value.kind == "cn_mobile":  # shown partly, so the agent can still confirm a caller
            mobile = value.canonical
            assert f"{mobile[:3]}****{mobile[-4:]}" in dom, value

    overlay = re.search(r'<svg id="homeagent-wm-[0-9a-f]+".*?</svg>', dom, re.S)
    assert overlay is not None, "no visible watermark overlay in the rendered page"
    assert AGENT in overlay.group(0)
    marks = MarkReader(harness.gateway.policy.keys.watermark).trace(dom)
    assert {(m.agent, m.verified) for m in marks} == {(AGENT, True)}

    # What the agent sees, through the forwarder as a fixed proxy; kept for a person to look at.
    shot = out / f"crm-customer-{CUSTOMER_ID}.png"
    shot.unlink(missing_ok=True)
    chromium(
        browser_home, tmp_path / "profile-shot", f"--proxy-server={forwarder.proxy_url}",
        f"--screenshot={shot}", f"--window-size={WINDOW[0]},{WINDOW[1]}", PAGE,
    )  # fmt: skip
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == WINDOW
    assert forwarder.accepted >= 2  # both browsers came through the forwarder
