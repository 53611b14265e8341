"""The control API's service side: activity from the audit log, speed tests, the UDP echo, the
OpenAPI document, health and a store that does not answer, the TLS certificate, the server's
life cycle, policy reloads; and the whole shift against PostgreSQL too."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID
from sqlalchemy import create_engine

from homeagent.proxy.control import (
    ControlContext,
    PolicySource,
    control_certificate,
    create_control_app,
    serve_control,
)
from homeagent.proxy.control.certificate import CertificateError
from homeagent.proxy.control.speedtest import MAX_BYTES, SpeedTestSlots
from homeagent.proxy.control.udp_echo import MAX_DATAGRAM
from homeagent.proxy.core.policy.errors import PolicyError
from homeagent.proxy.core.policy.loader import load_policy
from homeagent.proxy.core.session_token import TokenError, read_token
from homeagent.proxy.store import Store
from homeagent.proxy.store.engine import sqlite_url

from .control_fixtures import (
    DEFAULT_POLICY,
    Gateway,
    LoopThread,
    make_ca,
    posture_report,
    running_gateway,
)


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    with running_gateway(sqlite_url(tmp_path / "gw.db"), tmp_path) as gateway:
        yield gateway


# --- activity --------------------------------------------------------------------------------


def test_activity_lists_this_agents_flows_newest_first(gw: Gateway) -> None:
    client, _ = gw.on_shift()
    gw.enrol("B2000")
    flows: list[tuple[str, dict[str, Any]]] = [
        ("A1023", {"decision": "allow", "url": "https://crm.acme.test/c/1?phone=13800138000",
                   "masked": {"cn_mobile": 2, "name": 1}}),
        ("B2000", {"decision": "block", "rule": "deny-export", "url": "https://crm.acme.test/x"}),
        ("A1023", {"decision": "block", "rule": "deny-export", "host": "reports.acme.test",
                   "path": "/export"}),
        ("A1023_", {"decision": "allow", "url": "https://kb.acme.test/"}),
    ]  # fmt: skip
    for agent, data in flows:
        gw.clock.advance(seconds=1)
        gw.audit.append("flow", {"agent": agent, **data}, now=gw.clock())
    # a record that mentions the agent only inside another field is not theirs
    gw.audit.append("flow", {"agent": "B2000", "by": {"agent": "A1023"}}, now=gw.clock())
    gw.audit.append("status", {"agent": "A1023", "status": "ready"}, now=gw.clock())
    answer = client.get("/v1/activity?limit=10")
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert [(i["decision"], i["rule"], i["host"], i["path"]) for i in items] == [
        ("block", "deny-export", "reports.acme.test", "/export"),
        ("allow", None, "crm.acme.test", "/c/1"),
    ]
    assert items[1]["masked"] == {"cn_mobile": 2, "name": 1} and items[1]["masked_total"] == 3
    assert "13800138000" not in answer.text
    one = client.get("/v1/activity?limit=1").json()["items"]
    assert [i["path"] for i in one] == ["/export"]


@pytest.mark.parametrize("limit", ["0", "201", "x"])
def test_activity_limit_is_bounded(gw: Gateway, limit: str) -> None:
    client = gw.enrol()
    answer = client.get(f"/v1/activity?limit={limit}")
    assert (answer.status_code, answer.json()["error"]) == (422, "invalid_request")


# --- speed tests -----------------------------------------------------------------------------


def test_download_sends_exactly_the_bytes_asked_for_uncompressed(gw: Gateway) -> None:
    answer = gw.http.get(
        "/v1/speedtest/download", params={"bytes": 3_000_000}, headers={"Accept-Encoding": "gzip"}
    )
    assert answer.status_code == 200
    assert len(answer.content) == 3_000_000
    assert answer.headers["content-encoding"] == "identity"
    assert answer.headers["cache-control"] == "no-store"
    # random bytes: a compressor gains nothing
    assert len(zlib.compress(answer.content[:1_000_000])) > 990_000


@pytest.mark.parametrize("size", [0, -1, MAX_BYTES + 1])
def test_download_size_is_bounded(gw: Gateway, size: int) -> None:
    answer = gw.http.get("/v1/speedtest/download", params={"bytes": size})
    assert (answer.status_code, answer.json()["error"]) == (422, "invalid_request")


def test_upload_counts_what_it_discards(gw: Gateway) -> None:
    answer = gw.http.post("/v1/speedtest/upload", content=b"\x00" * 5_000_000)
    assert answer.status_code == 200, answer.text
    assert answer.json()["bytes"] == 5_000_000 and answer.json()["seconds"] >= 0


def test_upload_over_the_cap_is_refused_while_streaming(gw: Gateway) -> None:
    def chunks() -> Iterator[bytes]:
        block = b"\x00" * (1024 * 1024)
        for _ in range(MAX_BYTES // len(block) + 1):
            yield block

    answer = gw.http.post("/v1/speedtest/upload", content=chunks())
    assert (answer.status_code, answer.json()["error"]) == (413, "body_too_large")


def test_upload_declared_over_the_cap_is_refused_unread(gw: Gateway) -> None:
    host, port = gw.server.host, gw.server.port
    context = ssl.create_default_context(cadata=gw.ca_pem.decode())
    with (
        socket.create_connection((host, port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        tls.sendall(
            b"POST /v1/speedtest/upload HTTP/1.1\r\nHost: localhost\r\n"
            + f"Content-Length: {MAX_BYTES + 1}\r\n\r\n".encode()
        )
        answer = b""
        while not answer.endswith(b"}"):
            chunk = tls.recv(4096)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413") and b'"error":"body_too_large"' in answer


def test_speed_tests_running_at_once_are_bounded() -> None:
    slots = SpeedTestSlots(limit=2)
    slots.take()
    slots.take()
    with pytest.raises(Exception, match="speed_test_busy"):
        slots.take()
    slots.give_back()
    slots.take()
    assert slots.running == 2


# --- UDP echo --------------------------------------------------------------------------------


def test_the_udp_echo_returns_small_datagrams_on_the_api_port(gw: Gateway) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(2)
        udp.connect((gw.server.host, gw.server.port))
        payload = bytes(range(160))  # a 20 ms G.711 voice frame's size
        udp.send(payload)
        assert udp.recv(2048) == payload
        udp.send(b"x" * (MAX_DATAGRAM + 1))
        udp.settimeout(0.3)
        with pytest.raises(TimeoutError):
            udp.recv(2048)
        udp.settimeout(2)
        udp.send(b"x" * MAX_DATAGRAM)
        assert udp.recv(2048) == b"x" * MAX_DATAGRAM


# --- OpenAPI, health, errors -----------------------------------------------------------------

ENDPOINTS = {
    ("post", "/v1/enrol"),
    ("get", "/v1/settings"),
    ("post", "/v1/posture"),
    ("post", "/v1/clock-in"),
    ("post", "/v1/session/renew"),
    ("post", "/v1/clock-out"),
    ("post", "/v1/status"),
    ("get", "/v1/status"),
    ("post", "/v1/heartbeat"),
    ("get", "/v1/activity"),
    ("get", "/v1/speedtest/download"),
    ("post", "/v1/speedtest/upload"),
    ("get", "/v1/health"),
}
OPEN = {("post", "/v1/enrol"), ("get", "/v1/speedtest/download"),
        ("post", "/v1/speedtest/upload"), ("get", "/v1/health")}  # fmt: skip


def test_the_openapi_document_lists_every_endpoint(gw: Gateway) -> None:
    answer = gw.http.get("/v1/openapi.json")
    assert answer.status_code == 200
    paths = answer.json()["paths"]
    listed = {(method, path) for path, item in paths.items() for method in item}
    assert listed == ENDPOINTS
    signed = {(m, p) for p, item in paths.items() for m, op in item.items() if op.get("security")}
    assert signed == ENDPOINTS - OPEN
    schemas = answer.json()["components"]["schemas"]
    assert {"ErrorBody", "TokenResponse", "PostureResponse"} <= set(schemas)


def test_health_answers_when_the_store_does(gw: Gateway) -> None:
    answer = gw.http.get("/v1/health")
    assert answer.status_code == 200 and answer.json()["status"] == "ok"


def test_an_unknown_address_answers_in_the_error_format(gw: Gateway) -> None:
    answer = gw.http.get("/v1/nothing-here")
    assert answer.status_code == 404
    assert answer.json() == {
        "error": "not_found",
        "message": {"en": "No such address in the control API", "zh": "控制接口中没有这个地址"},
    }


def test_a_store_that_does_not_answer_gives_a_clear_503(tmp_path: Path) -> None:
    # A real store on a PostgreSQL port where nothing listens (connect fails at once).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    engine = create_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{dead_port}/none",
        connect_args={"connect_timeout": 2},
    )
    store = Store.attach(engine)
    with running_gateway(sqlite_url(tmp_path / "gw.db"), tmp_path) as gw:
        code = gw.store.add_agent("A1023", "inbound", now=gw.clock())
        ctx = ControlContext(
            store=store,
            policy=gw.policy,
            token_key=Ed25519PrivateKey.generate(),
            audit=gw.audit,
            proxy_address="127.0.0.1:8443",
            ca_pem=gw.ca_pem.decode(),
            clock=gw.clock,
        )
        transport = httpx.ASGITransport(app=create_control_app(ctx))

        async def ask() -> list[httpx.Response]:
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return [
                    await client.get("/v1/health"),
                    await client.post(
                        "/v1/enrol", json={"code": code.code, "public_key": "A" * 43 + "="}
                    ),
                ]

        for answer in asyncio.run(ask()):
            assert (answer.status_code, answer.json()["error"]) == (503, "store_unavailable")
            assert "nothing was changed" in answer.json()["message"]["en"]
        assert gw.store.agent_devices("A1023") == []
    engine.dispose()


# --- certificate and server ------------------------------------------------------------------


def _rsa_ca() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mitmproxy")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2040, 1, 1, tzinfo=dt.UTC))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def test_the_control_certificate_is_issued_by_the_gateway_ca() -> None:
    ca_pem, key_pem = make_ca()
    chain, key = control_certificate(ca_pem, key_pem, ["gateway.example", "10.1.2.3"])
    server, ca_again = x509.load_pem_x509_certificates(chain)
    ca = x509.load_pem_x509_certificate(ca_pem)
    server.verify_directly_issued_by(ca)
    assert ca_again == ca
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["gateway.example"]
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["10.1.2.3"]
    private = serialization.load_pem_private_key(key, password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    assert private.public_key() == server.public_key()


def test_mitmproxys_combined_ca_file_works_as_the_key() -> None:
    ca_pem, key_pem = _rsa_ca()
    combined = key_pem + ca_pem  # mitmproxy-ca.pem: key, then certificate
    chain, _ = control_certificate(ca_pem, combined, ["localhost"])
    x509.load_pem_x509_certificates(chain)[0].verify_directly_issued_by(
        x509.load_pem_x509_certificate(ca_pem)
    )


@pytest.mark.parametrize(
    ("which", "message"),
    [("no names", "at least one host name"), ("other key", "does not belong"),
     ("garbage", "unreadable")],
)  # fmt: skip
def test_the_control_certificate_refuses_what_it_cannot_use(which: str, message: str) -> None:
    ca_pem, key_pem = make_ca()
    names = ["localhost"]
    if which == "no names":
        names = []
    elif which == "other key":
        key_pem = make_ca()[1]
    elif which == "garbage":
        ca_pem = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    with pytest.raises(CertificateError, match=message):
        control_certificate(ca_pem, key_pem, names)


def test_the_server_stops_listening_when_stopped(gw: Gateway, tmp_path: Path) -> None:
    # a second server on the same gateway objects, in a loop of its own, started and stopped
    loop = LoopThread()
    tmp = tmp_path
    server = serve_control(
        create_control_app(gw.ctx), "127.0.0.1", 0, tmp / "control.pem", tmp / "control-key.pem"
    )
    try:
        loop.run(server.start())
        port = server.port
        assert port not in (0, gw.server.port)
        trust = ssl.create_default_context(cadata=gw.ca_pem.decode())
        assert httpx.get(f"{server.url}/v1/health", verify=trust).status_code == 200
        loop.run(server.stop())
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"https://127.0.0.1:{port}/v1/health", verify=trust, timeout=2)
    finally:
        loop.close()


def test_a_taken_port_is_reported(gw: Gateway, tmp_path: Path) -> None:
    loop = LoopThread()
    tmp = tmp_path
    server = serve_control(
        create_control_app(gw.ctx),
        "127.0.0.1",
        gw.server.port,
        tmp / "control.pem",
        tmp / "control-key.pem",
    )
    try:
        with pytest.raises(Exception, match="cannot listen"):
            loop.run(server.start())
    finally:
        loop.close()


def test_an_unusable_certificate_stops_the_start(gw: Gateway, tmp_path: Path) -> None:
    (tmp_path / "bad.pem").write_text("not a certificate")
    loop = LoopThread()
    server = serve_control(
        create_control_app(gw.ctx), "127.0.0.1", 0, tmp_path / "bad.pem", tmp_path / "bad.pem"
    )
    try:
        with pytest.raises(Exception, match="did not start"):
            loop.run(server.start())
    finally:
        loop.close()


# --- policy reload ---------------------------------------------------------------------------


def test_a_policy_reload_is_audited_and_a_bad_one_keeps_the_old(
    gw: Gateway, tmp_path: Path
) -> None:
    policy_file = tmp_path / "policy.yaml"
    text = DEFAULT_POLICY.read_text().replace(
        "include:\n  - common/call-center.yaml",
        f"include:\n  - {DEFAULT_POLICY.parent / 'common' / 'call-center.yaml'}",
    )
    policy_file.write_text(text)
    source = PolicySource(load_policy(policy_file), gw.audit)
    first = source()
    policy_file.write_text(text.replace("  chat:\n    description", "  chat:\n    descr"))
    with pytest.raises(PolicyError):
        source.reload()
    assert source() is first
    policy_file.write_text(text)
    assert source.reload() is source() and source() is not first
    records = [r for r in gw.store.iter_audit("gw-test") if r["kind"] == "policy.reload"]
    assert [r["data"]["ok"] for r in records] == [False, True]
    assert len(records[1]["data"]["sha256"]) == 64


# --- the whole shift, on SQLite and PostgreSQL -----------------------------------------------


def test_enrol_posture_clock_in_token_clock_out(db_url: str, tmp_path: Path) -> None:
    with running_gateway(db_url, tmp_path) as gw:
        client = gw.enrol()
        assert client.send_posture(posture_report()).json()["passed"] is True
        answer = client.clock_in(gw.notice_version)
        assert answer.status_code == 201, answer.text
        token = answer.json()["token"]

        def check() -> str:
            return read_token(
                token,
                gw.ctx.token_public_keys,
                now=gw.clock().timestamp(),
                is_revoked=lambda s: not gw.store.is_session_active(s),
            ).agent

        assert check() == "A1023"
        assert client.post("/v1/clock-out").status_code == 200
        with pytest.raises(TokenError, match="session has ended"):
            check()
        assert [r.intact for r in gw.store.verify_audit()] == [True]
