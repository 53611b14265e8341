"""`homeagent-proxy trace`: read a leaked text and say whose watermarks it carries."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..core.watermark import MarkReader
from ..keys import KeyFileError, load_or_create_key, watermark_key_path
from .common import CommandError, load_or_explain, print_json

EXIT_FOUND, EXIT_NONE, EXIT_ERROR = 0, 1, 2


def register(commands: Any) -> None:
    trace = commands.add_parser(
        "trace",
        help="list the watermarks in a leaked text (exit 0 verified mark found, 1 none, 2 error)",
        description=(
            "Read any text (HTML, JSON, a pasted chat) and print a JSON list of the watermarks in"
            " it: agent, issued_at, reference, verified (true only when the mark was made with"
            " this deployment's key) and count. Exit status: 0 when at least one verified mark"
            " was found, 1 when none was, 2 on errors."
        ),
    )
    trace.add_argument("file", nargs="?", default="-", metavar="FILE|-", help="default: stdin")
    trace.add_argument("--policy", metavar="FILE", help="policy file (tells where the key is)")
    trace.add_argument("--key-file", metavar="PATH", help="watermark key; overrides the policy")
    trace.add_argument("--encoding", default="utf-8", help="text encoding of FILE (utf-8)")
    trace.set_defaults(handler=run_trace)


def run_trace(args: argparse.Namespace) -> int:
    try:
        key = _existing_key(args)
        text = _read_text(args.file, args.encoding)
    except (CommandError, OSError, LookupError, UnicodeDecodeError) as err:
        print(f"trace: {err}", file=sys.stderr)
        return EXIT_ERROR
    results = MarkReader(key).trace(text)
    print_json([result.to_json() for result in results], pretty=True)
    return EXIT_FOUND if any(result.verified for result in results) else EXIT_NONE


def key_path(policy: str | None, key_file: str | None) -> Path:
    """The key file the officer means: --key-file, else the policy's, else the default."""
    if key_file:
        return Path(key_file).expanduser()
    if not policy:
        raise CommandError("give --policy FILE (or --key-file PATH) so the right key is used")
    loaded = load_or_explain(policy)
    return watermark_key_path(loaded.path, loaded.policy.watermark.key_file)


def _existing_key(args: argparse.Namespace) -> bytes:
    path = key_path(args.policy, args.key_file)
    if not path.exists():
        # a new key could verify nothing: say so rather than make one
        raise CommandError(f"no watermark key at {path}; give the gateway's key with --key-file")
    try:
        return load_or_create_key(path)
    except KeyFileError as err:
        raise CommandError(str(err)) from None


def _read_text(name: str, encoding: str) -> str:
    data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    return data.decode(encoding)
