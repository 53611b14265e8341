"""The gateway end to end: real mitmproxy on loopback in front of the sample CRM; httpx through
the proxy as an enrolled, clocked-in agent — and as everyone who must be refused."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import pytest

from homeagent.proxy.core.watermark import MarkReader
from homeagent.proxy.gateway.identity import SESSION_CACHE_SECONDS
from homeagent.proxy.sample_app import SampleApp

from .gateway_harness import GatewayHarness

CUSTOMER = "https://crm.acme.test/customers/1001"


@pytest.fixture(scope="module")
def inbound(harness: GatewayHarness) -> str:
    return harness.clock_in("A1023", "inbound")[1]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text.translate({c: c - 0xFEE0 for c in range(0xFF10, 0xFF1A)}))


def test_a_clocked_in_agent_sees_the_customer_masked_and_watermarked(
    harness: GatewayHarness, sample_app: SampleApp, inbound: str
) -> None:
    with harness.client(inbound) as client:
        page = client.get(CUSTOMER, headers={"Accept": "text/html"})
        record = client.get(CUSTOMER + ".json", headers={"Accept": "application/json"})
    assert page.status_code == 200 and record.status_code == 200
    customer = [v for v in sample_app.ground_truth().pii if v.customer_id == 1001]
    assert len(customer) >= 5
    for body in (page.text, record.text):
        digits = _digits(body)
        for value in customer:
            if value.kind in ("cn_mobile", "cn_id", "bank_card"):
                assert value.canonical.rstrip("X") not in digits, value
            if value.kind == "email":
                assert value.canonical not in body.lower(), value
    assert "pointer-events:none" in page.text.replace(" ", "")  # the visible overlay
    assert "A1023" in page.text  # its text names the agent
    data = json.loads(record.text)
    assert data["name"].endswith("**")
    marks = MarkReader(harness.gateway.policy.keys.watermark).trace(page.text)
    assert [(m.agent, m.verified) for m in marks] == [("A1023", True)]
    assert marks[0].reference == page.headers["X-Homeagent-Reference"]
    assert page.headers["Cache-Control"] == "private, no-store"


def test_every_flow_is_audited_with_what_was_masked(harness: GatewayHarness, inbound: str) -> None:
    with harness.client(inbound) as client:
        reference = client.get(CUSTOMER + ".json").headers["X-Homeagent-Reference"]
    flows = [r["data"] for r in harness.gateway.store.iter_audit("test-gw") if r["kind"] == "flow"]
    (data,) = [d for d in flows if d["reference"] == reference]
    assert data["agent"] == "A1023" and data["decision"] == "allow"
    assert data["rule"] == "inbound.crm-customers"
    assert data["masked"]["cn_mobile"] >= 1 and data["masked"]["customer-name"] >= 1
    assert "?" not in data["url"]


@pytest.mark.parametrize(
    ("token", "code"),
    [(None, "not-authenticated"), ("ha1.forged.token", "not-authenticated")],
)
def test_no_valid_token_is_refused_with_407(
    harness: GatewayHarness, token: str | None, code: str
) -> None:
    with harness.client(token) as client, pytest.raises(httpx.ProxyError, match="407"):
        client.get(CUSTOMER)
    plain = httpx.get(
        "http://crm.acme.test/customers/1001",
        proxy=httpx.Proxy(
            harness.proxy_url, headers={"Proxy-Authorization": f"Bearer {token}"} if token else None
        ),
        headers={"Accept": "application/json"},
    )
    assert plain.status_code == 407
    assert plain.json()["error"] == code
    assert plain.json()["rule"] == "gate.session"
    assert "打卡" in plain.json()["message"]["zh"] and "clock in" in plain.json()["message"]["en"]


def test_a_token_after_clock_out_is_refused(harness: GatewayHarness) -> None:
    session, token = harness.clock_in("A2001", "inbound")
    with harness.client(token) as client:
        assert client.get(CUSTOMER).status_code == 200
        harness.gateway.store.end_session(session, "clock-out")
        # Ended on another instance: this one believes its cache for at most SESSION_CACHE_SECONDS.
        deadline = time.monotonic() + SESSION_CACHE_SECONDS + 2
        while (
            refused := client.get(CUSTOMER, headers={"Accept": "application/json"})
        ).status_code == 200:
            assert time.monotonic() < deadline, "a clock-out elsewhere was not noticed in time"
            time.sleep(0.1)  # a poll, bounded by the deadline
    assert refused.status_code == 407
    assert refused.json()["error"] == "session-ended"
    with harness.client(token) as client, pytest.raises(httpx.ProxyError, match="407"):
        client.get(CUSTOMER)  # a new tunnel with the replayed token


def test_the_wrong_role_is_refused_with_the_rule_named(
    harness: GatewayHarness, inbound: str
) -> None:
    with harness.client(inbound) as client:
        admin = client.get(
            "https://crm.acme.test/admin/export.jsonl", headers={"Accept": "text/html"}
        )
        with pytest.raises(httpx.ProxyError, match="403"):
            client.get("https://reports.acme.test/")
    assert admin.status_code == 403
    assert "default-deny" in admin.text and "该地址不在您的岗位权限内" in admin.text
    assert admin.headers["X-Homeagent-Reference"] in admin.text


def test_a_host_header_naming_another_host_is_refused(
    harness: GatewayHarness, inbound: str
) -> None:
    with harness.client(inbound) as client:
        response = client.get(
            CUSTOMER, headers={"Host": "reports.acme.test", "Accept": "application/json"}
        )
    assert response.status_code == 403
    assert response.json()["rule"] == "ambiguous-url"


def test_a_forbidden_word_from_a_chat_agent_is_refused(harness: GatewayHarness) -> None:
    _, token = harness.clock_in("C3001", "chat")
    url = "https://chat.acme.test/messages/S9001"
    with harness.client(token) as client:
        ok = client.post(url, json={"text": "您好，请问还有什么可以帮您？"})
        refused = client.post(
            url, json={"text": "加 我 微 信，给您内部价格"}, headers={"Accept": "application/json"}
        )
    assert ok.status_code in (200, 201)
    assert refused.status_code == 403
    assert refused.json()["rule"] == "words.chat-off-platform"


def test_bulk_harvesting_is_stopped_with_429(harness: GatewayHarness) -> None:
    _, token = harness.clock_in("A4001", "inbound")
    statuses = []
    with harness.client(token) as client:
        for n in range(125):
            statuses.append(
                client.get(f"https://crm.acme.test/customers/{1001 + n % 50}.json").status_code
            )
            if statuses[-1] == 429:
                break
        last = client.get(CUSTOMER + ".json", headers={"Accept": "application/json"})
    assert statuses.count(200) == 120
    assert statuses[-1] == 429
    assert last.json()["rule"] == "limit.customer-reads"
    assert int(last.headers["Retry-After"]) > 0


def test_the_audit_chain_verifies(harness: GatewayHarness, inbound: str) -> None:
    with harness.client(inbound) as client:
        client.get(CUSTOMER)
    reports = harness.gateway.store.verify_audit()
    assert reports and all(report.intact for report in reports)


def test_store_path_is_the_data_dir(harness: GatewayHarness) -> None:
    assert Path(harness.config.ca_cert).exists()
