"""`homeagent-proxy audit verify | export`: check every gateway instance's audit chain, and
hand the records to other tools as JSON Lines or CSV."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from pathlib import Path
from typing import IO, Any

from ..store.base import canonical_json
from .common import CommandError, print_json
from .database import add_database_arguments, opened_store

CSV_COLUMNS = ("instance", "seq", "at", "kind", "data", "prev", "hash", "sig")


def register(commands: Any) -> None:
    audit = commands.add_parser("audit", help="verify and export the audit log")
    sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)

    verify = sub.add_parser(
        "verify", help="check every instance's chain (exit 0 intact, 1 naming the first bad record)"
    )
    verify.add_argument("--json", action="store_true", help="one JSON report per instance")
    add_database_arguments(verify)
    verify.set_defaults(handler=run_verify)

    export = sub.add_parser("export", help="write audit records as JSON Lines or CSV")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument(
        "--from", dest="since", type=_timestamp, metavar="TIME", help="ISO 8601, inclusive"
    )
    export.add_argument(
        "--to", dest="until", type=_timestamp, metavar="TIME", help="ISO 8601, exclusive"
    )
    export.add_argument("--instance", metavar="ID", help="only this gateway instance's records")
    export.add_argument(
        "--output", "-o", type=Path, metavar="FILE", help="write here (default stdout)"
    )
    add_database_arguments(export)
    export.set_defaults(handler=run_export)


def _timestamp(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time (e.g. 2026-12-03T08:00:00Z)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def run_verify(args: argparse.Namespace) -> int:
    with opened_store(args) as store:
        reports = store.verify_audit()
    if args.json:
        for report in reports:
            print_json(
                {
                    "instance": report.instance,
                    "records": report.records,
                    "intact": report.intact,
                    "first_bad_seq": report.first_bad_seq,
                    "reason": report.reason or None,
                }
            )
    elif not reports:
        print("no audit records yet")
    for report in reports:
        if args.json:
            continue
        if report.intact:
            print(f"{report.instance}: {report.records} records, intact")
        else:
            print(
                f"{report.instance}: record {report.first_bad_seq}: {report.reason} "
                "(the chain is broken from here on)"
            )
    return 0 if all(report.intact for report in reports) else 1


def run_export(args: argparse.Namespace) -> int:
    if args.since and args.until and args.since >= args.until:
        raise CommandError("--from must be before --to")
    with opened_store(args) as store:
        records = store.iter_audit(args.instance, since=args.since, until=args.until)
        if args.output is None:
            count = _write(records, sys.stdout, args.format)
        else:
            with args.output.open("w", encoding="utf-8", newline="") as out:
                count = _write(records, out, args.format)
    if args.output is not None:
        print(f"{count} records written to {args.output}", file=sys.stderr)
    return 0


def _write(records: Any, out: IO[str], fmt: str) -> int:
    count = 0
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for record in records:
            writer.writerow(
                [canonical_json(record[c]) if c == "data" else record[c] for c in CSV_COLUMNS]
            )
            count += 1
        return count
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count
