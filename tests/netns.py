"""A real line for network tests: two throwaway network namespaces, the agent's home and the
gateway's, joined by a veth pair shaped with `tc … tbf` in each direction. Linux and root only;
the namespaces (and so the veth) are removed even when a test fails. Traffic stays between
them: their addresses (10.200.x.0/30) exist only inside these namespaces."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

NETNS_DIR = Path("/run/netns")
JOIN_TIMEOUT_S = 120.0
_numbers = itertools.count(1)


def netns_unavailable() -> str | None:
    """Why these tests cannot run here (None: they can)."""
    if not sys.platform.startswith("linux"):
        return "network namespaces are Linux only"
    if os.geteuid() != 0:
        return "network namespaces and tc need root (CI runs as root)"
    if not hasattr(os, "setns"):
        return "os.setns needs Python 3.12 on Linux"
    missing = [tool for tool in ("ip", "tc") if shutil.which(tool) is None]
    if missing:
        return f"{' and '.join(missing)} not installed (Debian package iproute2)"
    return None


@dataclass(frozen=True, slots=True)
class ShapedLink:
    home: str
    """The agent's namespace."""
    gateway: str
    """The gateway's namespace."""
    home_address: str
    gateway_address: str


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


def _tc(namespace: str, *args: str) -> None:
    done = subprocess.run(
        ["tc", "-n", namespace, *args], capture_output=True, text=True, timeout=30, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"tc {' '.join(args)}: {done.stderr.strip()}")


def _shape(namespace: str, device: str, mbit: float) -> None:
    """Token bucket on the device's egress: `mbit` sustained; a burst of 16 KB (a few
    packets, above what one timer tick lets through at these rates); at most 50 ms queued."""
    rate = f"{round(mbit * 1000)}kbit"
    _tc(namespace, "qdisc", "add", "dev", device, "root", "tbf", "rate", rate,
        "burst", "16kb", "latency", "50ms")  # fmt: skip


@contextmanager
def shaped_link(download_mbit: float, upload_mbit: float) -> Iterator[ShapedLink]:
    """Home and gateway namespaces on a veth shaped to `download_mbit` towards home and
    `upload_mbit` towards the gateway."""
    n = next(_numbers)
    tag = f"ha{os.getpid()}n{n}"
    home, gateway = f"{tag}-home", f"{tag}-gw"
    link = ShapedLink(home, gateway, f"10.200.{n % 250}.1", f"10.200.{n % 250}.2")
    made: list[str] = []
    try:
        for namespace in (home, gateway):
            _ip("netns", "add", namespace)
            made.append(namespace)
        # Created straight inside the namespaces: nothing appears in the machine's own.
        _ip("link", "add", "ha-home", "netns", home, "type", "veth",
            "peer", "name", "ha-gw", "netns", gateway)  # fmt: skip
        for namespace, device, address in (
            (home, "ha-home", link.home_address),
            (gateway, "ha-gw", link.gateway_address),
        ):
            _ip("-n", namespace, "addr", "add", f"{address}/30", "dev", device)
            _ip("-n", namespace, "link", "set", device, "up")
            _ip("-n", namespace, "link", "set", "lo", "up")
        _shape(gateway, "ha-gw", download_mbit)
        _shape(home, "ha-home", upload_mbit)
        yield link
    finally:
        for namespace in made:
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=30)


def namespaces() -> set[str]:
    """The named network namespaces that exist now."""
    return {path.name for path in NETNS_DIR.iterdir()} if NETNS_DIR.is_dir() else set()


def enter_netns(namespace: str) -> None:
    """Moves the calling thread (only it, and threads it starts later) into `namespace`:
    sockets it opens from now on live there."""
    fd = os.open(NETNS_DIR / namespace, os.O_RDONLY)
    try:
        os.setns(fd, os.CLONE_NEWNET)
    finally:
        os.close(fd)


def call_in_netns[T](namespace: str, fn: Callable[[], T], timeout: float = JOIN_TIMEOUT_S) -> T:
    """`fn()` in a thread of its own inside `namespace`; its result or its exception."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            enter_netns(namespace)
            outcome.append(fn())
        except BaseException as err:  # handed to the caller's thread
            failure.append(err)

    thread = threading.Thread(target=target, name=f"in-{namespace}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"still running in {namespace} after {timeout} s")
    if failure:
        raise failure[0]
    return outcome[0]
