"""`homeagent-proxy watermark`: mark a text for an agent, as the gateway would (stdin→stdout)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..core.watermark import Watermarker, WatermarkError, new_reference
from ..keys import KeyFileError, load_or_create_key, watermark_key_path
from .common import CommandError, load_or_explain


def register(commands: Any) -> None:
    mark = commands.add_parser(
        "watermark",
        help="watermark a text from stdin for an agent, as the gateway does, to stdout",
        description=(
            "Read a body on stdin and write it watermarked for AGENT per the policy's watermark"
            " section. The reference goes to stderr. The key is made on first use."
        ),
    )
    mark.add_argument("--policy", required=True, metavar="FILE")
    mark.add_argument("--agent", required=True, metavar="ID", help="agent ID, e.g. A1023")
    mark.add_argument("--format", choices=("text", "json", "jsonl", "html"), default="text")
    mark.add_argument("--key-file", metavar="PATH", help="watermark key; overrides the policy")
    mark.add_argument("--reference", metavar="REF", help="8 base32 characters (default: random)")
    mark.add_argument(
        "--time", metavar="ISO", help="issue time, ISO 8601 with an offset (default: now)"
    )
    mark.set_defaults(handler=run_watermark)


def run_watermark(args: argparse.Namespace) -> int:
    loaded = load_or_explain(args.policy)
    path = (
        Path(args.key_file).expanduser()
        if args.key_file
        else watermark_key_path(loaded.path, loaded.policy.watermark.key_file)
    )
    try:
        key = load_or_create_key(path)
    except (KeyFileError, OSError) as err:
        raise CommandError(f"watermark key: {err}") from None
    now = _time(args.time)
    reference = args.reference or new_reference()
    try:
        text = sys.stdin.buffer.read().decode("utf-8")
    except UnicodeDecodeError as err:
        raise CommandError(f"watermark: stdin is not UTF-8 ({err})") from None
    try:
        body = Watermarker(loaded.policy, key).watermark_body(
            text, kind=args.format, agent=args.agent, now=now, reference=reference
        )
    except WatermarkError as err:
        raise CommandError(f"watermark: {err}") from None
    sys.stdout.write(body)
    print(f"watermark: agent {args.agent}, reference {reference}", file=sys.stderr)
    return 0


def _time(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--time {value!r} is not ISO 8601") from None
    if moment.tzinfo is None:
        raise CommandError(f"--time {value!r} needs a UTC offset, e.g. 2025-05-01T09:30:00Z")
    return moment
