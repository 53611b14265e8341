"""Hot reload: a changed policy file is validated and swapped whole; a broken one leaves the last
good policy in force and says where it is broken; both under a loop of agent requests."""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from homeagent.proxy.gateway.server import WATCH_SECONDS
from homeagent.proxy.sample_app import SampleApp, start_sample_app

from .gateway_harness import ROOT, GatewayHarness

KB = "https://kb.acme.test/"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[SampleApp]:
    sample = start_sample_app(0, tmp_path / "app-certs")
    yield sample
    sample.stop()


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    return tmp_path / "policies" / "examples" / "acme.yaml"


@pytest.fixture
def harness(tmp_path: Path, app: SampleApp, policy: Path) -> Iterator[GatewayHarness]:
    gateway = GatewayHarness(tmp_path, app, policy=policy)
    yield gateway
    gateway.stop()


def _reloads(harness: GatewayHarness) -> list[dict[str, object]]:
    return [
        r["data"]
        for r in harness.gateway.store.iter_audit("test-gw")
        if r["kind"] == "control" and r["data"].get("event") == "policy-reload"
    ]


def _wait_for_reloads(harness: GatewayHarness, count: int) -> list[dict[str, object]]:
    deadline = time.monotonic() + 10
    while len(reloads := _reloads(harness)) < count:
        assert time.monotonic() < deadline, "the changed file was not noticed"
        time.sleep(0.1)  # the watcher looks once a second
    return reloads


def test_a_broken_file_keeps_the_last_good_policy(harness: GatewayHarness, policy: Path) -> None:
    _, token = harness.clock_in("A1023", "inbound")
    before = harness.gateway.policy.engines.version
    policy.write_text(policy.read_text().replace("methods: [GET]\n", "methods: [GTE]\n", 1))
    changed, message = harness.gateway.reload()  # what SIGHUP does
    assert not changed
    assert "acme.yaml:" in message and "unknown HTTP method 'GTE'" in message
    assert harness.gateway.policy.engines.version == before
    with harness.client(token) as client:
        assert client.get(KB).status_code == 200


def test_a_changed_file_is_picked_up_and_enforced(harness: GatewayHarness, policy: Path) -> None:
    _, token = harness.clock_in("A1023", "inbound")
    with harness.client(token) as client:
        assert client.get(KB).status_code == 200
    text = policy.read_text()
    start = text.index("      - name: kb-read")
    end = text.index("\n\n", start)
    policy.write_text(text[:start] + text[end + 1 :])  # inbound may no longer read the KB
    reloads = _wait_for_reloads(harness, 1)
    assert reloads[-1]["changed"] is True
    with harness.client(token) as client, pytest.raises(httpx.ProxyError, match="403"):
        client.get(KB)  # no rule of the role reaches the host any more: the CONNECT is refused


def test_the_watcher_refuses_a_broken_file_and_keeps_serving(
    harness: GatewayHarness, policy: Path
) -> None:
    _, token = harness.clock_in("A1023", "inbound")
    policy.write_text(policy.read_text() + "\nroles: {}\n")  # a duplicate key
    reloads = _wait_for_reloads(harness, 1)
    assert reloads[-1]["changed"] is False
    assert "duplicate key 'roles'" in str(reloads[-1]["message"])
    with harness.client(token) as client:
        assert client.get(KB).status_code == 200


