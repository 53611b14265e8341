"""`homeagent-proxy scan`: what the gateway's forbidden-word check says about one request body."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..core.forbidden import PhraseScanner, UndecodableBodyError
from ..core.policy.errors import did_you_mean
from ..core.urls import AmbiguousURLError
from .common import CommandError, load_or_explain, print_json


def register(commands: Any) -> None:
    scan = commands.add_parser(
        "scan",
        help="check a request body (on stdin) for forbidden words",
        description=(
            "Reads a request body from stdin (Content-Encoding already undone) and prints JSON: "
            '{"blocked": true|false, "matches": [{"rule", "phrase", "start", "end", '
            '"matched_text", "field", "mode"}]}. Offsets are into "text", the body as read '
            "(JSON strings and form fields one per line). Exit status 0 whether blocked or not; "
            "1 when the policy, the URL or the body cannot be read (the gateway would block)."
        ),
    )
    scan.add_argument("--policy", required=True, metavar="FILE", help="policy YAML file")
    scan.add_argument("--role", required=True, help="the agent's role, e.g. chat")
    scan.add_argument("--url", required=True, help="absolute request URL")
    scan.add_argument("--method", default="POST", help="HTTP method (default: POST)")
    scan.add_argument(
        "--content-type",
        default="text/plain; charset=utf-8",
        help="the request's Content-Type, charset included (default: text/plain; charset=utf-8)",
    )
    scan.set_defaults(handler=run_scan)


def run_scan(args: argparse.Namespace) -> int:
    loaded = load_or_explain(args.policy)
    if args.role not in loaded.policy.roles:
        hint = did_you_mean(args.role, loaded.policy.roles)
        raise CommandError(f"{args.policy}: no role {args.role!r}{hint}")
    try:
        scanner = PhraseScanner.from_policy(loaded)
    except ValueError as err:
        raise CommandError(f"{args.policy}: {err}") from None
    body = sys.stdin.buffer.read()
    try:
        result = scanner.scan(
            body, role=args.role, method=args.method, url=args.url, content_type=args.content_type
        )
    except AmbiguousURLError as err:
        raise CommandError(f"{args.url}: ambiguous URL, the gateway denies it: {err}") from None
    except UndecodableBodyError as err:
        raise CommandError(f"cannot read the body, the gateway blocks it: {err}") from None
    print_json(
        {
            "blocked": result.blocked,
            "matches": [
                {
                    "rule": m.rule,
                    "phrase": m.phrase,
                    "start": m.start,
                    "end": m.end,
                    "matched_text": _printable(m.matched_text),
                    "field": m.field,
                    "mode": str(m.mode),
                }
                for m in result.matches
            ],
            "text": _printable(result.text),
        }
    )
    return 0


def _printable(text: str) -> str:
    """Lone surrogates (JSON allows `\\ud800`) as U+FFFD, one for one, so offsets still hold."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
