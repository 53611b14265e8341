"""The local forwarder against the real gateway: httpx plays the browser (plain HTTP with
keep-alive, HTTPS through CONNECT); the forwarder adds the token, replaces any the browser
sends, refuses after clock-out, answers 502 when the gateway cannot be reached, and bounds what
it reads."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from homeagent.client.forward import Forwarder, Limits
from homeagent.client.forward.server import HOST
from homeagent.proxy.sample_app import SampleApp

from .control_fixtures import LoopThread, make_ca
from .forward_fixtures import ECHO_HOST, echo_server, enrolment_for, forwarding, plain_policy
from .gateway_harness import GatewayHarness

CUSTOMER = "https://crm.acme.test/customers/1001.json"
ECHO = f"http://{ECHO_HOST}"


class Token:
    """The token provider a test controls: the agent clocks in and out by setting `value`."""

    def __init__(self, value: str | None) -> None:
        self.value = value

    def __call__(self) -> str | None:
        return self.value


@pytest.fixture(scope="module")
def loop() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.close()


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, sample_app: SampleApp
) -> Iterator[GatewayHarness]:
    tmp = tmp_path_factory.mktemp("fwd-gw")
    with echo_server() as echo_port:
        echo = {ECHO_HOST: ("127.0.0.1", echo_port)}
        harness = GatewayHarness(tmp, sample_app, policy=plain_policy(tmp), upstream=echo)
        yield harness
        harness.stop()


@pytest.fixture(scope="module")
def session(gateway: GatewayHarness) -> tuple[str, str]:
    return gateway.clock_in("A5001", "plain")


@pytest.fixture
def forwarder(
    loop: LoopThread, gateway: GatewayHarness, session: tuple[str, str]
) -> Iterator[Forwarder]:
    host, port = gateway.gateway.address
    enrolment = enrolment_for(f"{host}:{port}", gateway.config.ca_cert)
    with forwarding(loop, enrolment, Token(session[1])) as running:
        yield running


def browser(forwarder: Forwarder, gateway: GatewayHarness, **proxy_headers: str) -> httpx.Client:
    """A client that uses the forwarder as its proxy and trusts the gateway's interception CA,
    as the agent's browser does."""
    headers = {k.replace("_", "-"): v for k, v in proxy_headers.items()}
    return httpx.Client(
        proxy=httpx.Proxy(forwarder.proxy_url, headers=headers or None),
        verify=str(gateway.config.ca_cert),
        timeout=30,
    )


def audited(gateway: GatewayHarness, reference: str) -> dict[str, object]:
    flows = [r["data"] for r in gateway.gateway.store.iter_audit("test-gw") if r["kind"] == "flow"]
    (record,) = [d for d in flows if d["reference"] == reference]
    return dict(record)


def test_https_through_connect_carries_the_agents_token(
    forwarder: Forwarder, gateway: GatewayHarness
) -> None:
    with browser(forwarder, gateway) as client:
        first = client.get(CUSTOMER)
        second = client.get(CUSTOMER.replace("1001", "1002"))
    for answer in (first, second):
        assert answer.status_code == 200, answer.text
        assert "****" in answer.text  # the gateway masked it: it came through the addon chain
        record = audited(gateway, answer.headers["X-Homeagent-Reference"])
        assert record["agent"] == "A5001" and record["decision"] == "allow"
    assert forwarder.accepted == 1  # one tunnel, both requests


def test_plain_http_keeps_the_connection_alive_and_tokens_every_request(
    forwarder: Forwarder, gateway: GatewayHarness
) -> None:
    with browser(forwarder, gateway) as client:
        answers = [client.get(f"{ECHO}/items/{n}?q={n}") for n in range(3)]
        posted = client.post(f"{ECHO}/notes", content=b"x" * 200_000)
        chunked = client.post(f"{ECHO}/notes", content=iter([b"first,", b"", b"second"]))
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["path"] for a in answers] == [f"/items/{n}?q={n}" for n in range(3)]
    assert posted.json()["body"] == "x" * 200_000
    assert chunked.json()["body"] == "first,second"
    assert forwarder.accepted == 1  # every request on the same browser connection
    for answer in (*answers, posted, chunked):
        record = audited(gateway, answer.headers["X-Homeagent-Reference"])
        assert record["agent"] == "A5001" and record["rule"] == "plain.echo"
        names = [n.lower() for n, _ in answer.json()["headers"]]
        assert "proxy-authorization" not in names


