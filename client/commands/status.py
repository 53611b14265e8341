"""`homeagent status [STATE [--reason R]]`: show the shift's status, or change it. A change is
saved on this PC first and reaches the gateway in order, even after an outage."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import Any

from ..checks.result import Hint
from ..lang import detect_lang
from ..session.errors import SessionError
from ..session.service import ShiftService
from .shift_output import describe, plain_errors, waiting

STATES = ("ready", "not_ready", "busy", "after_call_work", "break")


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "status",
        help="show your status, or change it: ready, not_ready, busy, after_call_work, break",
        description="Without STATE: show your status, its timer, the shift total and anything "
        "not yet sent. With STATE: change it (while busy, not_ready and break wait for the end "
        "of the contact). Changes made while the gateway cannot be reached are kept on this "
        "PC, encrypted, and sent in order later.",
    )
    parser.add_argument("state", nargs="?", metavar="STATE", help=", ".join(STATES))
    parser.add_argument(
        "--reason",
        metavar="CODE",
        help="why (a code: meeting, training, lunch…): needed for not_ready, optional for break",
    )
    parser.add_argument(
        "--cancel-next", action="store_true", help="drop the status waiting for the contact's end"
    )
    parser.add_argument("--json", action="store_true", help="print the status as JSON")
    parser.set_defaults(handler=status_command)


def status_command(args: argparse.Namespace) -> int:
    lang = detect_lang(args.lang)
    service = ShiftService(lang=lang)
    with plain_errors(lang), waiting(lang):
        if args.reason is not None and args.state is None:
            raise SessionError(
                Hint(zh="--reason 需要与状态一起使用", en="--reason goes with a STATE")
            )
        if args.state is not None:
            snapshot = service.set_status(args.state, args.reason)
        elif args.cancel_next:
            snapshot = service.cancel_next()
        else:
            snapshot = service.status()
            if snapshot.pending:
                snapshot = service.deliver()
        if snapshot.clocked_in:
            try:
                service.renew_if_due()
            except SessionError as err:
                # The shift may have ended on the gateway: say so, with the status as it is now.
                print(err.hint(lang), file=sys.stderr)
                snapshot = replace(service.status(), delivery=snapshot.delivery)
    if args.json:
        print(json.dumps(snapshot.to_json(), ensure_ascii=False, indent=2))
    else:
        print(describe(snapshot, lang))
    # A change the gateway would not take did not happen: a script must know.
    refused = snapshot.delivery is not None and bool(snapshot.delivery.refused)
    return 1 if refused else 0
