"""`homeagent-proxy run` (the gateway) and `homeagent-proxy demo` (the gateway in front of the
bundled sample CRM, with a demo agent ready to use)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from ..core.policy.errors import PolicyError
from ..core.session_token import SessionClaims, issue_token
from ..data_dir import default_data_dir
from ..gateway.native_build import StaleBuildError, masking_build
from ..gateway.server import GatewayConfig, RunningGateway, serve
from ..keys import KeyFileError
from ..store import StoreError
from ..store.engine import sqlite_url
from .common import CommandError
from .database import DB_FILE
from .demo_agent import DemoStepError, drive_shift, enrol_demo_agent, run_agent_ui

ACME = Path(__file__).resolve().parent.parent.parent / "policies" / "examples" / "acme.yaml"
DEMO_HOSTS = ("crm.acme.test", "kb.acme.test", "chat.acme.test", "reports.acme.test")
DEMO_AGENT = "A1001"


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, not {text!r}")
    return host.strip("[]"), int(port)


def _mapping(text: str) -> tuple[str, tuple[str, int]]:
    name, _, address = text.partition("=")
    if not name or not address:
        raise argparse.ArgumentTypeError(f"expected NAME=HOST:PORT, not {text!r}")
    return name.lower(), _address(address)


def _common(parser: argparse.ArgumentParser, *, policy_required: bool) -> None:
    parser.add_argument("--policy", required=policy_required, type=Path, metavar="FILE")
    parser.add_argument(
        "--listen",
        type=_address,
        default=("127.0.0.1", 8080),
        metavar="HOST:PORT",
        help="the proxy agents' forwarders connect to (default 127.0.0.1:8080)",
    )
    parser.add_argument(
        "--control",
        type=_address,
        default=("127.0.0.1", 8443),
        metavar="HOST:PORT",
        help="the control API for the agents' clients (default 127.0.0.1:8443)",
    )
    parser.add_argument(
        "--db",
        default=os.environ.get("HOMEAGENT_DB"),
        metavar="URL",
        help=f"database URL (default: $HOMEAGENT_DB, else DATA_DIR/{DB_FILE})",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="keys, CA and database (default: $HOMEAGENT_DATA_DIR or "
        "~/.local/share/homeagent-proxy)",
    )
    parser.add_argument(
        "--instance",
        default="",
        metavar="ID",
        help="this process's audit chain name (default: HOST:LISTEN-PORT)",
    )
    parser.add_argument(
        "--control-name",
        action="append",
        default=[],
        metavar="NAME",
        help="another name (or IP) for the control API's certificate: the load balancer's name "
        "agents enrol with, in a fleet; repeat for more",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=GatewayConfig.workers,
        help="masking worker processes (default: one per core)",
    )
    parser.add_argument(
        "--http2",
        action="store_true",
        help="speak HTTP/2 with browsers and business systems that offer it (off: HTTP/1.1 keeps "
        "one connection to a business system per browser connection, where HTTP/2 to the "
        "browser makes one per request)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every refusal")


def register(commands: Any) -> None:
    run = commands.add_parser("run", help="run the gateway (proxy, control API, audit)")
    _common(run, policy_required=True)
    run.add_argument(
        "--upstream-map",
        type=_mapping,
        action="append",
        default=[],
        metavar="NAME=HOST:PORT",
        help="connect to HOST:PORT for NAME instead of resolving it (tests, demos)",
    )
    run.add_argument(
        "--upstream-ca",
        type=Path,
        metavar="PEM",
        help="trust this CA for the business systems (default: the system's store)",
    )
    run.add_argument(
        "--upstream-timeout",
        type=float,
        default=GatewayConfig.upstream_timeout,
        metavar="SECONDS",
        help="a business system that has not answered whole by then gets the agent a 504 page "
        "(default: %(default)s)",
    )
    run.add_argument(
        "--client-head-timeout",
        type=float,
        default=GatewayConfig.client_head_timeout,
        metavar="SECONDS",
        help="a client that has not sent a whole request head by then is disconnected, on the "
        "proxy port and the control API (slow clients, slowloris; default: %(default)s)",
    )
    run.set_defaults(handler=run_gateway)

    demo = commands.add_parser(
        "demo", help="the gateway in front of the bundled sample CRM, with a demo agent ready"
    )
    _common(demo, policy_required=False)
    demo.add_argument(
        "--app-port", type=int, default=0, help="the sample CRM's port (default: any free)"
    )
    demo.add_argument(
        "--self-test",
        action="store_true",
        help="make a few requests as the demo agent, drive a second demo agent's shift through "
        "the homeagent command (enrol, check, clock-in, status, a page through the forwarder, "
        "clock-out), print what happened, and exit (1 when a step went wrong)",
    )
    demo.add_argument(
        "--agent-ui",
        action="store_true",
        help="enrol the demo agent into a client home under the data dir and open its TUI on "
        "this terminal; quitting it stops the demo",
    )
    demo.set_defaults(handler=run_demo)


def _config(args: argparse.Namespace, **extra: Any) -> GatewayConfig:
    data_dir: Path = args.data_dir or default_data_dir()
    return GatewayConfig(
        policy=args.policy,
        data_dir=data_dir,
        db_url=args.db or sqlite_url(data_dir / DB_FILE),
        listen=args.listen,
        control=args.control,
        instance=args.instance,
        control_names=tuple(args.control_name),
        workers=max(0, args.workers),
        http2=args.http2,
        **extra,
    )


def _logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def run_gateway(args: argparse.Namespace) -> int:
    _logging(args.verbose)
    config = _config(
        args,
        upstream_map=dict(args.upstream_map),
        upstream_ca=args.upstream_ca,
        upstream_timeout=args.upstream_timeout,
        client_head_timeout=args.client_head_timeout,
    )

    async def ready(gateway: RunningGateway) -> None:
        host, port = gateway.address
        print(
            f"homeagent gateway {config.instance_id}: proxy on {host}:{port}, "
            f"policy {gateway.policy.engines.version}, store {_shown(config.db_url)}, "
            f"masking {masking_build()}",
            flush=True,
        )
        if gateway.control is not None:
            print(f"control API: {gateway.control.url} (UDP echo on the same port)", flush=True)
        print(f"agents' CA: {config.ca_cert}", flush=True)

    return _run(lambda: serve(config, ready))


def _run(main: Any) -> int:
    try:
        asyncio.run(main())
    except PolicyError as err:
        raise CommandError(str(err)) from None
    except (StoreError, KeyFileError, StaleBuildError, OSError) as err:
        raise CommandError(f"the gateway cannot start: {err}") from None
    return 0


def _shown(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


def run_demo(args: argparse.Namespace) -> int:
    from ..sample_app import start_sample_app

    _logging(args.verbose)
    args.policy = args.policy or ACME
    data_dir: Path = args.data_dir or default_data_dir() / "demo"
    args.data_dir = data_dir
    app = start_sample_app(args.app_port, data_dir / "sample-app")
    config = _config(
        args,
        upstream_map={host: ("127.0.0.1", app.port) for host in DEMO_HOSTS},
        upstream_ca=app.ca_path,
    )

    failures: list[str] = []
    client_home = data_dir / "agent-home"

    async def ready(gateway: RunningGateway) -> None:
        token = _demo_session(gateway)
        host, port = gateway.address
        proxy = f"http://{host}:{port}"
        if args.agent_ui:
            # the gateway's own messages would write over the agent's screen: to a file
            _log_to(data_dir / "gateway.log")
        print(
            _DEMO_TEXT.format(
                proxy=proxy,
                token=token,
                ca=config.ca_cert,
                agent=DEMO_AGENT,
                policy=config.policy,
                data=data_dir,
                stop="Quit the agent's screens (q) to stop the demo."
                if args.agent_ui
                else "Press Ctrl-C to stop.",
            ),
            flush=True,
        )
        if args.self_test:
            await _self_test(proxy, token, config.ca_cert)
            try:
                agent = await enrol_demo_agent(gateway, client_home, config.ca_cert)
                print(f"client  homeagent enrol (agent {agent}, home {client_home})", flush=True)
                await drive_shift(client_home, config.ca_cert)
            except DemoStepError as err:
                failures.append(str(err))
                print(f"self-test FAILED: {err}", file=sys.stderr, flush=True)
            os.kill(os.getpid(), 15)
        elif args.agent_ui:
            try:
                agent = await enrol_demo_agent(gateway, client_home, config.ca_cert)
                print(f"The demo agent {agent} is enrolled; opening its screens…", flush=True)
                await run_agent_ui(client_home)
            except DemoStepError as err:
                failures.append(str(err))
                print(f"the demo could not open the agent's screens: {err}", file=sys.stderr)
            os.kill(os.getpid(), 15)  # quitting the agent's screens ends the demo

    try:
        code = _run(lambda: serve(config, ready, hangup_reloads=False))
    finally:
        app.stop()
    return 1 if failures else code


def _log_to(path: Path) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)


def _demo_session(gateway: RunningGateway) -> str:
    """The demo agent, enrolled with a throwaway device key and clocked in."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    store = gateway.store
    if DEMO_AGENT in {agent.id for agent in store.list_agents()}:
        code = store.issue_code(DEMO_AGENT)
    else:
        code = store.add_agent(DEMO_AGENT, "inbound")
    device = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    fingerprint = store.enrol(code.code, device).device.fingerprint
    session = store.start_session(DEMO_AGENT, fingerprint)
    claims = SessionClaims(
        DEMO_AGENT,
        fingerprint,
        "inbound",
        session.id,
        time.time(),
        session.token_expires_at.timestamp(),
    )
    return issue_token(claims, gateway.token_key)


