"""TLS that trusts the gateway's pinned CA and nothing else (never the system's store), with
host names checked: one definition for the control API, the forwarder and the speed test, so
they cannot disagree on what a genuine gateway is."""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from pathlib import Path


def pinned_context(
    ca_file: Path | None = None, *, ca_pem: str | None = None, alpn: Sequence[str] = ()
) -> ssl.SSLContext:
    """Trusts exactly the CA in `ca_file` or `ca_pem` (one of them); offers `alpn` if given."""
    if (ca_file is None) == (ca_pem is None):
        # with neither, create_default_context would load the system's store: never here
        raise ValueError("pinned_context needs exactly one of ca_file and ca_pem")
    context = ssl.create_default_context(
        cafile=None if ca_file is None else str(ca_file), cadata=ca_pem
    )
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if alpn:
        context.set_alpn_protocols(list(alpn))
    return context
