"""The client's session on this machine: a status change end to end (sealed, fsynced, signed,
delivered over TLS), the same with the gateway unreachable (queued only), delivering a long
queue after an outage, and the `homeagent status` command's start-up."""

from __future__ import annotations

import dataclasses
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from homeagent.client.state import load_enrolment, save_enrolment
from tests.session_fixtures import on_shift, wall_gateway

ROUNDS = 40
QUEUED = 300


def show(name: str, times: list[float]) -> None:
    ordered = sorted(times)
    p95 = ordered[int(len(ordered) * 0.95)]
    print(f"{name:<44} p50 {statistics.median(ordered):7.2f} ms  p95 {p95:7.2f} ms")


def each(rounds: int, step: Callable[[int], object]) -> list[float]:
    times = []
    for i in range(rounds):
        start = time.perf_counter()
        step(i)
        times.append((time.perf_counter() - start) * 1000)
    return times


def reason(i: int) -> str:
    return f"bench-{i}"


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        home = tmp / "client"
        with wall_gateway(tmp) as gateway:
            service = on_shift(gateway, home)
            show(
                "status change, delivered (sealed+fsync+TLS)",
                each(ROUNDS, lambda i: service.set_status("not_ready", reason(i))),
            )
            enrolment = load_enrolment(home)
            assert enrolment is not None
            away = enrolment.control_url.rsplit(":", 1)[0] + f":{unused_port()}"
            save_enrolment(dataclasses.replace(enrolment, control_url=away), home)
            show(
                "status change, gateway unreachable (queued)",
                each(QUEUED, lambda i: service.set_status("not_ready", reason(ROUNDS + i))),
            )
            save_enrolment(enrolment, home)
            start = time.perf_counter()
            result = service.flush_pending()
            elapsed = time.perf_counter() - start
            print(
                f"{'delivering a queue after an outage':<44} {result.delivered} changes in "
                f"{elapsed:.2f} s ({result.delivered / elapsed:.0f}/s)"
            )
            command = [str(Path(sys.executable).parent / "homeagent"), "status"]
            env = {**os.environ, "HOMEAGENT_HOME": str(home)}

            def run_status(_: int) -> None:
                subprocess.run(command, env=env, check=True, capture_output=True)

            show("`homeagent status` (process start to exit)", each(5, run_status))
            size = (home / "shift.sealed").stat().st_size
            print(f"{'sealed shift file, queue empty':<44} {size} bytes")


if __name__ == "__main__":
    main()
