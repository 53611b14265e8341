"""Hot reload: a changed policy file is validated and swapped whole; a broken one leaves the last
good policy in force and says where it is broken."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

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
