"""How well the network check reads a line: throughput across veths shaped with tbf between two
network namespaces (root only), and round trip, jitter, loss and MOS through the impaired relay,
each against what was set, with the check's wall time."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from homeagent.client.checks import network
from homeagent.client.checks.context import CheckContext, GatewayEndpoint
from homeagent.client.checks.emodel import voice_mos
from homeagent.client.checks.limits import bundled_thresholds
from homeagent.client.checks.result import CheckResult
from homeagent.proxy.store.engine import sqlite_url
from tests.control_fixtures import LoopThread, running_gateway
from tests.impaired_relay import ImpairedRelay, Impairment
from tests.netns import call_in_netns, netns_unavailable, shaped_link

SECONDS = 3
LINES = [(2.0, 1.0), (10.0, 5.0), (20.0, 10.0)]
IMPAIRMENTS = [Impairment(10, 2, 0), Impairment(40, 10, 20), Impairment(100, 30, 10)]


def limits() -> dict[str, Any]:
    return {**bundled_thresholds()["network"], "test_seconds": SECONDS}


def shaped(down: float, up: float) -> tuple[CheckResult, float]:
    with (
        tempfile.TemporaryDirectory() as folder,
        shaped_link(down, up) as link,
        running_gateway(
            sqlite_url(Path(folder) / "gw.db"),
            Path(folder),
            host=link.gateway_address,
            netns=link.gateway,
        ) as gw,
    ):
        ca = Path(folder) / "ca.pem"
        ca.write_bytes(gw.ca_pem)
        ctx = CheckContext(gateway=GatewayEndpoint(gw.server.url, ca))
        start = time.perf_counter()
        result = call_in_netns(link.home, lambda: network.run(limits(), ctx))
        return result, time.perf_counter() - start


def impaired(impairment: Impairment) -> tuple[CheckResult, int, int]:
    with (
        tempfile.TemporaryDirectory() as folder,
        running_gateway(sqlite_url(Path(folder) / "gw.db"), Path(folder)) as gw,
    ):
        relay = ImpairedRelay((gw.server.host, gw.server.port), impairment)
        loop = LoopThread()
        try:
            loop.run(relay.start())
            ca = Path(folder) / "ca.pem"
            ca.write_bytes(gw.ca_pem)
            ctx = CheckContext(gateway=GatewayEndpoint(f"https://127.0.0.1:{relay.port}", ca))
            return network.run(limits(), ctx), relay.from_client, relay.dropped
        finally:
            loop.run(relay.stop())
            loop.close()


def main() -> None:
    print(f"network check, {SECONDS} s per part")
    why_not = netns_unavailable()
    if why_not:
        print(f"  shaped lines skipped: {why_not}")
    else:
        print("  shaped (tbf) down/up Mbit/s -> measured down/up (error %), wall time")
        for down, up in LINES:
            result, wall = shaped(down, up)
            m = result.measured
            d, u = m["download_mbps"], m["upload_mbps"]
            print(
                f"  {down:5.1f} / {up:5.1f} -> {d:6.2f} ({100 * (d - down) / down:+5.1f} %) / "
                f"{u:6.2f} ({100 * (u - up) / up:+5.1f} %), {wall:4.1f} s"
            )
    print("  relay each way, drop every n -> rtt, jitter, loss (set), MOS (E-model for the set)")
    for imp in IMPAIRMENTS:
        result, sent, dropped = impaired(imp)
        m = result.measured
        set_loss = 100 * dropped / sent if sent else 0.0
        expected = voice_mos(2 * imp.delay_ms, 0.0, set_loss)
        print(
            f"  {imp.delay_ms:5.0f} ± {imp.spread_ms:3.0f} ms, 1/{imp.drop_every or '-'} -> "
            f"{m['rtt_ms']:6.1f} ms, {m['jitter_ms']:5.1f} ms, {m['loss_percent']:5.2f} % "
            f"({set_loss:.2f}), MOS {m['mos']:.2f} (no-jitter {expected:.2f})"
        )


if __name__ == "__main__":
    main()
