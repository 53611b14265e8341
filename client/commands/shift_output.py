"""What the enrol, clock and status commands share: turning the session's errors into one plain
line in the agent's language, and the status as an agent reads it."""

from __future__ import annotations

import datetime as dt
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from ..checks.result import Hint
from ..lang import Lang
from ..session.answers import StatusSnapshot
from ..session.errors import SessionError
from ..session.status_model import STATUS_NAMES, StatusRefusedError, clock
from .common import CommandError


def say(lang: Lang, zh: str, en: str) -> str:
    return Hint(zh=zh, en=en)(lang)


@contextmanager
def plain_errors(lang: Lang) -> Iterator[None]:
    """A SessionError or a refused status change ends the command with its hint."""
    try:
        yield
    except SessionError as err:
        raise CommandError(err.hint(lang)) from None
    except StatusRefusedError as err:
        raise CommandError(err.hint(lang)) from None


WAIT_SECONDS = 1.0
"""A call to the gateway that takes longer than this says that it is waiting."""


@contextmanager
def waiting(lang: Lang, stream: TextIO | None = None) -> Iterator[None]:
    """One line on stderr if the block is still running after a second (a slow or hung
    gateway waits up to the timeout): the agent sees the command is not stuck."""
    out = stream or sys.stderr

    def say_waiting() -> None:
        print(
            say(lang, "正在等待网关应答…", "Waiting for the gateway to answer…"),
            file=out,
            flush=True,
        )

    timer = threading.Timer(WAIT_SECONDS, say_waiting)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def local_time(at: float) -> str:
    return dt.datetime.fromtimestamp(at).strftime("%H:%M")


def describe(snapshot: StatusSnapshot, lang: Lang) -> str:
    """A few lines: the status with its timer, the shift total, the next status, and what is
    still waiting to be sent."""
    zh = lang == "zh"
    if not snapshot.clocked_in:
        lines = [
            say(
                lang,
                "尚未打卡上班：运行 homeagent clock-in 开始当班。",
                "Not clocked in: run `homeagent clock-in` to start your shift.",
            )
        ]
    else:
        name = STATUS_NAMES[snapshot.status](lang)
        reason = f"（{snapshot.reason}）" if zh and snapshot.reason else ""
        reason = reason or (f" ({snapshot.reason})" if snapshot.reason else "")
        since = local_time(snapshot.since) if snapshot.since is not None else "?"
        timer = clock(snapshot.seconds_in_status)
        lines = [
            f"状态：{name}{reason}，自 {since} 起 {timer}"
            if zh
            else f"Status: {name}{reason}, since {since} ({timer})",
            f"本班已工作 {clock(snapshot.shift_seconds)}"
            if zh
            else f"Shift so far: {clock(snapshot.shift_seconds)}",
        ]
        if snapshot.next is not None:
            following = STATUS_NAMES[snapshot.next.status](lang)
            why = f" ({snapshot.next.reason})" if snapshot.next.reason else ""
            lines.append(
                f"下一状态：{following}{why}（本次通话结束后生效）"
                if zh
                else f"Next: {following}{why} (when this contact ends)"
            )
    delivery = snapshot.delivery
    if snapshot.pending:
        changes = ", ".join(
            f"{STATUS_NAMES[p.status](lang)} {local_time(p.at)}" for p in snapshot.pending
        )
        lines.append(
            f"待发送：{len(snapshot.pending)} 项状态更改已保存在本机，网关恢复连接后按顺序发送"
            f"（{changes}）"
            if zh
            else f"Pending: {len(snapshot.pending)} status change(s) saved on this PC, sent in "
            f"order once the gateway answers ({changes})"
        )
        if delivery is not None and delivery.problem is not None:
            lines.append(say(lang, "原因：", "Why: ") + delivery.problem.hint(lang))
    for refused in delivery.refused if delivery is not None else []:
        name = STATUS_NAMES[refused.change.status](lang)
        lines.append(
            f"网关未接受 {local_time(refused.change.at)} 的“{name}”：{refused.hint(lang)}"
            if zh
            else f"The gateway did not take {name} at {local_time(refused.change.at)}: "
            f"{refused.hint(lang)}"
        )
    set_aside = snapshot.set_aside_hint()
    if set_aside is not None:
        lines.append(set_aside(lang))
    return "\n".join(lines)


def ask_yes(question: str, stream: TextIO = sys.stdin) -> bool:
    """y/N on stderr/stdin; end of input is no."""
    print(question, end=" ", file=sys.stderr, flush=True)
    answer = stream.readline()
    return answer.strip().lower() in ("y", "yes", "是", "是的")