def test_a_proxy_authorization_from_the_browser_is_replaced(
    forwarder: Forwarder, gateway: GatewayHarness
) -> None:
    _, other = gateway.clock_in("A5002", "plain")  # a real token, of someone else
    with browser(forwarder, gateway, Proxy_Authorization=f"Bearer {other}") as client:
        tunnelled = client.get(CUSTOMER)
        plain = client.get(f"{ECHO}/who")
    for answer in (tunnelled, plain):
        assert answer.status_code == 200
        assert audited(gateway, answer.headers["X-Homeagent-Reference"])["agent"] == "A5001"


def test_without_the_forwarder_the_same_request_is_refused(gateway: GatewayHarness) -> None:
    """The control for the tests above: the gateway itself refuses a request with no token."""
    with httpx.Client(
        proxy=gateway.proxy_url, verify=str(gateway.config.ca_cert), timeout=30
    ) as client:
        refused = client.get(f"{ECHO}/who", headers={"Accept": "application/json"})
    assert refused.status_code == 407


def test_clocked_out_the_browser_gets_a_page_saying_clock_in_first(
    loop: LoopThread, gateway: GatewayHarness
) -> None:
    host, port = gateway.gateway.address
    enrolment = enrolment_for(f"{host}:{port}", gateway.config.ca_cert)
    with (
        forwarding(loop, enrolment, Token(None)) as forwarder,
        browser(forwarder, gateway) as client,
    ):
        page = client.get(f"{ECHO}/who", headers={"Accept": "text/html"})
        with pytest.raises(httpx.ProxyError, match="403"):
            client.get(CUSTOMER)
    assert page.status_code == 403
    assert page.headers["X-Homeagent-Forwarder"] == "clocked-out"
    assert "上班打卡" in page.text and "Clock in first" in page.text
    assert page.text.startswith("<!doctype html>")


def test_clock_out_stops_the_forwarder_and_cuts_open_tunnels(
    loop: LoopThread, gateway: GatewayHarness
) -> None:
    _, token = gateway.clock_in("A5003", "plain")
    host, port = gateway.gateway.address
    clock = Token(token)
    enrolment = enrolment_for(f"{host}:{port}", gateway.config.ca_cert)
    with forwarding(loop, enrolment, clock) as forwarder, browser(forwarder, gateway) as client:
        assert client.get(CUSTOMER).status_code == 200
        assert forwarder.open_connections == 1  # the tunnel stays open for the next request
        watching = asyncio.run_coroutine_threadsafe(forwarder.watch_session(0.05), loop.loop)
        clock.value = None  # clock-out
        watching.result(timeout=10)
        assert forwarder.open_connections == 0
        with pytest.raises(httpx.TransportError):
            client.get(CUSTOMER)  # the tunnel was cut, and nobody listens any more
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((HOST, forwarder.port), timeout=5).close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_gateway_gets_the_502_page(
    loop: LoopThread, gateway: GatewayHarness, session: tuple[str, str]
) -> None:
    enrolment = enrolment_for(f"127.0.0.1:{_closed_port()}", gateway.config.ca_cert)
    with (
        forwarding(loop, enrolment, Token(session[1])) as forwarder,
        browser(forwarder, gateway) as client,
    ):
        page = client.get(f"{ECHO}/who")
        with pytest.raises(httpx.ProxyError, match="502"):
            client.get(CUSTOMER)
    assert page.status_code == 502
    assert page.headers["X-Homeagent-Forwarder"] == "gateway-unreachable"
    assert "无法连接公司网关" in page.text and "cannot be reached" in page.text


def test_a_gateway_with_a_certificate_from_another_ca_is_not_trusted(
    loop: LoopThread, gateway: GatewayHarness, session: tuple[str, str], tmp_path: Path
) -> None:
    """The forwarder pins the enrolled CA: a gateway it cannot verify gets nothing, the token
    least of all."""
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_bytes(make_ca()[0])
    host, port = gateway.gateway.address
    with (
        forwarding(loop, enrolment_for(f"{host}:{port}", other_ca), Token(session[1])) as fwd,
        browser(fwd, gateway) as client,
    ):
        page = client.get(f"{ECHO}/who")
    assert page.status_code == 502
    # said as what it may be (someone in the line), not as a home internet problem
    assert page.headers["X-Homeagent-Forwarder"] == "gateway-untrusted"
    assert "not the enrolled one" in page.text and "与登记的不一致" in page.text


