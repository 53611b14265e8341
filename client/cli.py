"""`homeagent`: the agent's command line. Without a command, on a terminal, it opens the TUI;
every TUI action has a command twin here, for scripts, remote support and screen readers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from importlib import import_module
from importlib.metadata import version

from .commands.common import CommandError

# Each module registers its subcommands; the order is the order of `--help`.
COMMAND_MODULES: tuple[str, ...] = (
    "enrol",
    "check",
    "clock",
    "status",
    "recheck",
    "forward",
    "trust",
    "ui",
)

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="homeagent",
        description="homeagent: check your home setup, clock in, and work safely from home.",
    )
    parser.add_argument("--version", action="version", version=version("homeagent"))
    parser.add_argument(
        "--lang", choices=("zh", "en"), help="language of messages (default: the system locale)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        import_module(f"homeagent.client.commands.{name}").register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            # no terminal to draw on (a pipe, a script): say what there is instead
            parser.print_help(sys.stderr)
            return 2
        from .commands.ui import ui_command

        handler = ui_command
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
