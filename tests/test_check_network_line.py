"""The network check against a real gateway: on loopback, through a relay that delays and drops
voice packets, and across a veth pair shaped with tbf between two network namespaces (root)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from homeagent.client.checks import network
from homeagent.client.checks.context import CheckContext, GatewayEndpoint, Progress
from homeagent.client.checks.hints import number
from homeagent.client.checks.limits import bundled_thresholds
from homeagent.client.checks.result import CheckResult, Status
from homeagent.proxy.control.speedtest import MAX_RUNNING
from homeagent.proxy.core.policy.posture import PostureChecks
from homeagent.proxy.core.posture_check import evaluate_report
from homeagent.proxy.store.engine import sqlite_url

from .control_fixtures import Gateway, LoopThread, make_ca, running_gateway
from .impaired_relay import ImpairedRelay, Impairment
from .netns import call_in_netns, namespaces, netns_unavailable, shaped_link


def limits(**changes: Any) -> dict[str, Any]:
    """The default policy's network limits (as the gateway sends them), with changes."""
    return {**bundled_thresholds()["network"], **changes}


def gateway_outcome(result: CheckResult, check_limits: dict[str, Any]) -> str:
    """The gateway's own verdict on the client's report of this check."""
    report = json.dumps({"version": 1, "checks": {"network": result.to_report()}}).encode()
    policy: dict[str, Any] = {name: {"level": "off"} for name in PostureChecks.model_fields}
    policy["network"] = check_limits
    verdict = evaluate_report(report, PostureChecks.model_validate(policy))
    return verdict.result("network").outcome.value


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    with running_gateway(sqlite_url(tmp_path / "gw.db"), tmp_path) as gateway:
        yield gateway


def endpoint(tmp_path: Path, url: str, ca_pem: bytes) -> GatewayEndpoint:
    ca_file = tmp_path / "gateway-ca.pem"
    ca_file.write_bytes(ca_pem)
    return GatewayEndpoint(url, ca_file)


# --- loopback ----------------------------------------------------------------------------------


def test_a_clean_line_to_the_real_gateway_passes_with_live_progress(
    gw: Gateway, tmp_path: Path
) -> None:
    seen: list[Progress] = []
    ctx = CheckContext(gateway=endpoint(tmp_path, gw.server.url, gw.ca_pem), progress=seen.append)
    check_limits = limits(test_seconds=1)
    result = network.run(check_limits, ctx)
    m = result.measured
    assert result.status is Status.PASS, result.hint
    assert m["loss_percent"] == 0 and m["rtt_ms"] < 20 and m["jitter_ms"] < 20
    assert m["mos"] > 4.2  # excellent
    assert m["download_mbps"] > 8 and m["upload_mbps"] > 4
    assert gateway_outcome(result, check_limits) == "pass"
    # progress: the three parts in order, always forward, ending done, with Mbit/s on the way
    phases = [p.phase for p in seen]
    assert phases[0] == "rtt" and phases[-1] == "upload"
    firsts = [phases.index(name) for name in ("rtt", "download", "upload")]
    assert firsts == sorted(firsts)
    fractions = [p.fraction for p in seen if p.fraction is not None]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and fractions[0] == 0.0
    assert all(p.check == "network" for p in seen)
    assert any(p.phase == "rtt" and p.value is not None for p in seen)


def test_only_the_pinned_ca_is_trusted(gw: Gateway, tmp_path: Path) -> None:
    other_ca, _ = make_ca()
    ctx = CheckContext(gateway=endpoint(tmp_path, gw.server.url, other_ca))
    result = network.run(limits(test_seconds=1), ctx)
    assert result.status is Status.FAIL and result.hint is not None
    assert result.measured["download_mbps"] is None and result.measured["upload_mbps"] is None
    assert "download test could not reach the company's gateway" in result.hint.en
    assert "CERTIFICATE_VERIFY_FAILED" in result.hint.en
    assert "下载测试无法连接公司网关" in result.hint.zh
    # the voice stream needs no certificate and still measured the line
    assert result.measured["loss_percent"] == 0


def test_a_gateway_busy_with_speed_tests_says_to_check_again_later(
    gw: Gateway, tmp_path: Path
) -> None:
    ctx = CheckContext(gateway=endpoint(tmp_path, gw.server.url, gw.ca_pem))
    with contextlib.ExitStack() as held:
        # every speed-test slot taken by downloads left open (and unread)
        for _ in range(MAX_RUNNING):
            held.enter_context(gw.http.stream("GET", "/v1/speedtest/download?bytes=65536000"))
        result = network.run(limits(test_seconds=1), ctx)
    assert result.status is Status.FAIL and result.hint is not None
    assert result.measured["download_mbps"] is None and result.measured["upload_mbps"] is None
    assert "busy with other people's speed tests, so the download test" in result.hint.en
    assert "so the upload test could not run: check again in a minute" in result.hint.en
    assert "公司网关正忙" in result.hint.zh
    assert result.measured["loss_percent"] == 0


