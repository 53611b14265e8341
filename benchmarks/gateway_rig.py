"""The processes bench_gateway measures, each started as `python -m benchmarks.gateway_rig ROLE`:
a fixed-body HTTPS upstream, bare mitmproxy, and the gateway with clocked-in agents.

Each listens on 127.0.0.1 only, prints one JSON line (its port, and for the gateway the agents'
tokens), and stops when its standard input closes or after LIFETIME_S, whichever comes first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import ssl
import sys
import time
import weakref
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from mitmproxy import connection, options
from mitmproxy.addons import core, disable_h2c, errorcheck, next_layer, proxyserver, tlsconfig
from mitmproxy.master import Master
from mitmproxy.proxy import server_hooks
from mitmproxy.tools.dump import DumpMaster

from homeagent.proxy.core.session_token import SessionClaims, issue_token
from homeagent.proxy.gateway.server import GatewayConfig, RunningGateway
from homeagent.proxy.sample_app import ensure_certificates

ROOT = Path(__file__).resolve().parent.parent
ACME = ROOT / "policies" / "examples" / "acme.yaml"
HOSTS = ("crm.acme.test", "kb.acme.test", "chat.acme.test", "reports.acme.test")
LIFETIME_S = 900.0
"""A rig left behind by a crashed benchmark still stops by itself."""
MAX_BODY = "20m"


async def _until_stdin_closes() -> None:
    """Returns when the parent closes our standard input (or LIFETIME_S passes)."""
    loop = asyncio.get_running_loop()
    closed = asyncio.Event()
    loop.add_reader(sys.stdin.fileno(), lambda: None if sys.stdin.read(1) else closed.set())
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(closed.wait(), LIFETIME_S)
    loop.remove_reader(sys.stdin.fileno())


def _announce(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


# -- upstream: one fixed response for any request, keep-alive, TLS for *.acme.test ------------


async def upstream(cert_dir: Path, body_file: Path) -> None:
    certs = ensure_certificates(cert_dir)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.server_cert, certs.server_key)
    body = body_file.read_bytes()
    response = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if length:
                    await reader.readexactly(length)
                writer.write(response)
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context, backlog=256)
    _announce(port=server.sockets[0].getsockname()[1], ca=str(certs.ca_cert))
    await _until_stdin_closes()
    server.close()


# -- bare mitmproxy: the gateway's own mitmproxy set-up without the homeagent chain ----------


class NameMap:
    """`*.acme.test` → the upstream on loopback, as the gateway's Upstream addon does (without
    it bare mitmproxy would look the names up in DNS)."""

    def __init__(self, mapping: dict[str, tuple[str, int]]) -> None:
        self.mapping = mapping
        self._named: weakref.WeakKeyDictionary[connection.Server, tuple[str, int]] = (
            weakref.WeakKeyDictionary()
        )

    def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        if data.server.address is None:
            return
        host = str(data.server.address[0]).lower()
        mapped = self.mapping.get(host)
        if mapped is not None:
            if data.server.sni is None:
                data.server.sni = host
            self._named[data.server] = data.server.address
            data.server.address = mapped

    def server_connected(self, data: server_hooks.ServerConnectionHookData) -> None:
        named = self._named.pop(data.server, None)
        if named is not None:
            object.__setattr__(data.server, "address", named)  # lets mitmproxy reuse it


async def bare(kind: str, upstream_port: int, upstream_ca: Path, confdir: Path) -> None:
    """`mitmdump`: mitmproxy's DumpMaster with its default addons (no per-flow output), as a
    user runs it; `core`: only the addons the gateway itself loads under its chain."""
    opts = options.Options(
        listen_host="127.0.0.1", listen_port=0, confdir=str(confdir), http3=False
    )
    names = NameMap({host: ("127.0.0.1", upstream_port) for host in HOSTS})
    master: Master
    if kind == "mitmdump":
        master = DumpMaster(opts, with_termlog=False, with_dumper=False)
        master.addons.add(names)
    else:
        master = Master(opts)
        master.addons.add(
            core.Core(),
            proxyserver.Proxyserver(),
            next_layer.NextLayer(),
            tlsconfig.TlsConfig(),
            disable_h2c.DisableH2C(),
            errorcheck.ErrorCheck(),
            names,
        )
    opts.update(
        connection_strategy="lazy",
        body_size_limit=MAX_BODY,
        ssl_verify_upstream_trusted_ca=str(upstream_ca),
    )
    task = asyncio.create_task(master.run())
    proxy = master.addons.get("proxyserver")
    for _ in range(500):
        if proxy.servers and all(s.is_running for s in proxy.servers):
            break
        await asyncio.sleep(0.02)
    server = next(iter(proxy.servers))
    _announce(port=server.listen_addrs[0][1], ca=str(confdir / "mitmproxy-ca-cert.pem"))
    await _until_stdin_closes()
    master.shutdown()
    with contextlib.suppress(asyncio.CancelledError):
        await task


# -- the gateway: acme.yaml, SQLite store, agents clocked in through the store ----------------


def _clock_in(gateway: RunningGateway, agent: str, role: str) -> str:
    """Add, enrol (a device key) and clock in an agent; the session token its client would get."""
    store = gateway.store
    code = store.add_agent(agent, role)
    device = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    fingerprint = store.enrol(code.code, device).device.fingerprint
    session = store.start_session(agent, fingerprint)
    claims = SessionClaims(
        agent, fingerprint, role, session.id, time.time(), session.token_expires_at.timestamp()
    )
    return issue_token(claims, gateway.token_key)


async def gateway(
    upstream_port: int,
    upstream_ca: Path,
    data_dir: Path,
    workers: int,
    agents: int,
    http2: bool = False,
) -> None:
    config = GatewayConfig(
        policy=ACME,
        data_dir=data_dir,
        db_url=f"sqlite:///{data_dir}/gateway.db",
        listen=("127.0.0.1", 0),
        control=("127.0.0.1", 0),
        instance="bench-gw",
        upstream_map={host: ("127.0.0.1", upstream_port) for host in HOSTS},
        upstream_ca=upstream_ca,
        workers=workers,
        http2=http2,
    )
    running = RunningGateway(config)
    await running.start()
    tokens = [_clock_in(running, f"B{2000 + i}", "inbound") for i in range(agents)]
    _, port = running.address
    _announce(port=port, ca=str(config.ca_cert), tokens=tokens, workers=workers)
    await _until_stdin_closes()
    await running.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    roles = parser.add_subparsers(dest="role", required=True)
    up = roles.add_parser("upstream")
    up.add_argument("cert_dir", type=Path)
    up.add_argument("body_file", type=Path)
    plain = roles.add_parser("bare")
    plain.add_argument("kind", choices=("mitmdump", "core"))
    plain.add_argument("upstream_port", type=int)
    plain.add_argument("upstream_ca", type=Path)
    plain.add_argument("confdir", type=Path)
    gw = roles.add_parser("gateway")
    gw.add_argument("upstream_port", type=int)
    gw.add_argument("upstream_ca", type=Path)
    gw.add_argument("data_dir", type=Path)
    gw.add_argument("--workers", type=int, default=1)
    gw.add_argument("--agents", type=int, default=32)
    gw.add_argument("--http2", action="store_true", help="as homeagent-proxy run --http2")
    args = parser.parse_args()
    if args.role == "upstream":
        asyncio.run(upstream(args.cert_dir, args.body_file))
    elif args.role == "bare":
        asyncio.run(bare(args.kind, args.upstream_port, args.upstream_ca, args.confdir))
    else:
        asyncio.run(
            gateway(
                args.upstream_port,
                args.upstream_ca,
                args.data_dir,
                args.workers,
                args.agents,
                args.http2,
            )
        )


if __name__ == "__main__":
    main()