class RequestLoop:
    """A bounded loop of agent requests in a thread: each response's status and reference, or
    the refused CONNECT of a new tunnel."""

    def __init__(self, harness: GatewayHarness, token: str, limit: int = 550) -> None:
        # under acme's 600 requests per agent in 10 min (bulk-harvest-guard)
        self.harness, self.token, self.limit = harness, token, limit
        self.results: list[tuple[int, str]] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="request-loop", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        client = self.harness.client(self.token)
        try:
            while not self._stop.is_set() and len(self.results) < self.limit:
                try:
                    response = client.get(KB, headers={"Accept": "application/json"})
                except httpx.ProxyError as err:  # the tunnel's CONNECT itself was refused
                    self.results.append((403 if "403" in str(err) else 0, ""))
                    client.close()
                    client = self.harness.client(self.token)
                    continue
                except httpx.HTTPError as err:
                    self.failures.append(repr(err))
                    continue
                reference = response.headers.get("X-Homeagent-Reference", "")
                self.results.append((response.status_code, reference))
                time.sleep(0.02)  # an agent's pace: keeps the loop under the rate limit
        finally:
            client.close()

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 30
        while len(self.results) < count:
            assert time.monotonic() < deadline and self._thread.is_alive(), "the loop stalled"
            time.sleep(0.05)  # a poll, bounded by the deadline

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        assert not self._thread.is_alive()


def test_a_broken_then_a_good_reload_under_load_fail_no_request_and_never_mix(
    harness: GatewayHarness, policy: Path
) -> None:
    _, token = harness.clock_in("A1023", "inbound")
    old = harness.gateway.policy.engines.version
    loop = RequestLoop(harness, token)
    try:
        loop.wait_for(20)
        good = policy.read_text()
        policy.write_text(good.replace("methods: [GET]\n", "methods: [GTE]\n", 1))
        broken = _wait_for_reloads(harness, 1)[-1]
        during_broken = len(loop.results)
        loop.wait_for(during_broken + 20)
        start = good.index("      - name: kb-read")
        end = good.index("\n\n", start)
        policy.write_text(good[:start] + good[end + 1 :])  # inbound may no longer read the KB
        changed = _wait_for_reloads(harness, 2)[-1]
        after = len(loop.results)
        loop.wait_for(after + 20)
    finally:
        loop.stop()
    assert broken["changed"] is False
    assert re.search(r"acme\.yaml:\d+:\d+: .*unknown HTTP method 'GTE'", str(broken["message"]))
    assert changed["changed"] is True and changed["policy"] != old
    assert loop.failures == []  # no request failed outright, through both reloads
    statuses = [status for status, _ in loop.results]
    assert set(statuses[:during_broken]) == {200}  # the broken file changed nothing
    assert set(statuses[after + 5 :]) == {403}  # the good one is in force, for every request
    # Each answered flow was decided whole under one policy: allowed under the old version,
    # refused under the new one; never one policy's decision recorded under the other.
    versions = {
        r["data"]["reference"]: r["data"]["policy"]
        for r in harness.gateway.store.iter_audit("test-gw")
        if r["kind"] == "flow"
    }
    for status, reference in loop.results:
        if reference:
            assert versions[reference] == (old if status == 200 else changed["policy"]), status


def test_a_file_caught_halfway_through_being_written_is_never_put_in_force(
    harness: GatewayHarness, policy: Path
) -> None:
    original = policy.read_text()
    cut_short = original[: original.index("\nlimits:") + 1]  # valid YAML, and no read limit
    policy.write_text(original + "\n# a first edit: its reload sets the watcher's beat\n")
    _wait_for_reloads(harness, 1)
    for edit in range(1, 4):
        # The watcher looks once a WATCH_SECONDS, counted from its last reload (just before the
        # wait above returned): the cut-short file lands just before its next look.
        time.sleep(WATCH_SECONDS * 0.6)
        with policy.open("w") as file:  # written in place, in two goes, as an editor might
            file.write(cut_short)
            file.flush()
            time.sleep(WATCH_SECONDS / 2)  # the writer's pause, not a wait for a result
            file.write(original[len(cut_short) :] + f"\n# edit {edit}\n")
        _wait_for_reloads(harness, edit + 1)
        limits = [limit.name for limit in harness.gateway.policy.engines.loaded.policy.limits]
        assert "customer-reads" in limits, f"edit {edit}: the half-written file was put in force"
    reloads = _reloads(harness)
    assert [r["changed"] for r in reloads] == [True] * 4, reloads  # one swap per edit
