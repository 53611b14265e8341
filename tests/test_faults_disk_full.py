"""SQLite's disk fills up under a running `homeagent-proxy run`: the gateway refuses flows it cannot
audit (503, with the store's reason), never answers one it did not record, and serves again by
itself once there is room, its audit chain intact. The disk is a 4 MB tmpfs (as root) on the
test's own folder, unmounted after. Not in a private namespace (`unshare -m`): SQLite resolves
/proc/PID/root to "/" and would open the test's side of the mount point, not the gateway's."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from homeagent.proxy.sample_app import SampleApp
from homeagent.proxy.store import Store

from .gateway_harness import ACME_HOSTS
from .gateway_process import GatewayProcess

KB = "https://kb.acme.test/"
TMPFS_SIZE = "4m"
MAX_REQUESTS = 400  # while the disk is full: enough to need new room many times over
MOUNT_NAME = "homeagent-faults"


def _can_mount() -> str | None:
    """Why a private tmpfs cannot be had here, or None."""
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    if shutil.which("mount") is None or shutil.which("umount") is None:
        return "mount and umount (util-linux) are not installed"
    return None


class FullDisk:
    def __init__(self, tmp: Path, app: SampleApp) -> None:
        self.inside = tmp / "db"
        self.inside.mkdir()
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0700", MOUNT_NAME, self.inside],
            check=True,
            timeout=30,
        )
        try:
            self.gateway = GatewayProcess(
                tmp,
                dict.fromkeys(ACME_HOSTS, app.port),
                app.ca_path,
                db_url=f"sqlite:///{self.inside}/gateway.db",
            )
        except BaseException:
            self.unmount()
            raise

    def unmount(self) -> None:
        subprocess.run(["umount", "--lazy", self.inside], check=True, timeout=30)

    def fill(self) -> int:
        """Fill the tmpfs up to the last byte; the bytes written."""
        written = 0
        chunk = b"\0" * 65536
        with (self.inside / "filler").open("wb", buffering=0) as filler:
            for _ in range(4 * 1024 * 1024 // len(chunk) + 2):  # bounded by the tmpfs size
                try:
                    written += filler.write(chunk)
                except OSError as err:
                    assert err.errno == errno.ENOSPC, err
                    return written
        raise AssertionError("the tmpfs never filled up")

    def free(self) -> None:
        (self.inside / "filler").unlink()


@pytest.fixture
def disk(tmp_path: Path, sample_app: SampleApp) -> Iterator[FullDisk]:
    reason = _can_mount()
    if reason is not None:
        if os.environ.get("HOMEAGENT_REQUIRE_NETNS") == "1":
            pytest.fail(f"the disk-full test is required (HOMEAGENT_REQUIRE_NETNS=1): {reason}")
        pytest.skip(reason)
    running = FullDisk(tmp_path, sample_app)
    try:
        yield running
    finally:
        running.gateway.stop()
        running.unmount()


def test_a_full_disk_fails_closed_and_recovers(disk: FullDisk) -> None:
    token = disk.gateway.token("A1023")
    answered: list[str] = []
    refused: list[dict[str, Any]] = []
    with disk.gateway.client(token) as client:
        ok = client.get(KB)
        assert ok.status_code == 200
        answered.append(ok.headers["X-Homeagent-Reference"])
        assert disk.fill() > 0
        for _ in range(MAX_REQUESTS):
            response = client.get(KB, headers={"Accept": "application/json"})
            if response.status_code == 200:
                answered.append(response.headers["X-Homeagent-Reference"])
                continue  # the WAL still had room from earlier checkpoints
            assert response.status_code == 503, response.text[:300]
            refused.append(response.json())
            if len(refused) >= 3:
                break
        assert refused, f"{MAX_REQUESTS} requests on a full disk and none refused"
        for body in refused:
            assert body["error"] == "gateway-unavailable" and body["rule"] == "audit.unavailable"
            assert "disk is full" in body["detail"]
            assert "打卡" not in body["message"]["zh"] and body["message"]["en"]
        disk.free()
        deadline = time.monotonic() + 20
        while (response := client.get(KB)).status_code != 200:
            assert time.monotonic() < deadline, "the gateway did not recover with room again"
            time.sleep(0.2)  # a poll, bounded by the deadline
        answered.append(response.headers["X-Homeagent-Reference"])
    with Store.open(disk.gateway.db) as store:
        recorded = {
            r["data"]["reference"] for r in store.iter_audit("gw-faults") if r["kind"] == "flow"
        }
        reports = store.verify_audit()
    assert set(answered) <= recorded  # every answered flow is on record; none slipped out unaudited
    assert reports and all(report.intact for report in reports)
