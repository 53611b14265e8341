"""`homeagent-proxy agents add | code | list | disable`: the officer manages who may enrol."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from ..core.policy.errors import did_you_mean
from ..store import Agent, EnrolmentCode, Store
from .common import CommandError, load_or_explain, print_json
from .database import add_database_arguments, opened_store
from .watch import register_watch


def register(commands: Any) -> None:
    agents = commands.add_parser("agents", help="add, list and disable agents")
    sub = agents.add_subparsers(dest="agents_command", metavar="ACTION", required=True)

    add = sub.add_parser(
        "add", help="add an agent; prints a one-time enrolment code as the last line"
    )
    add.add_argument("agent", metavar="ID")
    add.add_argument("--role", required=True)
    add.add_argument("--policy", metavar="FILE", help="check that the role exists in this policy")
    _code_arguments(add)
    add.set_defaults(handler=run_add)

    code = sub.add_parser(
        "code", help="a new one-time enrolment code for an agent (new PC, lost code)"
    )
    code.add_argument("agent", metavar="ID")
    _code_arguments(code)
    code.set_defaults(handler=run_code)

    listing = sub.add_parser("list", help="agents with their role, state and current status")
    listing.add_argument("--json", action="store_true", help="a JSON array, for scripts")
    add_database_arguments(listing)
    listing.set_defaults(handler=run_list)

    disable = sub.add_parser(
        "disable", help="disable an agent: revokes their devices, ends their session"
    )
    disable.add_argument("agent", metavar="ID")
    add_database_arguments(disable)
    disable.set_defaults(handler=run_disable)

    register_watch(sub)


def _code_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--expires",
        metavar="HOURS",
        type=float,
        default=24.0,
        help="the code's validity in hours (default 24)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object, for scripts")
    add_database_arguments(parser)


def run_add(args: argparse.Namespace) -> int:
    if args.policy:
        roles = load_or_explain(args.policy).policy.roles
        if args.role not in roles:
            raise CommandError(
                f"{args.policy}: no role {args.role!r}{did_you_mean(args.role, roles)}"
            )
    with opened_store(args) as store:
        try:
            code = store.add_agent(args.agent, args.role, code_ttl=_ttl(args.expires))
        except ValueError as err:
            raise CommandError(str(err)) from None
    _print_code(args, code, f"Agent {code.agent} added (role {args.role}).", role=args.role)
    return 0


def run_code(args: argparse.Namespace) -> int:
    with opened_store(args) as store:
        code = store.issue_code(args.agent, code_ttl=_ttl(args.expires))
        role = store.get_agent(args.agent).role
    _print_code(args, code, f"New enrolment code for agent {code.agent}.", role=role)
    return 0


def run_list(args: argparse.Namespace) -> int:
    with opened_store(args) as store:
        rows = [_summary(store, agent) for agent in store.list_agents()]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no agents yet: add one with 'homeagent-proxy agents add ID --role ROLE'")
        return 0
    header = ("ID", "ROLE", "STATE", "STATUS", "SINCE", "DEVICE")
    table = [
        (
            r["id"],
            r["role"],
            "enabled" if r["enabled"] else "disabled",
            r["status"] + (f" ({r['reason']})" if r["reason"] else ""),
            (r["status_since"] or "-")[:19].replace("T", " "),
            (r["device"] or "-")[:12],
        )
        for r in rows
    ]
    widths = [max(len(str(line[i])) for line in [header, *table]) for i in range(len(header))]
    for line in [header, *table]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    return 0


def run_disable(args: argparse.Namespace) -> int:
    with opened_store(args) as store:
        agent = store.disable_agent(args.agent)
    print(f"Agent {agent.id} disabled: devices revoked, open session ended.")
    return 0


def _ttl(hours: float) -> dt.timedelta:
    if not hours > 0:
        raise CommandError("--expires must be a positive number of hours")
    return dt.timedelta(hours=hours)


def _print_code(args: argparse.Namespace, code: EnrolmentCode, headline: str, role: str) -> None:
    expires = code.expires_at.isoformat(timespec="seconds")
    if args.json:
        print_json({"agent": code.agent, "role": role, "expires_at": expires, "code": code.code})
        return
    print(headline)
    print(f"One-time enrolment code, shown only this once, valid until {expires}:")
    print(code.code)


def _summary(store: Store, agent: Agent) -> dict[str, Any]:
    status = store.current_status(agent.id)
    devices = [d for d in store.agent_devices(agent.id) if d.revoked_at is None]
    return {
        "id": agent.id,
        "role": agent.role,
        "enabled": agent.enabled,
        "created_at": agent.created_at.isoformat(),
        "disabled_at": agent.disabled_at.isoformat() if agent.disabled_at else None,
        "status": status.status.value if status else "offline",
        "reason": status.reason if status else None,
        "status_since": status.server_time.isoformat() if status else None,
        "device": devices[-1].fingerprint if devices else None,
    }
