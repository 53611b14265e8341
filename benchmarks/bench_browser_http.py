"""What a browser's protocol costs through the gateway: HTTP/1.1 (the default) against HTTP/2
(`homeagent-proxy run --http2`).

A browser-like client keeps one TLS connection to the gateway in a CONNECT tunnel and sends GETs
one after the other for a small CRM JSON answer (the API calls behind a page), first to a
gateway offering HTTP/1.1, then to one offering HTTP/2 (each a process of
benchmarks/gateway_rig.py with the example policy, one masking worker, the same keep-alive
HTTPS upstream). Over HTTP/2 mitmproxy opens a new connection to an HTTP/1.1 system for every
request, so each costs a TCP and TLS handshake on both sides. Printed: time per request, and CPU
per request of the gateway (with its worker) and of the business system. Everything on
127.0.0.1; a fixed count of requests per run.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from benchmarks.bench_gateway import Rig, rig
from tests.tunnel_client import h1_get, h2_gets, tunnel

BODY = {"ticket": "T-20261204-0001", "status": "open", "customer": {"name": "王芳"}, "notes": []}
"""A small answer with a name to mask: the inline (event loop) path, as most API calls take."""


def _cpu(process: Rig) -> float:
    return process.cpu_seconds()[0]


def measure(gateway: Rig, upstream: Rig, http2: bool, requests: int) -> tuple[float, float, float]:
    """(ms per request, gateway CPU ms per request, upstream CPU ms per request)."""
    address = ("127.0.0.1", int(gateway.info["port"]))
    ca, token = Path(gateway.info["ca"]), gateway.info["tokens"][0]
    paths = ["/tickets/T-20261204-0001"] * requests
    if http2:
        h2_gets(address, ca, token, paths[:20])  # warm-up: a first handshake, the policy's caches
        before = time.perf_counter(), _cpu(gateway), _cpu(upstream)
        pages = h2_gets(address, ca, token, paths)
        statuses = {headers[":status"] for headers, _ in pages}
    else:
        with tunnel(address, ca, token, ["h2", "http/1.1"]) as tls:
            assert tls.selected_alpn_protocol() == "http/1.1", tls.selected_alpn_protocol()
            for path in paths[:20]:
                h1_get(tls, path)
            before = time.perf_counter(), _cpu(gateway), _cpu(upstream)
            heads = [h1_get(tls, path)[0] for path in paths]
        statuses = {head.split(b" ", 2)[1].decode() for head in heads}
    wall, gateway_cpu, upstream_cpu = (
        time.perf_counter() - before[0],
        _cpu(gateway) - before[1],
        _cpu(upstream) - before[2],
    )
    if statuses != {"200"}:
        raise RuntimeError(f"the gateway answered {sorted(statuses)}, not only 200")
    return 1000 * wall / requests, 1000 * gateway_cpu / requests, 1000 * upstream_cpu / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    print(
        f"a browser's protocol through the gateway: {args.requests} GETs in a row on one connection"
    )
    print(f"  {'protocol':<10} {'ms/request':>10} {'gateway CPU ms':>15} {'system CPU ms':>14}")
    with tempfile.TemporaryDirectory(prefix="bench-browser-http-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "body.json").write_text(json.dumps(BODY, ensure_ascii=False))
        with rig("upstream", str(tmp / "certs"), str(tmp / "body.json")) as upstream:
            port, ca = str(upstream.info["port"]), str(upstream.info["ca"])
            for name, http2 in (("HTTP/1.1", False), ("HTTP/2", True)):
                flags = ["--http2"] if http2 else []
                data = str(tmp / f"gw-{name.replace('/', '')}")
                with rig(
                    "gateway", port, ca, data, "--workers", "1", "--agents", "1", *flags
                ) as gw:
                    wall, gw_cpu, up_cpu = measure(gw, upstream, http2, args.requests)
                print(f"  {name:<10} {wall:>10.2f} {gw_cpu:>15.2f} {up_cpu:>14.2f}")


if __name__ == "__main__":
    main()
