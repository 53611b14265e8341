"""The processes bench_fleet drives: the sample CRM and `homeagent-proxy run` gateways on one
PostgreSQL, each pinned to the CPUs it is given, and the front that hands agents to them."""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
ACME = ROOT / "policies" / "examples" / "acme.yaml"
HOSTS = ("crm.acme.test", "kb.acme.test", "chat.acme.test", "reports.acme.test")
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0


class RigError(RuntimeError):
    """A process of the rig did not start; the message carries the tail of its log."""


@dataclass(frozen=True)
class Endpoint:
    """Where agents reach one gateway (or, later, the load balancer in front of several)."""

    proxy: tuple[str, int]
    control_url: str


class Front:
    """Which endpoint agent number i uses: round-robin over the given ones. Pointing the tool at
    HAProxy (issue 5's fleet rig) is `Front([haproxy_endpoint])`: one endpoint, HAProxy spreads."""

    def __init__(self, endpoints: Sequence[Endpoint]) -> None:
        if not endpoints:
            raise ValueError("a front needs at least one endpoint")
        self.endpoints = list(endpoints)

    def pick(self, agent_number: int) -> Endpoint:
        return self.endpoints[agent_number % len(self.endpoints)]


def _pinned(cpus: set[int] | None) -> Callable[[], None]:
    """A preexec_fn that pins the child (and every thread and process it starts) to `cpus`."""

    def pin() -> None:
        if cpus:
            os.sched_setaffinity(0, cpus)

    return pin


def _read_lines_until(
    process: subprocess.Popen[bytes], wanted: Sequence[re.Pattern[str]], log: Path, what: str
) -> list[re.Match[str]]:
    """Reads the child's output until every pattern has matched a line (bounded in time).
    Raw reads: a buffered readline would keep lines the selector no longer reports."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    found: list[re.Match[str] | None] = [None] * len(wanted)
    pending = b""
    deadline = time.monotonic() + START_TIMEOUT_S
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while any(m is None for m in found):
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                raise RigError(f"{what} did not start in {START_TIMEOUT_S:g} s: {_tail(log)}")
            data = os.read(fd, 65536)
            if not data:
                raise RigError(f"{what} exited ({process.wait(10)}): {_tail(log)}")
            *lines, pending = (pending + data).split(b"\n")
            for line in lines:
                text = line.decode(errors="replace")
                for i, pattern in enumerate(wanted):
                    if found[i] is None:
                        found[i] = pattern.search(text)
    return [m for m in found if m is not None]


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"


class Child:
    """A started process of the rig: stopped with SIGTERM (then SIGKILL) by `stop()`."""

    def __init__(self, process: subprocess.Popen[bytes], name: str) -> None:
        self.process = process
        self.name = name

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


class SampleCrm(Child):
    """The sample business systems (proxy/sample_app) in their own process."""

    def __init__(self, folder: Path, cpus: set[int] | None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        log = folder / "sample-app.log"
        with log.open("w") as err:
            process = subprocess.Popen(
                [sys.executable, "-m", "homeagent.proxy.sample_app", "--port", "0",
                 "--cert-dir", str(folder / "certs")],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                preexec_fn=_pinned(cpus),
            )  # fmt: skip
        super().__init__(process, "sample app")
        try:
            port, ca = _read_lines_until(
                process,
                [re.compile(r"on https://127\.0\.0\.1:(\d+)"), re.compile(r"demo CA: (.+)$")],
                log,
                "the sample app",
            )
        except BaseException:
            self.stop()
            raise
        self.port = int(port.group(1))
        self.ca = Path(ca.group(1).strip())


class GatewayProcess(Child):
    """`homeagent-proxy run` with acme.yaml on the shared data dir and database, one masking
    worker, all of it pinned to `cpus`."""

    def __init__(
        self,
        instance: str,
        data_dir: Path,
        db_url: str,
        crm: SampleCrm,
        cpus: set[int] | None,
        log_dir: Path,
    ) -> None:
        log = log_dir / f"{instance}.log"
        upstream = [f"--upstream-map={host}=127.0.0.1:{crm.port}" for host in HOSTS]
        with log.open("w") as err:
            process = subprocess.Popen(
                [str(Path(sys.executable).parent / "homeagent-proxy"), "run",
                 "--policy", str(ACME), "--db", db_url, "--data-dir", str(data_dir),
                 "--instance", instance, "--listen", "127.0.0.1:0",
                 "--control", "127.0.0.1:0", "--workers", "1",
                 *upstream, "--upstream-ca", str(crm.ca)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                preexec_fn=_pinned(cpus),
            )  # fmt: skip
        super().__init__(process, instance)
        self.cpus = cpus
        try:
            proxy, control = _read_lines_until(
                process,
                [re.compile(r"proxy on ([\d.]+):(\d+)"), re.compile(r"control API: (https://\S+)")],
                log,
                f"gateway {instance}",
            )
        except BaseException:
            self.stop()
            raise
        self.endpoint = Endpoint((proxy.group(1), int(proxy.group(2))), control.group(1))
        self._proc = psutil.Process(process.pid)

    def processes(self) -> list[psutil.Process]:
        """The gateway and its worker processes (the masking pool)."""
        with contextlib.suppress(psutil.NoSuchProcess):
            return [self._proc, *self._proc.children(recursive=True)]
        return []

    def rss_bytes(self) -> int:
        total = 0
        for proc in self.processes():
            with contextlib.suppress(psutil.NoSuchProcess):
                total += proc.memory_info().rss
        return total

    def pss_bytes(self) -> int:
        """Proportional set size: the worker's pages shared with the gateway (it is forked)
        count once, not twice as in the RSS sum."""
        total = 0
        for proc in self.processes():
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                total += proc.memory_full_info().pss
        return total

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.process.pid)


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by a process and all its children, those that already ended
    too (PostgreSQL's backends come and go); 0 once it is gone."""
    total = 0.0
    with contextlib.suppress(psutil.NoSuchProcess):
        root = psutil.Process(pid)
        for proc in (root, *root.children(recursive=True)):
            with contextlib.suppress(psutil.NoSuchProcess):
                times = proc.cpu_times()
                total += times.user + times.system + times.children_user + times.children_system
    return total


def stop_all(children: Iterable[Child]) -> None:
    for child in children:
        # stopping the rest matters more than one child's error
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            child.stop()
