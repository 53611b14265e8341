"""`homeagent-proxy fleet haproxy-config`: the load balancer's configuration for several
gateway processes (see "Running a fleet" in the README)."""

from __future__ import annotations

import argparse
from typing import Any

from ..haproxy_config import Backend, haproxy_config
from .common import CommandError


def _backend(text: str) -> Backend:
    try:
        return Backend.parse(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def register(commands: Any) -> None:
    fleet = commands.add_parser("fleet", help="several gateways behind one load balancer")
    actions = fleet.add_subparsers(dest="fleet_command", metavar="ACTION", required=True)
    config = actions.add_parser(
        "haproxy-config",
        help="print an haproxy.cfg (TCP mode) for the proxy and control API of each gateway",
    )
    config.add_argument(
        "--backend",
        type=_backend,
        action="append",
        required=True,
        metavar="HOST:PROXY_PORT:CONTROL_PORT",
        help="one gateway process (`run --listen HOST:PROXY_PORT --control HOST:CONTROL_PORT`); "
        "repeat for each",
    )
    config.add_argument(
        "--proxy-bind",
        default="*:8080",
        metavar="ADDR:PORT",
        help="where agents' forwarders connect (default *:8080)",
    )
    config.add_argument(
        "--control-bind",
        default="*:8443",
        metavar="ADDR:PORT",
        help="where agents' clients reach the control API (default *:8443)",
    )
    config.add_argument(
        "--check-interval-ms",
        type=int,
        default=2000,
        metavar="MS",
        help="health check interval; a gateway is taken out after two failed checks (default 2000)",
    )
    config.add_argument(
        "--maxconn",
        type=int,
        default=8000,
        help="connections HAProxy holds at once (each needs two file descriptors; default 8000)",
    )
    config.set_defaults(handler=print_haproxy_config)


def print_haproxy_config(args: argparse.Namespace) -> int:
    try:
        text = haproxy_config(
            args.backend,
            proxy_bind=args.proxy_bind,
            control_bind=args.control_bind,
            check_interval_ms=args.check_interval_ms,
            maxconn=args.maxconn,
        )
    except ValueError as err:
        raise CommandError(str(err)) from None
    print(text, end="")
    return 0
