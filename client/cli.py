"""`homeagent`: the agent's command line (the TUI arrives with the client issue)."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import version


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="homeagent", description="homeagent agent client")
    parser.add_argument("--version", action="version", version=version("homeagent"))
    parser.parse_args(argv)
    print("homeagent: the agent client is not built yet; see the README.", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
