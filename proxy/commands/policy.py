"""`homeagent-proxy policy check | schema | test | explain`: the officer's policy tools."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterable
from typing import Any

from ..core.access import AccessPolicy
from ..core.policy.errors import PolicyError, did_you_mean
from ..core.policy.loader import load_policy
from ..core.policy.model import Policy
from ..policy_testing import TEST_FILE_SUFFIX, discover, format_suite, run_file
from .common import CommandError, load_or_explain, print_json


def register(commands: Any) -> None:
    policy = commands.add_parser("policy", help="check, test and explain policy files")
    sub = policy.add_subparsers(dest="policy_command", metavar="ACTION", required=True)

    check = sub.add_parser("check", help="validate policy files (exit 0 valid, 1 with the errors)")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(handler=run_check)

    schema = sub.add_parser("schema", help="print the policy JSON Schema, for editors")
    schema.set_defaults(handler=run_schema)

    test = sub.add_parser("test", help="run policy test files (*_test.yaml) and show rule coverage")
    test.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files or folders")
    test.set_defaults(handler=run_test)

    explain = sub.add_parser(
        "explain",
        help="decide requests: one from the arguments, or 'METHOD URL' lines from stdin; JSON out",
    )
    explain.add_argument("--policy", required=True, metavar="FILE")
    explain.add_argument("--role", required=True)
    explain.add_argument(
        "--at", type=_timestamp, help="decide as at this ISO 8601 time (default now)"
    )
    explain.add_argument("method", nargs="?", metavar="METHOD")
    explain.add_argument("url", nargs="?", metavar="URL")
    explain.set_defaults(handler=run_explain)


def run_check(args: argparse.Namespace) -> int:
    failed = 0
    for name in args.files:
        try:
            loaded = load_policy(name)
        except PolicyError as err:
            failed += 1
            print(err, file=sys.stderr)
            continue
        roles = ", ".join(loaded.policy.roles)
        print(f"{name}: ok ({len(loaded.files)} file(s); roles: {roles})")
    return 1 if failed else 0


def run_schema(args: argparse.Namespace) -> int:
    schema = Policy.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "homeagent policy"
    json.dump(schema, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


def _timestamp(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def run_test(args: argparse.Namespace) -> int:
    files = discover(args.paths)
    if not files:
        print(f"no test files (*{TEST_FILE_SUFFIX}) under {' '.join(args.paths)}", file=sys.stderr)
        return 1
    failed = False
    for path in files:
        try:
            suite = run_file(path)
        except PolicyError as err:
            print(err, file=sys.stderr)
            failed = True
            continue
        failed |= not suite.passed
        for line in format_suite(suite):
            print(line)
    return 1 if failed else 0


def run_explain(args: argparse.Namespace) -> int:
    access = AccessPolicy(load_or_explain(args.policy).policy)
    if args.role not in access.roles:
        raise CommandError(f"unknown role {args.role!r}{did_you_mean(args.role, access.roles)}")
    if (args.method is None) != (args.url is None):
        raise CommandError("give both METHOD and URL, or neither (then requests come from stdin)")
    requests: Iterable[str] = [f"{args.method} {args.url}"] if args.url else sys.stdin
    status = 0
    for number, line in enumerate(requests, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2:
            print(f"stdin:{number}: expected 'METHOD URL', got {line.strip()!r}", file=sys.stderr)
            status = 1
            continue
        print_json(access.decide(args.role, parts[0], parts[1], when=args.at).to_json())
        sys.stdout.flush()
    return status
