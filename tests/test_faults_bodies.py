"""10 MB and 100 MB bodies through a real `homeagent-proxy run`: a response under the policy's
limit comes back masked, one over it is refused with a block page, never passed unmasked; a
request body over it is refused before it reaches the business system; memory stays bounded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from homeagent.proxy.core.policy.loader import load_policy
from homeagent.proxy.sample_app import SampleApp

from .faulty_upstream import CHUNK, MOBILE, FaultyUpstream, customer_records
from .gateway_harness import ACME
from .gateway_process import GatewayProcess

MB = 1024 * 1024
MEMORY_BOUND_MB = 500  # the bound for a gateway process (issue 5, "Load")
LIMIT = load_policy(ACME).policy.masking.max_body_bytes


def _hundred_mb() -> bytes:
    """About 100 MB of valid JSON, whole mobile numbers throughout, made from one 1 MB piece."""
    inner = customer_records(CHUNK)[1:-1]
    return b"[" + b",".join([inner] * 100) + b"]"


class Bodies:
    def __init__(self, tmp: Path, app: SampleApp) -> None:
        cert, key = Path(app.certificates.server_cert), Path(app.certificates.server_key)
        self.ten = FaultyUpstream(cert, key, "bulk", customer_records(10 * MB))
        self.hundred = FaultyUpstream(cert, key, "bulk", _hundred_mb())
        self.sink = FaultyUpstream(cert, key, "bulk")
        upstream = {
            "kb.acme.test": self.ten.port,
            "crm.acme.test": self.hundred.port,
            "chat.acme.test": self.sink.port,
        }
        self.gateway = GatewayProcess(tmp, upstream, app.ca_path)

    def stop(self) -> None:
        self.gateway.stop()
        for server in (self.ten, self.hundred, self.sink):
            server.stop()


@pytest.fixture(scope="module")
def bodies(tmp_path_factory: pytest.TempPathFactory, sample_app: SampleApp) -> Iterator[Bodies]:
    assert 10 * MB < LIMIT < 100 * MB, "the cases below assume acme.yaml's 20 MB limit"
    running = Bodies(tmp_path_factory.mktemp("bodies"), sample_app)
    yield running
    running.stop()


def test_a_10_mb_response_comes_back_masked_whole(bodies: Bodies) -> None:
    assert len(MOBILE.findall(bodies.ten.body)) > 10_000
    with bodies.gateway.client(bodies.gateway.token("A1023")) as client:
        response = client.get("https://kb.acme.test/export", headers={"Accept": "application/json"})
    assert response.status_code == 200
    records = response.json()
    assert len(records) == bodies.ten.body.count(b'"id"')  # whole, not cut short
    assert MOBILE.search(response.content) is None  # not one number passed unmasked
    assert records[1]["mobile"] != f"139{1:08d}" and records[1]["mobile"].startswith("139")


def test_a_100_mb_response_is_refused_never_passed(bodies: Bodies) -> None:
    with bodies.gateway.client(bodies.gateway.token("A1024")) as client:
        response = client.get(
            "https://crm.acme.test/customers/export.json", headers={"Accept": "application/json"}
        )
    assert response.status_code == 502
    assert MOBILE.search(response.content) is None
    body = response.json()
    assert body["error"] == "too-large" and body["rule"] == "upstream.too-large"
    assert body["reference"] == response.headers["X-Homeagent-Reference"]
    assert "内容过大" in body["message"]["zh"] and "too large" in body["message"]["en"]


def test_a_10_mb_request_body_reaches_the_system(bodies: Bodies) -> None:
    message = b'{"text": "' + "您好，这是一份很长的说明。".encode() * (10 * MB // 39) + b'"}'
    with bodies.gateway.client(bodies.gateway.token("C3001", "chat")) as client:
        response = client.post(
            "https://chat.acme.test/messages/S9001",
            content=message,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
    assert response.status_code == 200, response.text[:300]
    assert response.json() == {"received": len(message)}


def test_a_100_mb_request_body_is_refused_before_the_system_sees_it(bodies: Bodies) -> None:
    message = b"x" * (100 * MB)
    before = list(bodies.sink.received)
    with bodies.gateway.client(bodies.gateway.token("C3002", "chat")) as client:
        response = client.post(
            "https://chat.acme.test/messages/S9001",
            content=message,
            headers={"Content-Type": "text/plain", "Accept": "application/json"},
        )
    assert response.status_code == 413, response.text[:300]
    body = response.json()
    assert body["error"] == "request-too-large" and body["rule"] == "limit.request-body"
    assert "未发送" in body["message"]["zh"] and "not sent" in body["message"]["en"]
    assert bodies.sink.received == before  # nothing of it was forwarded


def test_the_gateway_memory_stays_bounded(bodies: Bodies) -> None:
    """After the cases above (pytest keeps file order): each process's peak resident memory.
    Peaks are not simultaneous, so their sum is an upper bound, printed as the figure."""
    peaks = bodies.gateway.peak_rss_mb()
    gateway_pid = bodies.gateway.process.pid
    print(  # the figures, for the report: -s shows them
        "gateway peak RSS after 10 MB and 100 MB bodies: "
        + ", ".join(
            f"{'main' if pid == gateway_pid else 'child'} {mb:.0f} MB" for pid, mb in peaks.items()
        )
        + f" (sum {sum(peaks.values()):.0f} MB)"
    )
    assert gateway_pid in peaks and len(peaks) >= 2, peaks  # the process and its masking worker
    assert max(peaks.values()) < MEMORY_BOUND_MB, peaks
