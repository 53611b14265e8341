"""`homeagent-proxy run`: mitmproxy embedded as a library with the addon chain, the store, the
audit sink and the masking workers, in one process and one event loop. SIGHUP or a changed policy
file reloads the policy; SIGTERM or SIGINT stops the gateway."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from mitmproxy import options
from mitmproxy.addons import core, disable_h2c, errorcheck, next_layer, proxyserver, tlsconfig
from mitmproxy.master import Master

from ..addons.chain import chain
from ..addons.context import Gateway
from ..control import (
    ControlContext,
    ControlServer,
    control_certificate,
    create_control_app,
    serve_control,
)
from ..core.policy.loader import load_policy
from ..keys import load_or_create_key
from ..store import Store
from .audit_sink import AuditSink
from .engines import Keys, PolicyHolder
from .identity import Identities
from .native_build import check_build
from .protect import ProtectPool
from .secrets_store import signing_key
from .upstream_failure import install as install_block_pages
from .upstream_retry import install as install_upstream_retry

log = logging.getLogger(__name__)
WATCH_SECONDS = 1.0


@dataclass
class GatewayConfig:
    policy: Path
    data_dir: Path
    db_url: str
    listen: tuple[str, int] = ("127.0.0.1", 8080)
    control: tuple[str, int] | None = ("127.0.0.1", 8443)
    """The control API (HTTPS) and its UDP echo; None: no control API (tests of the proxy alone)."""
    instance: str = ""
    """This process's audit chain; default host name and listen port."""
    control_names: tuple[str, ...] = ()
    """More names for the control API's certificate: the load balancer's, in a fleet."""
    upstream_map: dict[str, tuple[str, int]] = field(default_factory=dict)
    upstream_ca: Path | None = None
    """Trust this CA for the business systems (else the system's store)."""
    upstream_timeout: float = 30.0
    """Seconds a business system has to answer whole; then the agent gets a 504 block page."""
    client_head_timeout: float = 60.0
    """Seconds a client has to send each request head whole, on the proxy port and the control
    API; a slower one (slowloris) is disconnected. It is also how long a kept-alive connection
    may idle (the hooks cannot tell the first byte of a head from none): nginx's 60 s
    client_header_timeout and 75 s keepalive_timeout, rather than cutting agents' idle
    browser connections every few seconds."""
    http2: bool = False
    """Speak HTTP/2 with agents' browsers (and with systems that offer it). Off by default:
    mitmproxy gives every request of an HTTP/2 browser a new connection to an HTTP/1.1 system, a
    TCP and TLS handshake each (bench_browser_http: twice the time per request, half as much
    again of the gateway's CPU), while a browser on HTTP/1.1 keeps one upstream connection per
    connection of its own. Off also keeps HTTP/2's own denial-of-service surface (rapid reset,
    CONTINUATION floods) away from the gateway."""
    workers: int = max(1, os.cpu_count() or 1)
    """Masking worker processes: one per core. The event loop mostly waits on sockets while a
    body is masked, so leaving it a core of its own idles that core (bench_gateway, 2 cores:
    1 worker 95 req/s, 2 workers 128 req/s)."""

    @property
    def instance_id(self) -> str:
        return self.instance or f"{socket.gethostname()}:{self.listen[1]}"

    @property
    def confdir(self) -> Path:
        return self.data_dir / "ca"

    @property
    def ca_cert(self) -> Path:
        """The CA agents' browsers and clients trust: it signs what the gateway intercepts."""
        return self.confdir / "mitmproxy-ca-cert.pem"


