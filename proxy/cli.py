"""`homeagent-proxy`: the gateway and the security officer's tools."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from importlib import import_module
from importlib.metadata import version

from .commands.common import CommandError

# Each module registers its subcommands; the order is the order of `--help`.
COMMAND_MODULES = (
    "run",
    "policy",
    "mask",
    "scan",
    "watermark",
    "trace",
    "agents",
    "audit",
    "report",
    "fleet",
)

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="homeagent-proxy",
        description="homeagent gateway: policy, masking, watermarks and audit for home agents.",
    )
    parser.add_argument("--version", action="version", version=version("homeagent"))
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        import_module(f"homeagent.proxy.commands.{name}").register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except CommandError as err:
        print(err, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