def _exchange(forwarder: Forwarder, data: bytes, timeout: float = 10) -> bytes:
    """Send raw bytes to the forwarder and read until it closes (bounded by `timeout`)."""
    with socket.create_connection((HOST, forwarder.port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (chunk := sock.recv(65536)):
            received += chunk
    return received


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET http://echo.acme.test/ HTTP/1.1\r\nHost: e\r\nX-Big: " + b"a" * 70_000, b"431"),
        (
            b"POST http://echo.acme.test/ HTTP/1.1\r\nHost: e\r\nContent-Length: 3\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n",
            b"400",
        ),
        (b"GET http://echo.acme.test/ HTTP/1.1\r\nHost : e\r\n\r\n", b"400"),
        (b"GET http://echo.acme.test/ HTTP/1.1\r\nHost: e\r\n folded\r\n\r\n", b"400"),
        (b"GET http://echo.acme.test/ HTTP/2.0\r\nHost: e\r\n\r\n", b"400"),
    ],
    ids=["head-too-large", "te-and-cl", "space-before-colon", "folded", "http2-line"],
)
def test_heads_that_cannot_be_carried_safely_are_refused(
    forwarder: Forwarder, request_bytes: bytes, status: bytes
) -> None:
    answer = _exchange(forwarder, request_bytes)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:200]


def test_a_slow_client_is_answered_408_and_closed(
    loop: LoopThread, gateway: GatewayHarness, session: tuple[str, str]
) -> None:
    host, port = gateway.gateway.address
    enrolment = enrolment_for(f"{host}:{port}", gateway.config.ca_cert)
    limits = Limits(head_timeout=0.3)
    with forwarding(loop, enrolment, Token(session[1]), limits) as forwarder:
        started = time.monotonic()
        answer = _exchange(forwarder, b"GET http://echo.acme.test/ HTTP/1.1\r\nHost: e")
        waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert waited < 9  # closed by the forwarder, not by this test's own 10 s bound


def test_the_pac_file_sends_everything_but_loopback_to_the_forwarder(
    forwarder: Forwarder,
) -> None:
    answer = httpx.get(forwarder.pac_url, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/x-ns-proxy-autoconfig"
    script = answer.text
    assert f'return "PROXY 127.0.0.1:{forwarder.port}";' in script
    assert "; DIRECT" not in script  # no way around the gateway when the forwarder is down
    directs = re.findall(r'host === "([^"]+)"', script)
    assert set(directs) == {"localhost", "127.0.0.1", "::1", "[::1]"}
    missing = httpx.get(f"{forwarder.proxy_url}/other", timeout=10)
    assert missing.status_code == 404 and "/proxy.pac" in missing.text


def test_it_listens_on_127_0_0_1_only(forwarder: Forwarder) -> None:
    server = forwarder._server
    assert server is not None
    assert [s.getsockname()[0] for s in server.sockets] == ["127.0.0.1"]
    if socket.has_ipv6:
        with pytest.raises(OSError), socket.create_connection(("::1", forwarder.port), timeout=5):
            pass


def test_the_json_answer_of_a_refusal_is_plain_text_in_both_languages(
    loop: LoopThread, gateway: GatewayHarness
) -> None:
    host, port = gateway.gateway.address
    with (
        forwarding(loop, enrolment_for(f"{host}:{port}", gateway.config.ca_cert), Token(None)) as f,
        browser(f, gateway) as client,
    ):
        page = client.get(f"{ECHO}/who", headers={"Accept": "application/json"})
    assert page.headers["Content-Type"].startswith("text/plain")
    zh, en = page.text.splitlines()
    assert "打卡" in zh and "clock" in en.lower()
    assert json.dumps(page.status_code) == "403"


def test_beyond_its_connection_limit_it_answers_503(
    loop: LoopThread, gateway: GatewayHarness, session: tuple[str, str]
) -> None:
    host, port = gateway.gateway.address
    enrolment = enrolment_for(f"{host}:{port}", gateway.config.ca_cert)
    with (
        forwarding(loop, enrolment, Token(session[1]), Limits(max_connections=1)) as forwarder,
        socket.create_connection((HOST, forwarder.port), timeout=10),
    ):
        deadline = time.monotonic() + 10
        while forwarder.open_connections < 1:  # the first connection is being served
            assert time.monotonic() < deadline
            time.sleep(0.01)
        answer = _exchange(forwarder, b"GET http://echo.acme.test/ HTTP/1.1\r\nHost: e\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 503"), answer[:200]
    assert b"X-Homeagent-Forwarder: busy" in answer


def test_a_kept_alive_connection_left_idle_is_closed(
    loop: LoopThread, gateway: GatewayHarness, session: tuple[str, str]
) -> None:
    host, port = gateway.gateway.address
    enrolment = enrolment_for(f"{host}:{port}", gateway.config.ca_cert)
    with forwarding(loop, enrolment, Token(session[1]), Limits(idle_timeout=0.3)) as forwarder:
        started = time.monotonic()
        request = b"GET http://echo.acme.test/idle HTTP/1.1\r\nHost: echo.acme.test\r\n\r\n"
        answer = _exchange(forwarder, request)
        waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert b'"path": "/idle"' in answer
    assert waited < 5  # the forwarder closed it, long before this test's own 10 s bound