class RunningGateway:
    """The parts of a started gateway, for `run`, `demo` and the tests."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        keys_dir = config.data_dir / "keys"
        loaded = load_policy(config.policy)
        key_file = loaded.policy.watermark.key_file
        keys = Keys(
            pseudonym=load_or_create_key(keys_dir / "pseudonym.key"),
            watermark=load_or_create_key(
                config.policy.parent / key_file if key_file else keys_dir / "watermark.key"
            ),
        )
        self.policy = PolicyHolder(config.policy, keys, loaded)
        self.store = Store.open(config.db_url)
        self.token_key = signing_key(keys_dir / "token-signing.key")
        instance_key = signing_key(keys_dir / f"audit-{_safe(config.instance_id)}.key")
        self.audit_writer = self.store.audit_writer(config.instance_id, instance_key)
        self.sink = AuditSink(self.audit_writer)
        self.identities = Identities(
            lambda: [self.token_key.public_key()], self.store.is_session_active
        )
        self.pool = self._pool()
        self.gateway = Gateway(
            policy=self.policy,
            identities=self.identities,
            audit=self.sink,
            pool=self.pool,
            instance=config.instance_id,
            rates=self.store,
            upstream_map=dict(config.upstream_map),
            upstream_timeout=config.upstream_timeout,
            client_head_timeout=config.client_head_timeout,
        )
        self.master: Master | None = None
        self._mtimes: dict[Path, float] = {}
        self.policy.files_changed_since(self._mtimes)

    def _pool(self) -> ProtectPool:
        engines = self.policy.engines
        return ProtectPool(
            engines.loaded,
            self.policy.keys.pseudonym,
            self.policy.keys.watermark,
            self.config.workers,
        )

    def reload(self) -> tuple[bool, str]:
        changed, message = self.policy.reload()
        if changed:
            old, self.pool = self.pool, self._pool()
            self.gateway.pool = self.pool
            old.close()
        self.audit_writer.append(
            "control",
            {
                "event": "policy-reload",
                "changed": changed,
                "message": message[:2000],
                "policy": self.policy.engines.version,
            },
        )
        return changed, message

    async def start(self) -> None:
        """Start listening; returns once the proxy accepts connections."""
        config = self.config
        check_build()  # old compiled masking code must not run under newer sources' name
        install_block_pages()
        install_upstream_retry()
        opts = options.Options(
            listen_host=config.listen[0],
            listen_port=config.listen[1],
            confdir=str(config.confdir),
            http2=config.http2,
            http3=False,
        )
        master = Master(opts)
        master.addons.add(
            core.Core(),
            proxyserver.Proxyserver(),
            next_layer.NextLayer(),
            tlsconfig.TlsConfig(),
            disable_h2c.DisableH2C(),
            errorcheck.ErrorCheck(),
        )
        master.addons.add(*chain(self.gateway))
        # Options that the addons above declare can only be set once they are loaded.
        opts.update(
            connection_strategy="lazy",
            body_size_limit=str(self.policy.engines.loaded.policy.masking.max_body_bytes),
        )
        if config.upstream_ca is not None:
            opts.update(ssl_verify_upstream_trusted_ca=str(config.upstream_ca))
        self.master = master
        self._task = asyncio.create_task(master.run())
        proxy = master.addons.get("proxyserver")
        tls = master.addons.get("tlsconfig")
        for _ in range(200):
            # The CA is made in TlsConfig's `running` hook, after the listeners are up: the
            # control API's certificate (and every agent's pin) needs it on disk, whole.
            if proxy.servers and all(s.is_running for s in proxy.servers) and tls.certstore:
                break
            if self._task.done():
                await self._task
            await asyncio.sleep(0.02)
        self.control = await self._start_control() if config.control is not None else None
        self._watch = asyncio.create_task(self._watch_policy())

    async def _start_control(self) -> ControlServer:
        """The control API over HTTPS with a certificate from the gateway CA that the clients
        pin (mitmproxy made the CA in its confdir when it started)."""
        config = self.config
        assert config.control is not None
        ca_pem = config.ca_cert.read_text()
        host = config.control[0]
        names = sorted(
            {host, "localhost", "127.0.0.1", socket.gethostname(), *config.control_names}
        )
        chain, key = control_certificate(
            ca_pem, (config.confdir / "mitmproxy-ca.pem").read_bytes(), names
        )
        folder = config.data_dir / "control"
        folder.mkdir(mode=0o700, exist_ok=True)
        # one pair per instance: fleet instances sharing a data dir must not overwrite each
        # other's key between writing and loading it
        name = _safe(config.instance_id)
        certfile, keyfile = folder / f"control-{name}-cert.pem", folder / f"control-{name}-key.pem"
        certfile.write_bytes(chain)
        keyfile.touch(mode=0o600)
        keyfile.write_bytes(key)
        proxy_host, proxy_port = self.address
        context = ControlContext(
            store=self.store,
            policy=lambda: self.policy.engines.loaded,
            token_key=self.token_key,
            audit=self.audit_writer,
            proxy_address=f"{proxy_host}:{proxy_port}",
            ca_pem=ca_pem,
        )
        server = serve_control(
            create_control_app(context),
            host,
            config.control[1],
            certfile,
            keyfile,
            head_timeout=config.client_head_timeout,
        )
        await server.start()
        return server

    @property
    def address(self) -> tuple[str, int]:
        assert self.master is not None
        proxy = self.master.addons.get("proxyserver")
        server = next(iter(proxy.servers))
        host, port = server.listen_addrs[0][:2]
        return str(host), int(port)

    async def _watch_policy(self) -> None:
        settling = False
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            if self.policy.files_changed_since(self._mtimes):
                # An editor or `cp` may be halfway through writing it, and a file cut short can
                # still be a valid, weaker policy (say, without its limits): reload only once
                # the files have stayed as they are for a whole look.
                settling = True
            elif settling:
                settling = False
                await asyncio.to_thread(self.reload)

    async def stop(self) -> None:
        self._watch.cancel()
        if self.control is not None:
            await self.control.stop()
        if self.master is not None:
            self.master.shutdown()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.pool.close()
        self.sink.close()
        self.store.close()


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


async def serve(
    config: GatewayConfig,
    ready: Callable[[RunningGateway], Awaitable[None]] | None = None,
    *,
    hangup_reloads: bool = True,
) -> None:
    """Run until SIGTERM or SIGINT; SIGHUP reloads the policy (a daemon's convention), or, with
    `hangup_reloads` off (a demo in a terminal), stops like them when the terminal goes away."""
    gateway = RunningGateway(config)
    await gateway.start()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    if hangup_reloads:
        loop.add_signal_handler(
            signal.SIGHUP, lambda: loop.create_task(asyncio.to_thread(gateway.reload))
        )
    else:
        loop.add_signal_handler(signal.SIGHUP, stop.set)
    try:
        if ready is not None:
            await ready(gateway)
        await stop.wait()
    finally:
        # a `ready` step that fails still stops the proxy, the control API and the workers
        await gateway.stop()
