"""`homeagent recheck [--wait]`: re-check the home setup during a shift and apply what it means
for the status; with `--wait`, keep doing so on the gateway's schedule in the foreground (for an
agent without the TUI, whose posture would otherwise age out and end the shift) until clock-out."""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from ..checks.result import Status
from ..lang import Lang, detect_lang
from ..session.answers import RecheckOutcome
from ..session.errors import (
    ApiRefusedError,
    GatewayUnreachableError,
    NotClockedInError,
    SessionError,
)
from ..session.service import SHIFT_ENDED, ShiftService
from .check import ProgressLines, render_table
from .common import CommandError
from .shift_output import local_time, plain_errors, say

POLL_S = 1.0
"""How often the waiting loop looks at the shift on this PC (a file read: clock-out is seen
within this)."""
HEARTBEAT_S = 60.0
"""How often it tells the gateway the client is there (and learns if the shift was ended)."""
REFUSED_PAUSE_S = 60.0
"""After the gateway refused a re-check (not merely unreachable), wait this long to try again."""
MAX_HOURS = 16.0
"""The longest --wait runs unless told otherwise: a shift and then some."""


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "recheck",
        help="during a shift: check again now and apply the result (--wait: on schedule)",
        description="Run every check under the gateway's limits, send the report and apply it: "
        "a failing required check sets you not ready at once, or when the current contact "
        "ends; a pass after that says you may go ready. With --wait, do it again whenever the "
        "gateway's schedule says, until you clock out.",
    )
    parser.add_argument(
        "--wait",
        action="store_true",
        help="keep running: re-check on the gateway's schedule until clock-out (or Ctrl+C, "
        "SIGTERM)",
    )
    parser.add_argument(
        "--max-hours",
        type=float,
        default=MAX_HOURS,
        metavar="H",
        help=f"with --wait: stop after this long at the latest (default {MAX_HOURS:g})",
    )
    parser.add_argument(
        "--input-device",
        metavar="NAME",
        help="the microphone for the noise check (a name or part of one; default: the system's)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print each re-check as one line of JSON on stdout",
    )
    parser.set_defaults(handler=recheck_command)


def recheck_command(args: argparse.Namespace) -> int:
    lang = detect_lang(args.lang)
    service = ShiftService(lang=lang)
    if not args.wait:
        with plain_errors(lang):
            outcome = run_once(service, args.input_device, lang)
        show(outcome, lang, as_json=args.json)
        return 0 if passed(outcome) else 1
    return wait_loop(service, args, lang)


def run_once(service: ShiftService, input_device: str | None, lang: Lang) -> RecheckOutcome:
    progress = ProgressLines(sys.stderr, lang)  # a check's first report starts its timer
    try:
        return service.recheck(progress, input_device=input_device)
    finally:
        progress.close()


def passed(outcome: RecheckOutcome) -> bool:
    """The gateway's verdict when it gave one; this PC's judgement otherwise; not passed when
    nothing could run."""
    if outcome.verdict is not None:
        return outcome.verdict.passed
    return bool(outcome.results) and all(r.status is not Status.FAIL for r in outcome.results)


def show(outcome: RecheckOutcome, lang: Lang, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(outcome.to_json(lang), ensure_ascii=False), flush=True)
        return
    if outcome.results:
        columns = min(100, shutil.get_terminal_size().columns)
        here = all(r.status is not Status.FAIL for r in outcome.results)
        print(render_table(outcome.results, here, lang, columns))
    print(outcome.message(lang))
    if outcome.next_at is not None:
        at = local_time(outcome.next_at)
        print(say(lang, f"下次复检：{at}", f"Next re-check: {at}"), flush=True)


def wait_loop(service: ShiftService, args: argparse.Namespace, lang: Lang) -> int:
    """Re-check whenever due, heartbeat about once a minute, until clock-out (here or on the
    gateway), SIGTERM/SIGINT or `--max-hours`. Every pass of the loop sleeps at least POLL_S,
    so it makes at most max_hours × 3600 / POLL_S passes."""
    stop = threading.Event()
    restore = _stop_on_signals(stop.set)
    clock = time.monotonic
    deadline = clock() + max(0.0, args.max_hours) * 3600
    passes = int(max(0.0, args.max_hours) * 3600 / POLL_S) + 1
    last_beat = not_before = clock()
    said_next: float | None = None
    ended = say(lang, "已下班打卡，复检已停止。", "Clocked out: re-checks have stopped.")
    try:
        if service.next_recheck_at() is None:
            raise CommandError(NotClockedInError().hint(lang))
        for _ in range(passes):
            if stop.is_set() or clock() >= deadline:
                ended = say(lang, "复检已停止。", "Re-checks have stopped.")
                break
            due = service.next_recheck_at()
            if due is None:
                break  # clocked out on this PC (or the gateway ended the shift)
            if due <= time.time() and clock() >= not_before:
                try:
                    outcome = run_once(service, args.input_device, lang)
                except SessionError as err:
                    print(err.hint(lang), file=sys.stderr, flush=True)
                    if _shift_ended(err):
                        break
                    # refused (not unreachable: that is an outcome): the schedule has not
                    # moved, so hold off rather than ask again every second
                    not_before = clock() + REFUSED_PAUSE_S
                else:
                    show(outcome, lang, as_json=args.json)
                    said_next = outcome.next_at
                last_beat = clock()
            elif clock() - last_beat >= HEARTBEAT_S:
                last_beat = clock()
                if not _beat(service, lang):
                    break
            elif said_next != due and not args.json:
                said_next = due
                print(
                    say(lang, f"下次复检：{local_time(due)}", f"Next re-check: {local_time(due)}"),
                    file=sys.stderr,
                    flush=True,
                )
            stop.wait(POLL_S)
        else:
            ended = say(lang, "复检已停止。", "Re-checks have stopped.")
    finally:
        restore()
    print(ended, file=sys.stderr, flush=True)
    return 0


def _beat(service: ShiftService, lang: Lang) -> bool:
    """One heartbeat; False when the gateway has ended the shift (this PC then clocks out)."""
    try:
        service.heartbeat()
    except GatewayUnreachableError:
        return True  # the line may come back; the schedule's retries go on
    except SessionError as err:
        print(err.hint(lang), file=sys.stderr, flush=True)
        return not _shift_ended(err)
    return True


def _shift_ended(err: SessionError) -> bool:
    return isinstance(err, ApiRefusedError) and err.code in SHIFT_ENDED


def _stop_on_signals(stop: Callable[[], None]) -> Callable[[], None]:
    """SIGTERM and SIGINT end the loop between re-checks; returns what puts them back."""

    def handler(signum: int, frame: FrameType | None) -> None:
        stop()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for s, h in previous.items():
            signal.signal(s, h)

    return restore
