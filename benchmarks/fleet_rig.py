"""A fleet on one machine for tests and benchmarks: N `homeagent-proxy run` processes sharing one
data dir (CA, token key) and one database, each its own --instance, with Debian's haproxy in
front in TCP mode for the proxy and the control API; all on 127.0.0.1, all stopped at the end.

    with running_fleet(2, policy, tmp, db_url=pg.new_database(), upstream_map=...) as fleet:
        fleet.proxy_url, fleet.control_url, fleet.ca, fleet.instances, fleet.kill(0)
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from homeagent.proxy.haproxy_config import Backend, haproxy_config

READY_TIMEOUT_S = 60.0
CHECK_INTERVAL_MS = 300
"""Health checks this often: a killed instance is out after two failed checks (0.6 s)."""
FLEET_NAME = "gateway.fleet.test"
"""The load balancer's name, given to every instance's --control-name (agents would enrol with
https://gateway.fleet.test:PORT; on loopback, a client connects to 127.0.0.1 by this name)."""
MAXCONN = 4000
"""Within the file descriptor limit of a test machine; far above what a benchmark opens."""
_PROXY_LINE = re.compile(r"proxy on ([\d.]+):(\d+)")
_CONTROL_LINE = re.compile(r"control API: https://[^:/]+:(\d+)")


class FleetError(RuntimeError):
    """A part of the fleet did not start; the message carries its log."""


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/sbin/haproxy") if Path(p).exists()), None
    )
    if found is None:
        raise FleetError("haproxy is not installed: apt-get install -y haproxy (scripts/setup)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Instance:
    """One gateway process."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    proxy_port: int = 0
    control_port: int = 0

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    @property
    def control_url(self) -> str:
        return f"https://127.0.0.1:{self.control_port}"

    @property
    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass
class Fleet:
    data_dir: Path
    db_url: str
    instances: list[Instance]
    haproxy: subprocess.Popen[bytes] | None = None
    proxy_port: int = 0
    control_port: int = 0
    haproxy_cfg: Path | None = None
    _stopped: bool = field(default=False, repr=False)

    @property
    def proxy_url(self) -> str:
        """Through HAProxy: what agents' forwarders use."""
        return f"http://127.0.0.1:{self.proxy_port}"

    @property
    def control_url(self) -> str:
        return f"https://127.0.0.1:{self.control_port}"

    @property
    def ca(self) -> Path:
        """The fleet's one CA: agents pin it, it signs every instance's certificates."""
        return self.data_dir / "ca" / "mitmproxy-ca-cert.pem"

    @property
    def token_key_file(self) -> Path:
        return self.data_dir / "keys" / "token-signing.key"

    def kill(self, index: int) -> None:
        """SIGKILL one instance (no goodbye: open connections just break) and reap it."""
        instance = self.instances[index]
        if instance.alive:
            instance.process.send_signal(signal.SIGKILL)
        instance.process.wait(timeout=10)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        processes = [i.process for i in self.instances]
        if self.haproxy is not None:
            processes.append(self.haproxy)
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _start_instance(
    name: str,
    policy: Path,
    data_dir: Path,
    db_url: str,
    logs: Path,
    upstream_map: dict[str, tuple[str, int]],
    upstream_ca: Path | None,
    workers: int,
) -> Instance:
    command = [
        sys.executable, "-m", "homeagent.proxy.cli", "run",
        "--policy", str(policy), "--data-dir", str(data_dir), "--db", db_url,
        "--listen", "127.0.0.1:0", "--control", "127.0.0.1:0",
        "--instance", name, "--workers", str(workers), "--control-name", FLEET_NAME,
    ]  # fmt: skip
    if upstream_ca is not None:
        command += ["--upstream-ca", str(upstream_ca)]
    for host, (address, port) in upstream_map.items():
        command += ["--upstream-map", f"{host}={address}:{port}"]
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    return Instance(name, process, log)


def _await_ready(instance: Instance, deadline: float) -> None:
    """Wait for the banner `run` prints once the proxy and the control API both listen."""
    while time.monotonic() < deadline:
        text = instance.log.read_text(errors="replace")
        proxy, control = _PROXY_LINE.search(text), _CONTROL_LINE.search(text)
        if proxy and control:
            instance.proxy_port, instance.control_port = int(proxy[2]), int(control[1])
            return
        if not instance.alive:
            raise FleetError(f"gateway {instance.name} exited at start:\n{text[-3000:]}")
        time.sleep(0.05)
    raise FleetError(f"gateway {instance.name} not ready in {READY_TIMEOUT_S:.0f} s")


def _await_listening(port: int, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.05)
    raise FleetError(f"nothing listens on 127.0.0.1:{port}")


def _start_haproxy(fleet: Fleet, folder: Path, deadline: float) -> None:
    fleet.proxy_port, fleet.control_port = free_port(), free_port()
    backends = [Backend("127.0.0.1", i.proxy_port, i.control_port) for i in fleet.instances]
    cfg = folder / "haproxy.cfg"
    cfg.write_text(
        haproxy_config(
            backends,
            proxy_bind=f"127.0.0.1:{fleet.proxy_port}",
            control_bind=f"127.0.0.1:{fleet.control_port}",
            check_interval_ms=CHECK_INTERVAL_MS,
            maxconn=MAXCONN,
        )
    )
    fleet.haproxy_cfg = cfg
    log = folder / "haproxy.log"
    with log.open("wb") as out:
        # -db: stay in the foreground, so the fixture owns the process and its end
        fleet.haproxy = subprocess.Popen(
            [haproxy_binary(), "-db", "-f", str(cfg)], stdout=out, stderr=subprocess.STDOUT
        )
    for port in (fleet.proxy_port, fleet.control_port):
        try:
            _await_listening(port, fleet.haproxy, deadline)
        except FleetError:
            raise FleetError(f"haproxy did not start:\n{log.read_text()[-3000:]}") from None


@contextlib.contextmanager
def running_fleet(
    n: int,
    policy: Path,
    tmp: Path,
    *,
    db_url: str,
    upstream_map: dict[str, tuple[str, int]] | None = None,
    upstream_ca: Path | None = None,
    workers: int = 1,
) -> Iterator[Fleet]:
    """Start `n` gateways on `db_url` (PostgreSQL; tests/pg.py makes one) behind haproxy.

    The first instance starts alone and makes the shared CA and keys in `tmp/data`; the others
    then start together (as a fleet's machines would, once the data dir was copied to them).
    Instances are named gw1..gwN."""
    if n < 1:
        raise ValueError("a fleet has at least one gateway")
    data_dir, logs = tmp / "data", tmp / "fleet-logs"
    logs.mkdir(parents=True, exist_ok=True)
    fleet = Fleet(data_dir, db_url, [])
    deadline = time.monotonic() + READY_TIMEOUT_S
    try:

        def start(name: str) -> Instance:
            instance = _start_instance(
                name, policy, data_dir, db_url, logs, upstream_map or {}, upstream_ca, workers
            )
            fleet.instances.append(instance)
            return instance

        _await_ready(start("gw1"), deadline)
        for instance in [start(f"gw{i}") for i in range(2, n + 1)]:
            _await_ready(instance, deadline)
        _start_haproxy(fleet, logs, deadline)
        yield fleet
    finally:
        fleet.stop()
