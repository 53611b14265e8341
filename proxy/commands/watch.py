"""`homeagent-proxy agents watch`: the floor manager's live view of who is clocked in, in which
status and for how long; `--once` prints the same table (or CSV, JSON) for scripts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..reports.floor import floor_report, floor_rows
from ..reports.formats import FORMATS, write_report
from ..reports.window import report_zone
from ..store.clock import utc_now
from .common import CommandError
from .database import add_database_arguments, opened_store


def register_watch(sub: Any) -> None:
    watch = sub.add_parser(
        "watch",
        help="live view of clocked-in agents, their status and for how long (e: export CSV)",
    )
    watch.add_argument(
        "--interval", type=float, default=5.0, metavar="S", help="seconds between reads (5)"
    )
    watch.add_argument(
        "--export",
        type=Path,
        metavar="FILE.csv",
        help="where the e key writes (default floor-YYYYmmdd-HHMMSS.csv here)",
    )
    watch.add_argument(
        "--once", action="store_true", help="print the floor once and exit (for scripts)"
    )
    watch.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="with --once: table (default), csv or json",
    )
    watch.add_argument("--lang", choices=("zh", "en"), help="default: from the locale")
    watch.add_argument(
        "--tz",
        metavar="ZONE",
        help="time zone shown, e.g. Asia/Shanghai (default: the machine's)",
    )
    add_database_arguments(watch)
    watch.set_defaults(handler=run_watch)


def run_watch(args: argparse.Namespace) -> int:
    if not 0.2 <= args.interval <= 3600:
        raise CommandError("--interval must be between 0.2 and 3600 seconds")
    try:
        zone = report_zone(args.tz)
    except ValueError as err:
        raise CommandError(str(err)) from None
    with opened_store(args) as store:
        if args.once:
            now = utc_now()
            report = floor_report(floor_rows(store.on_shift(), now), now, zone)
            write_report(report, sys.stdout, args.format, zone)
            return 0
        if not sys.stdout.isatty():
            raise CommandError("agents watch needs a terminal; use --once for scripts")
        # Textual loads only for the live view: the other commands stay light.
        from ..watch.floor_app import FloorConfig, make_floor_app
        from ..watch.texts import detect_lang

        config = FloorConfig(
            store.on_shift, zone, detect_lang(args.lang), args.interval, args.export
        )
        make_floor_app(config).run()
    return 0
