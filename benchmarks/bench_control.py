"""Control API speed on SQLite over real TLS (keep-alive): posture judging, signed requests
(read, status write with its audit record, posture report), the activity query against a busy
audit log, and the UDP echo's round trip."""

from __future__ import annotations

import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from homeagent.proxy.core.policy.loader import load_policy
from homeagent.proxy.core.posture_check import evaluate_report
from homeagent.proxy.store.engine import sqlite_url
from tests.control_fixtures import DEFAULT_POLICY, AgentClient, posture_report, running_gateway

SECONDS = 2.0
FLOW_RECORDS = 100_000
AGENTS = 300


def timed(step: Callable[[], object]) -> list[float]:
    """Milliseconds per call over about SECONDS."""
    times: list[float] = []
    start = time.perf_counter()
    while time.perf_counter() - start < SECONDS:
        t = time.perf_counter()
        step()
        times.append((time.perf_counter() - t) * 1000)
    return times


def show(name: str, times: list[float]) -> None:
    ordered = sorted(times)
    p95 = ordered[int(len(ordered) * 0.95)]
    print(
        f"{name:<34} p50 {statistics.median(ordered):7.2f} ms  p95 {p95:7.2f} ms  "
        f"({len(ordered) / (sum(ordered) / 1000):7.0f}/s one client)"
    )


def posture_judging() -> None:
    checks = load_policy(DEFAULT_POLICY).policy.posture.for_role("inbound")
    report = posture_report(processes={"names": ["chrome.exe", "Teams.exe", "TeamViewer.exe"]})
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < SECONDS:
        evaluate_report(report, checks)
        count += 1
    elapsed = time.perf_counter() - start
    print(f"{'posture report parse + judge':<34} {elapsed / count * 1e6:7.1f} µs each")


def over_tls(tmp: Path) -> None:
    with running_gateway(sqlite_url(tmp / "gw.db"), tmp) as gw:
        client, _ = gw.on_shift()
        show("GET /v1/settings (signed)", timed(lambda: client.get("/v1/settings")))
        events = iter(range(10**9))
        statuses = iter(["ready", "busy", "after_call_work"] * 10**6)
        show(
            "POST /v1/status (write + audit)",
            timed(
                lambda: client.post(
                    "/v1/status",
                    {
                        "status": next(statuses),
                        "client_event_id": f"e{next(events)}",
                        "client_time": "2026-12-03T08:00:00Z",
                    },
                )
            ),
        )
        show("POST /v1/heartbeat", timed(lambda: client.post("/v1/heartbeat")))
        report = posture_report()
        show("POST /v1/posture", timed(lambda: client.send_posture(report)))

        clients = [client] + [gw.on_shift(f"P{i}")[0] for i in range(7)]

        def burst(agent: AgentClient) -> int:
            return sum(agent.get("/v1/settings").status_code == 200 for _ in range(50))

        start = time.perf_counter()
        with ThreadPoolExecutor(len(clients)) as pool:
            done = sum(pool.map(burst, clients))
        rate = done / (time.perf_counter() - start)
        print(f"{'GET /v1/settings, 8 clients':<34} {rate:7.0f}/s together")

        agents = [f"X{i}" for i in range(AGENTS)]
        batch = [
            ("flow", {"agent": agents[i % AGENTS], "decision": "allow",
                      "url": f"https://crm.acme.test/c/{i}", "masked": {"cn_mobile": 1}})
            for i in range(1000)
        ]  # fmt: skip
        for _ in range(FLOW_RECORDS // len(batch)):
            gw.audit.append_many(batch, now=gw.clock())
        gw.audit.append("flow", {"agent": "A1023", "decision": "block"}, now=gw.clock())
        show(
            f"GET /v1/activity ({FLOW_RECORDS // 1000}k flows in shift)",
            timed(lambda: client.get("/v1/activity?limit=50")),
        )

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.settimeout(1)
            udp.connect((gw.server.host, gw.server.port))
            payload = b"\x00" * 172  # RTP header + 20 ms of G.711

            def echo() -> None:
                udp.send(payload)
                udp.recv(512)

            show("UDP echo round trip (172 B)", timed(echo))


def main() -> None:
    posture_judging()
    with tempfile.TemporaryDirectory() as tmp:
        over_tls(Path(tmp))


if __name__ == "__main__":
    main()
