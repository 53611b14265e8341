"""A gateway run with --http2, where browsers speak HTTP/2 inside the tunnel: a business system
that is down or silent still gets the agent the block page, and mitmproxy's connection per
request keeps HTTP/2 browsers clear of the keep-alive race. (A gateway of its own: mitmproxy's
options are process-wide, so it cannot run beside the default one.)"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from homeagent.proxy.sample_app import SampleApp

from .faulty_upstream import faulty, pointer, refused_port
from .gateway_harness import GatewayHarness
from .tunnel_client import h2_gets

UPSTREAM_TIMEOUT = 2.0


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, sample_app: SampleApp
) -> Iterator[GatewayHarness]:
    harness = GatewayHarness(
        tmp_path_factory.mktemp("faults-h2"),
        sample_app,
        upstream_timeout=UPSTREAM_TIMEOUT,
        http2=True,
    )
    yield harness
    harness.stop()


@pytest.fixture(scope="module")
def token(gateway: GatewayHarness) -> str:
    return gateway.clock_in("A1024", "inbound")[1]


@pytest.fixture
def point_kb(gateway: GatewayHarness, sample_app: SampleApp) -> Iterator[Callable[[int], None]]:
    yield from pointer(gateway, sample_app, "kb.acme.test")


def _at(gateway: GatewayHarness) -> tuple[tuple[str, int], Path]:
    """The gateway's proxy address and its CA."""
    return gateway.gateway.address, gateway.config.ca_cert


@pytest.mark.parametrize("mode", ["refused", "silent"])
def test_an_http2_client_gets_the_block_page_too(
    gateway: GatewayHarness,
    token: str,
    sample_app: SampleApp,
    point_kb: Callable[[int], None],
    mode: str,
) -> None:
    """mitmproxy answers HTTP/2 streams on its own path: the gateway's page still comes."""
    if mode == "silent":
        with faulty(sample_app, "silent", point_kb):
            ((headers, content),) = h2_gets(*_at(gateway), token, ["/"])
    else:
        point_kb(refused_port())
        ((headers, content),) = h2_gets(*_at(gateway), token, ["/"])
    status, code = (504, "upstream-timeout") if mode == "silent" else (502, "upstream-failed")
    assert headers[":status"] == str(status), content[:300]
    body = json.loads(content)
    assert body["error"] == code and body["reference"] == headers["x-homeagent-reference"]
    assert gateway.audited_flow(body["reference"])["status"] == status


def test_a_browser_over_http2_never_meets_the_race(
    gateway: GatewayHarness, token: str, sample_app: SampleApp, point_kb: Callable[[int], None]
) -> None:
    """mitmproxy gives each request of an HTTP/2 browser its own HTTP/1.1 connection to the
    system, so none is sent on a connection the system may be closing, and both pages come."""
    with faulty(sample_app, "one-each", point_kb) as closing:
        pages = h2_gets(*_at(gateway), token, ["/", "/"])
    assert [headers[":status"] for headers, _ in pages] == ["200", "200"], pages[1][1][:300]
    assert json.loads(pages[1][1]) == {"ok": True}
    assert closing.methods == ["GET", "GET"] and closing.connections == 2