async def _self_test(proxy: str, token: str, ca: Path) -> None:
    import httpx

    checks = [
        ("GET", "https://crm.acme.test/customers/1001.json", "a customer record, masked"),
        ("GET", "https://crm.acme.test/admin/export.jsonl", "an export the role may not reach"),
        ("GET", "https://kb.acme.test/", "the knowledge base"),
    ]
    headers = {"Proxy-Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        proxy=httpx.Proxy(proxy, headers=headers), verify=str(ca), timeout=30
    ) as client:
        for method, url, what in checks:
            response = await client.request(method, url, headers={"Accept": "application/json"})
            print(f"{response.status_code}  {method} {url}  ({what})")
            print(f"     {response.text[:300]}")
    sys.stdout.flush()


_DEMO_TEXT = """
homeagent demo is running: the gateway in front of ACME's sample CRM (fake customers).
  policy      {policy}
  data        {data}
  demo agent  {agent} (role inbound), clocked in; its session token:

export HA_TOKEN={token}

Try it as the agent, in another terminal (paste the export line first). The CRM's data comes back
masked and watermarked for {agent}:
  curl --proxy {proxy} --proxy-header "Proxy-Authorization: Bearer $HA_TOKEN" \\
       --cacert {ca} https://crm.acme.test/customers/1001.json
Refused, with the rule and a reference to quote (the role may not export):
  curl --proxy {proxy} --proxy-header "Proxy-Authorization: Bearer $HA_TOKEN" \\
       --cacert {ca} https://crm.acme.test/admin/export.jsonl
Every flow is in the audit log:  homeagent-proxy audit verify --data-dir {data}

{stop}
"""
