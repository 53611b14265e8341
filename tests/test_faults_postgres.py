"""PostgreSQL stopped and started again while agents browse and change status: the gateway fails
closed during the outage with a clear reason, recovers by itself, and nothing it acknowledged (a
2xx status change, an answered flow's audit record) is lost."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from homeagent.proxy.sample_app import SampleApp

from .gateway_harness import GatewayHarness
from .pg import PostgresCluster, PostgresUnavailableError
from .signed_device import SkewedDevice

KB = "https://kb.acme.test/"
LOOP_LIMIT = 3000  # requests per loop, at most
WAIT = 60.0  # seconds any one phase may take before the test fails


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    """A cluster of this module's own: stopping it must not disturb other tests' databases."""
    try:
        started = PostgresCluster.start()
    except PostgresUnavailableError as err:
        if os.environ.get("HOMEAGENT_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required (HOMEAGENT_REQUIRE_POSTGRES=1): {err}")
        pytest.skip(f"PostgreSQL unavailable: {err}")
    yield started
    started.stop()


@pytest.fixture
def gateway(
    tmp_path: Path, sample_app: SampleApp, cluster: PostgresCluster
) -> Iterator[GatewayHarness]:
    harness = GatewayHarness(tmp_path, sample_app, db_url=cluster.new_database())
    yield harness
    harness.stop()


class Load:
    """Two bounded loops in threads: pages through the proxy, and status changes over the
    control API (redelivered with the same ID until acknowledged, as the client's queue does)."""

    def __init__(self, gateway: GatewayHarness, token: str, device: SkewedDevice) -> None:
        self.gateway, self.token, self.device = gateway, token, device
        self.pages: list[tuple[float, int, dict[str, object], str]] = []
        self.changes: list[tuple[float, int, dict[str, object], str]] = []
        self.crashed: list[str] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._guard, args=(self._browse,), daemon=True),
            threading.Thread(target=self._guard, args=(self._change,), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _guard(self, loop: Callable[[], None]) -> None:
        try:
            loop()
        except Exception as err:
            self.crashed.append(f"{loop.__name__}: {err!r}")
            raise

    def _browse(self) -> None:
        while not self._stop.is_set() and len(self.pages) < LOOP_LIMIT:
            try:
                with self.gateway.client(self.token) as client:
                    while not self._stop.is_set() and len(self.pages) < LOOP_LIMIT:
                        response = client.get(KB, headers={"Accept": "application/json"})
                        body = response.json() if response.status_code != 200 else {}
                        reference = response.headers.get("X-Homeagent-Reference", "")
                        self.pages.append((time.monotonic(), response.status_code, body, reference))
                        # an agent's pace (and under acme's 600 pages in 10 min per agent)
                        time.sleep(0.05)
            except httpx.ProxyError as err:  # a refused CONNECT: the tunnel is refused whole
                self.pages.append((time.monotonic(), int(str(err)[:3]), {"error": str(err)}, ""))
                time.sleep(0.05)  # the agent's browser would not retry in a tight loop either

    def _change(self) -> None:
        n = 0
        while not self._stop.is_set() and len(self.changes) < LOOP_LIMIT:
            target, event = ("ready" if n % 2 == 0 else "busy"), f"change-{n}"
            response = self.device.http.send(self.device.status(target, event))
            body = response.json()
            self.changes.append((time.monotonic(), response.status_code, body, event))
            if response.status_code in (200, 201):
                n += 1  # acknowledged: the next change; otherwise the same one again
            else:
                time.sleep(0.05)  # the client's queue waits a moment before redelivering

    def wait_until(self, what: str, condition: object) -> None:
        deadline = time.monotonic() + WAIT
        while not callable(condition) or not condition():
            assert time.monotonic() < deadline, (
                f"timed out waiting for {what}: pages {self._summary(self.pages)}, "
                f"changes {self._summary(self.changes)}"
            )
            assert all(t.is_alive() for t in self._threads), (
                f"a loop ended: {self.crashed}, {len(self.pages)} pages, "
                f"{len(self.changes)} changes"
            )
            time.sleep(0.05)  # a poll, bounded by the deadline

    @staticmethod
    def _summary(rows: list[tuple[float, int, dict[str, object], str]]) -> str:
        last = rows[-1][1:3] if rows else None
        return f"{len(rows)}, last {last}"

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=WAIT)


def _ok_since(rows: list[tuple[float, int, dict[str, object], str]], since: float) -> int:
    return sum(1 for at, status, _, _ in rows if at > since and status in (200, 201))


def _refused_since(rows: list[tuple[float, int, dict[str, object], str]], since: float) -> int:
    return sum(1 for at, status, _, _ in rows if at > since and status >= 500)


def test_postgres_restarted_mid_load_fails_closed_recovers_and_loses_nothing(
    gateway: GatewayHarness, cluster: PostgresCluster
) -> None:
    device = SkewedDevice(gateway, "P1001", 0)
    clocked = device.clock_in()
    assert clocked.status_code in (200, 201), clocked.text
    load = Load(gateway, clocked.json()["token"], device)
    try:
        start = time.monotonic()
        load.wait_until(
            "service before the outage",
            lambda: _ok_since(load.pages, start) >= 10 and _ok_since(load.changes, start) >= 5,
        )
        down = time.monotonic()
        cluster.stop_server()
        load.wait_until(
            "refusals during the outage",
            lambda: (
                _refused_since(load.pages, down) >= 5 and _refused_since(load.changes, down) >= 3
            ),
        )
        cluster.start_server()
        up = time.monotonic()
        load.wait_until(
            "service after the restart",
            lambda: _ok_since(load.pages, up) >= 10 and _ok_since(load.changes, up) >= 5,
        )
    finally:
        load.stop()

    refusals = [body for at, status, body, _ in load.pages if down < at < up and status >= 500]
    codes = {str(body.get("error")) for body in refusals}
    assert codes <= {"gateway-unavailable"}, codes  # one clear reason, not a crash page
    assert all(body.get("message") for body in refusals)
    status_refusals = [b for at, s, b, _ in load.changes if down < at < up and s >= 500]
    assert {str(b.get("error")) for b in status_refusals} == {"store_unavailable"}

    store = gateway.gateway.store
    recorded = {r["data"]["reference"] for r in store.iter_audit("test-gw") if r["kind"] == "flow"}
    answered = {ref for _, status, _, ref in load.pages if status == 200}
    assert answered and answered <= recorded  # every page an agent got is on record
    acknowledged = {event for _, status, _, event in load.changes if status in (200, 201)}
    stored = {e.client_event_id for e in store.status_history("P1001")}
    assert acknowledged <= stored  # every acknowledged status change survived the restart
    reports = store.verify_audit()
    assert reports and all(report.intact for report in reports), reports
