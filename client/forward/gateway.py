"""Where the forwarder carries traffic: the gateway's proxy listener, over TLS verified against
the CA that enrolment pinned (never the system's store)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from ..pinned_tls import pinned_context
from ..state import Enrolment


@dataclass(frozen=True, slots=True)
class GatewayTarget:
    host: str
    port: int
    tls: ssl.SSLContext
    """Trusts the pinned CA only; offers HTTP/1.1 alone, as the forwarder speaks nothing else."""


def split_host_port(address: str) -> tuple[str, int]:
    """`host:port` or `[v6]:port` → (host, port); ValueError when it is neither."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"not a host:port address: {address!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def gateway_target(enrolment: Enrolment) -> GatewayTarget:
    """The enrolled gateway's proxy listener and its pinned CA."""
    host, port = split_host_port(enrolment.proxy)
    return GatewayTarget(host, port, pinned_context(Path(enrolment.ca_file), alpn=["http/1.1"]))
