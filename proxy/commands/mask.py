"""`homeagent-proxy mask`: what the gateway would send an agent for a body read from stdin."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.masking import BodyFormat, Masker, MaskResult, UnmaskableBodyError
from ..core.policy.errors import did_you_mean
from ..core.policy.loader import LoadedPolicy
from ..core.watermark import BodyKind, Watermarker, WatermarkError, new_reference
from ..data_dir import default_data_dir
from ..keys import KeyFileError, load_or_create_key, watermark_key_path
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
        "--watermark-key-file",
        metavar="PATH",
        type=Path,
        help="watermark key (default: the policy's watermark.key_file or the data dir's)",
    )
    mask.add_argument(
        "--explain", action="store_true", help="write what was masked, by which rule, to stderr"
    )
    mask.set_defaults(handler=run_mask)


def watermark_step(
    loaded: LoadedPolicy, agent: str | None, key_file: Path | None
) -> Callable[[str, BodyFormat], str] | None:
    """The watermark the gateway adds for `agent` after masking, or None without an agent."""
    if agent is None:
        return None
    path = key_file or watermark_key_path(loaded.path, loaded.policy.watermark.key_file)
    try:
        watermarker = Watermarker(loaded.policy, load_or_create_key(path))
    except (KeyFileError, OSError) as err:
        raise CommandError(f"watermark key: {err}") from None
    now = dt.datetime.now(dt.UTC)
    reference = new_reference()

    def mark(text: str, fmt: BodyFormat) -> str:
        kind = WATERMARK_KINDS.get(fmt)
        if kind is None:
            return text  # form bodies are not shown to anyone
        try:
            return watermarker.watermark_body(
                text, kind=kind, agent=agent, now=now, reference=reference
            )
        except WatermarkError as err:
            raise UnmaskableBodyError(f"cannot watermark: {err}") from err

    print(f"watermark: agent {agent}, reference {reference}", file=sys.stderr)
    return mark


WATERMARK_KINDS: dict[BodyFormat, BodyKind] = {
    BodyFormat.JSON: "json",
    BodyFormat.JSONL: "jsonl",
    BodyFormat.HTML: "html",
    BodyFormat.TEXT: "text",
}


def run_mask(args: argparse.Namespace) -> int:
    loaded = load_or_explain(args.policy)
    policy = loaded.policy
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
            then=watermark_step(loaded, args.agent, args.watermark_key_file),
        )
    except UnmaskableBodyError as err:
        raise CommandError(f"cannot mask this body (the gateway would block it): {err}") from None
    sys.stdout.buffer.write(result.body)
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
