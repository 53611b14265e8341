"""`homeagent-proxy policy check | schema | test | explain`: the officer's policy tools."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..core.policy.errors import PolicyError
from ..core.policy.loader import load_policy
from ..core.policy.model import Policy


def register(commands: Any) -> None:
    policy = commands.add_parser("policy", help="check, test and explain policy files")
    sub = policy.add_subparsers(dest="policy_command", metavar="ACTION", required=True)

    check = sub.add_parser("check", help="validate policy files (exit 0 valid, 1 with the errors)")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(handler=run_check)

    schema = sub.add_parser("schema", help="print the policy JSON Schema, for editors")
    schema.set_defaults(handler=run_schema)


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
