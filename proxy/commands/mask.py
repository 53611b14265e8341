"""`homeagent-proxy mask`: what the gateway would send an agent for a body read from stdin."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..core.masking import BodyFormat, Masker, MaskResult, UnmaskableBodyError
from ..core.policy.errors import did_you_mean
from ..keys import KeyFileError, default_data_dir, load_or_create_key
from .common import CommandError, load_or_explain

FORMATS = ("auto", *(f.value for f in BodyFormat))


def register(commands: Any) -> None:
    mask = commands.add_parser(
        "mask",
        help="mask a body from stdin as the gateway would for an agent",
        description="Reads a response body on stdin and writes what the gateway would send "
        "the agent: personal data masked (and, with --agent, watermarked).",
    )
    mask.add_argument("--policy", required=True, metavar="FILE")
    mask.add_argument("--agent", metavar="ID", help="the agent the body is for")
    mask.add_argument("--role", metavar="ROLE", help="the agent's role (for exemptions)")
    mask.add_argument("--url", metavar="URL", help="the request URL (for exemptions)")
    mask.add_argument("--format", choices=FORMATS, default="auto")
    mask.add_argument("--content-type", metavar="TYPE", help="e.g. 'text/html; charset=gbk'")
    mask.add_argument(
        "--content-encoding", metavar="CODINGS", help="e.g. gzip, br, zstd or 'gzip, br'"
    )
    mask.add_argument(
        "--key-file",
        metavar="PATH",
        type=Path,
        help="pseudonym key (default: $HOMEAGENT_DATA_DIR/keys/pseudonym.key, made if missing)",
    )
    mask.add_argument(
        "--explain", action="store_true", help="write what was masked, by which rule, to stderr"
    )
    mask.set_defaults(handler=run_mask)


def apply_watermark(body: bytes, result: MaskResult, agent: str | None) -> bytes:
    """The one place the watermark step plugs in (proxy/core/watermark, built separately).

    Until then the masked body goes out as it is; `--agent` only names the agent in
    `--explain`.
    """
    del result, agent
    return body


def run_mask(args: argparse.Namespace) -> int:
    policy = load_or_explain(args.policy).policy
    if args.role is not None and args.role not in policy.roles:
        hint = did_you_mean(args.role, policy.roles)
        raise CommandError(f"{args.policy}: no role {args.role!r}{hint}")
    key_file = args.key_file or default_data_dir() / "keys" / "pseudonym.key"
    try:
        key = load_or_create_key(key_file)
    except (KeyFileError, OSError) as err:
        raise CommandError(f"pseudonym key: {err}") from None
    try:
        masker = Masker(policy, key)
    except ValueError as err:
        raise CommandError(f"{args.policy}: {err}") from None
    body = sys.stdin.buffer.read()
    try:
        result = masker.mask_body(
            body,
            content_type=args.content_type,
            content_encoding=args.content_encoding,
            role=args.role,
            url=args.url,
            body_format=None if args.format == "auto" else BodyFormat(args.format),
            explain=args.explain,
        )
    except UnmaskableBodyError as err:
        raise CommandError(f"cannot mask this body (the gateway would block it): {err}") from None
    out = apply_watermark(result.body, result, args.agent)
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
    if args.explain:
        _explain(result, args)
    return 0


def _explain(result: MaskResult, args: argparse.Namespace) -> None:
    who = f"agent {args.agent}" if args.agent else "no agent"
    role = f"role {args.role}" if args.role else "no role"
    total = sum(result.counts.values())
    print(f"{who}, {role}, format {result.format}: {total} value(s) masked", file=sys.stderr)
    for finding in result.findings:
        kind = "" if finding.kind == finding.rule else f" ({finding.kind})"
        print(f"  {finding.rule}{kind} at {finding.where}", file=sys.stderr)
    for rule, count in sorted(result.counts.items()):
        print(f"  total {rule}: {count}", file=sys.stderr)