def test_a_gateway_that_is_not_there_fails_and_says_so(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on, TCP or UDP
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ca, _ = make_ca()
    ctx = CheckContext(gateway=endpoint(tmp_path, f"https://127.0.0.1:{port}", ca))
    result = network.run(limits(test_seconds=1), ctx)
    assert result.status is Status.FAIL and result.hint is not None
    assert result.measured["loss_percent"] == 100 and result.measured["mos"] == 1.0
    assert result.measured["rtt_ms"] is None
    assert "Not one voice test packet came back" in result.hint.en
    assert "upload test could not reach" in result.hint.en
    assert gateway_outcome(result, limits(test_seconds=1)) == "fail"


# --- a delaying, dropping relay (no netem in this kernel) ---------------------------------------


def test_delay_jitter_and_loss_through_an_impaired_relay(gw: Gateway, tmp_path: Path) -> None:
    # 40 ms ± 10 ms each way (uniform), every 20th packet from the client dropped
    relay = ImpairedRelay((gw.server.host, gw.server.port), Impairment(40, 10, 20))
    loop = LoopThread()
    try:
        loop.run(relay.start())
        url = f"https://127.0.0.1:{relay.port}"
        ctx = CheckContext(gateway=endpoint(tmp_path, url, gw.ca_pem))
        check_limits = limits(test_seconds=3)
        result = network.run(check_limits, ctx)
    finally:
        loop.run(relay.stop())
        loop.close()
    m = result.measured
    sent = 150  # 3 s at 50 packets a second
    assert relay.from_client == sent and relay.dropped == sent // 20
    # 80 ms set; the relay's timers and a busy shared machine add a few ms, never take any
    assert 78 <= m["rtt_ms"] <= 92
    # |RTT(j) - RTT(i)| for RTT = 80 + four uniform ±10 ms terms between two packets: ≈ 9.2
    assert 6 <= m["jitter_ms"] <= 18
    assert m["loss_percent"] == pytest.approx(100 * (sent // 20) / sent, abs=0.01)
    # the MOS is the E-model's for these figures: fair-to-good, not excellent
    assert m["mos"] == network.estimated_mos(m["rtt_ms"], m["jitter_ms"], m["loss_percent"], 1.0)
    assert 3.5 < m["mos"] < 4.0
    assert result.status is Status.FAIL and result.hint is not None
    assert result.hint.en.startswith("Packet loss 4.67%, limit 1%")
    assert gateway_outcome(result, check_limits) == "fail"


# --- a shaped line between network namespaces ---------------------------------------------------

needs_netns = pytest.mark.skipif(
    netns_unavailable() is not None and os.environ.get("HOMEAGENT_REQUIRE_NETNS") != "1",
    reason=f"shaped-line tests skipped: {netns_unavailable()}",
)


@needs_netns
@pytest.mark.slow
@pytest.mark.parametrize(("down", "up"), [(10.0, 5.0), (6.0, 2.0)])
def test_throughput_across_a_shaped_line(tmp_path: Path, down: float, up: float) -> None:
    """The gateway listens in its namespace, the check runs in the agent's: every byte crosses
    the veth, shaped by tbf to `down` Mbit/s towards the agent and `up` towards the gateway."""
    check_limits = limits(test_seconds=3)
    with (
        shaped_link(down, up) as link,
        running_gateway(
            sqlite_url(tmp_path / "gw.db"),
            tmp_path,
            host=link.gateway_address,
            netns=link.gateway,
        ) as gw,
    ):
        ctx = CheckContext(gateway=endpoint(tmp_path, gw.server.url, gw.ca_pem))
        result = call_in_netns(link.home, lambda: network.run(check_limits, ctx))
    m = result.measured
    assert m["download_mbps"] == pytest.approx(down, rel=0.10)
    assert m["upload_mbps"] == pytest.approx(up, rel=0.10)
    assert m["loss_percent"] == 0 and m["rtt_ms"] < 20
    passes = down >= check_limits["min_download_mbps"] and up >= check_limits["min_upload_mbps"]
    assert result.status is (Status.PASS if passes else Status.FAIL)
    if not passes:
        assert result.hint is not None
        assert (
            f"Upload {number(m['upload_mbps'])} Mbit/s, limit 4: close other uploads"
            in result.hint.en
        )
        assert f"Download {number(m['download_mbps'])} Mbit/s, limit 8" in result.hint.en
    assert gateway_outcome(result, check_limits) == result.status.value


@needs_netns
def test_shaped_link_namespaces_are_gone_afterwards() -> None:
    with pytest.raises(RuntimeError, match="boom"), shaped_link(10, 5) as link:
        names = {link.home, link.gateway}
        assert names <= namespaces()
        raise RuntimeError("boom")
    assert not names & namespaces()
