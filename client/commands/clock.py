"""`homeagent clock-in` and `homeagent clock-out`: start the shift once the checks have passed
and the confidentiality notice is acknowledged; end it."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from ..lang import detect_lang
from ..session.service import ShiftService
from ..session.status_model import clock
from .common import CommandError
from .shift_output import ask_yes, describe, local_time, plain_errors, say, waiting


def register(commands: Any) -> None:
    clock_in = commands.add_parser(
        "clock-in",
        help="start your shift (after `homeagent check` passed): read and accept the notice",
        description="Show the confidentiality notice, ask you to accept it, and clock in. The "
        "gateway needs a recent passing report from `homeagent check`.",
    )
    clock_in.add_argument(
        "--accept-notice",
        action="store_true",
        help="accept the confidentiality notice without being asked (for scripts; you are "
        "still bound by it)",
    )
    clock_in.add_argument("--json", action="store_true", help="print the outcome as JSON")
    clock_in.set_defaults(handler=clock_in_command)

    clock_out = commands.add_parser("clock-out", help="end your shift")
    clock_out.add_argument("--json", action="store_true", help="print the outcome as JSON")
    clock_out.set_defaults(handler=clock_out_command)


def clock_in_command(args: argparse.Namespace) -> int:
    lang = detect_lang(args.lang)
    service = ShiftService(lang=lang)
    with plain_errors(lang):
        with waiting(lang):
            settings = service.settings()
        notice = settings.notice
        if not args.accept_notice:
            title = say(
                lang,
                f"保密须知（版本 {notice.version}）",
                f"Confidentiality notice (version {notice.version})",
            )
            print(f"{title}\n\n{notice(lang).strip()}\n", file=sys.stderr)
            if not ask_yes(say(lang, "我已阅读并接受 [y/N]", "I have read and accept it [y/N]")):
                raise CommandError(
                    say(
                        lang,
                        "未打卡：需要接受保密须知才能上班。",
                        "Not clocked in: the notice must be accepted to start a shift.",
                    )
                )
        with waiting(lang):
            service.clock_in(notice.version)
        snapshot = service.status()
    if args.json:
        document = {
            "notice_version": notice.version,
            "token_expires_at": snapshot.to_json()["token_expires_at"],
            "status": snapshot.to_json(),
        }
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return 0
    print(
        say(
            lang,
            f"已于 {local_time(time.time())} 打卡上班（保密须知版本 {notice.version}）。\n"
            "当前状态为“未就绪”：准备好后运行 homeagent status ready",
            f"Clocked in at {local_time(time.time())} (notice version {notice.version}).\n"
            "You are not ready yet: when you are, run `homeagent status ready`",
        )
    )
    if snapshot.pending:
        print(describe(snapshot, lang))
    return 0


def clock_out_command(args: argparse.Namespace) -> int:
    lang = detect_lang(args.lang)
    service = ShiftService(lang=lang)
    with plain_errors(lang), waiting(lang):
        before = service.status()
        outcome = service.clock_out()
    if args.json:
        document = {
            "ended_at": outcome.ended_at,
            "shift_seconds": round(before.shift_seconds),
            "undelivered": outcome.undelivered,
        }
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return 0
    total = clock(before.shift_seconds)
    if outcome.ended_at is None:
        print(
            say(
                lang,
                "网关上的本班会话已结束（例如环境检测过期）；本机也已下班。",
                "The gateway had already ended this shift (e.g. the posture report expired); "
                "this PC is clocked out too.",
            )
        )
    else:
        print(say(lang, f"已下班，本班共 {total}。", f"Clocked out. Shift total: {total}."))
    if outcome.undelivered:
        print(
            say(
                lang,
                f"仍有 {outcome.undelivered} 项状态更改未送达网关，将在恢复连接后发送。",
                f"{outcome.undelivered} status change(s) have not reached the gateway yet; "
                "they are sent once it answers.",
            )
        )
    return 0
