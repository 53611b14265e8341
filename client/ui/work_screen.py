"""The work screen: the agent's status large, how long they have been in it, the shift's time,
a key for each change, and the changes still waiting to reach the gateway."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Digits, Static

from ..checks.labels import check_label
from ..checks.result import Hint
from .key_bar import KeyBar
from .language import app_lang, say
from .messages import ShiftChanged
from .shift_port import PendingChange, ShiftSnapshot
from .texts import (
    BUSY_WORKING,
    IN_STATUS,
    NO_SHIFT,
    NOT_ENROLLED,
    PENDING_NONE,
    PENDING_SOME,
    REASON_NAMES,
    SHIFT_TIME,
    STATUS_NAMES,
    WORK_TITLE,
)


def clock_text(seconds: float) -> str:
    """`01:02:03`: hours, minutes and seconds of a span (never negative)."""
    whole = max(0, int(seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def reason_text(reason: str, lang: str) -> str:
    """A status reason as the agent reads it; `posture.noise` names the home check that failed."""
    known = REASON_NAMES.get(reason)
    if known is not None:
        return known(lang)
    check = reason.removeprefix("posture.")
    if check != reason:
        return f"{check_label(check)(lang)}{'未通过' if lang == 'zh' else ' check failed'}"
    return reason


class WorkScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("i", "app.clock_in", "Clock in"),
        Binding("1", "app.set_ready", "Ready"),
        Binding("2", "app.set_not_ready", "Not ready"),
        Binding("3", "app.set_break", "Break"),
        Binding("4", "app.set_after_call_work", "After-call"),
        Binding("o", "app.clock_out", "Clock out"),
    ]

    snapshot: reactive[ShiftSnapshot | None] = reactive(None, init=False)
    """The shift as last reported by the service; None before the first answer."""
    pending: reactive[tuple[PendingChange, ...]] = reactive((), init=False)
    """Status changes kept on this PC until the gateway takes them."""
    busy: reactive[bool] = reactive(False, init=False)
    """A call to the gateway is under way (a worker)."""
    forwarding: reactive[Hint | None] = reactive(None, init=False)
    """How to point the browser at the local forwarder, while it carries the shift's traffic."""

    def __init__(self, enrolled: bool, clock: Callable[[], float]) -> None:
        super().__init__(id="work")
        self.composed = False
        """Its children exist (watchers fire before they do)."""
        self.enrolled = enrolled
        self.clock = clock
        """Unix seconds now; fixed in tests so the timers are deterministic."""

    def compose(self) -> ComposeResult:
        yield Static(id="work-title", classes="screen-title")
        yield Static(id="status-box")
        yield Static(id="status-since-label")
        yield Digits("00:00:00", id="status-timer")
        yield Static(id="shift-time")
        yield Static(id="pending")
        yield Static(id="work-note")
        yield KeyBar()

    def on_mount(self) -> None:
        self.composed = True
        self.watch(self.app, "lang", self.show_texts)
        self.set_interval(1.0, self.show_times)

    @on(ShiftChanged)
    def shift_changed(self, message: ShiftChanged) -> None:
        self.snapshot = message.snapshot
        self.pending = tuple(message.pending)
        if message.settles:
            self.busy = False

    def watch_snapshot(self) -> None:
        self.show_texts()

    def watch_pending(self) -> None:
        self.show_texts()

    def watch_forwarding(self) -> None:
        self.show_texts()

    def watch_busy(self) -> None:
        self.show_texts()
        self.refresh_bindings()

    def show_texts(self, _: object = None) -> None:
        if not self.composed:
            return
        lang = app_lang(self)
        self.query_one("#work-title", Static).update(say(self, WORK_TITLE))
        snapshot = self.snapshot
        status = snapshot.status if snapshot else "offline"
        name = say(self, STATUS_NAMES.get(status, STATUS_NAMES["offline"]))
        if snapshot and snapshot.reason:
            name = f"{name} · {reason_text(snapshot.reason, lang)}"
        box = self.query_one("#status-box", Static)
        box.update(name)
        box.set_classes(f"status-{status}")
        self.query_one("#status-since-label", Static).update(say(self, IN_STATUS))
        pending = self.pending
        if pending:
            changes = ", ".join(
                f"{STATUS_NAMES[c.status](lang) if c.status in STATUS_NAMES else c.status}"
                for c in pending[:3]
            ) + (f" +{len(pending) - 3}" if len(pending) > 3 else "")
            text = say(self, PENDING_SOME, count=len(pending), changes=changes)
        else:
            text = say(self, PENDING_NONE) if snapshot and snapshot.shift_start else ""
        self.query_one("#pending", Static).update(text)
        note = ""
        if not self.enrolled:
            note = say(self, NOT_ENROLLED)
        elif self.busy:
            note = say(self, BUSY_WORKING)
        elif self.forwarding is not None:
            note = say(self, self.forwarding)
        if snapshot and snapshot.notice is not None:
            note = f"{say(self, snapshot.notice)}\n{note}".rstrip()
        self.query_one("#work-note", Static).update(note)
        self.show_times()

    def show_times(self) -> None:
        now = self.clock()
        snapshot = self.snapshot
        since = snapshot.status_since if snapshot else None
        timer = self.query_one("#status-timer", Digits)
        timer.update(clock_text(now - since) if since is not None else "00:00:00")
        shift = self.query_one("#shift-time", Static)
        if snapshot and snapshot.shift_start is not None:
            shift.update(say(self, SHIFT_TIME, time=clock_text(now - snapshot.shift_start)))
        else:
            shift.update(say(self, NO_SHIFT) if self.enrolled else "")
