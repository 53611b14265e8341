"""The activity screen: what the gateway blocked or masked for this agent, newest first, with
the rule that did it, so a blocked page is never a mystery."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable, Static

from ..checks.hints import listed
from .key_bar import KeyBar
from .language import app_lang, say
from .messages import ActivityLoaded
from .shift_port import ActivityEntry
from .texts import (
    ACTIVITY_COLUMNS,
    ACTIVITY_EMPTY,
    ACTIVITY_TITLE,
    BUSY_WORKING,
    DECISIONS,
    MASKED,
    NOT_ENROLLED,
)

PATH_COLUMNS = 40
"""Long paths are cut to keep a row on one line of an 80-column terminal."""


def shown_time(at: str) -> str:
    """`09:41:07` from the gateway's ISO 8601 time (the date is this shift's)."""
    _, sep, time_part = at.partition("T")
    return time_part[:8] if sep else at[:8]


def where(entry: ActivityEntry) -> str:
    place = (entry.host or "") + (entry.path or "")
    return place if len(place) <= PATH_COLUMNS else place[: PATH_COLUMNS - 1] + "…"


def worth_showing(entry: ActivityEntry) -> bool:
    """Blocked, would-be-blocked or masked: what the agent may wonder about (a plain allowed
    request is not news)."""
    return entry.decision not in (None, "allow") or any(entry.masked.values())


class ActivityScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("u", "app.reload", "Refresh")]

    entries: reactive[tuple[ActivityEntry, ...] | None] = reactive(None, init=False)
    """The gateway's latest decisions for this agent; None until first loaded."""

    loading_entries: reactive[bool] = reactive(False, init=False)
    """The gateway is being asked (a worker)."""

    def __init__(self, enrolled: bool) -> None:
        super().__init__(id="activity")
        self.composed = False
        """Its children exist (watchers fire before they do)."""
        self.enrolled = enrolled

    def compose(self) -> ComposeResult:
        yield Static(id="activity-title", classes="screen-title")
        yield Static(id="activity-note")
        yield DataTable(id="activity-table", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.composed = True
        self.watch(self.app, "lang", self.show_texts)

    @on(ActivityLoaded)
    def activity_loaded(self, message: ActivityLoaded) -> None:
        self.entries = tuple(e for e in message.entries if worth_showing(e))
        self.loading_entries = False

    def watch_loading_entries(self) -> None:
        self.show_texts()

    def watch_entries(self) -> None:
        self.show_texts()

    def show_texts(self, _: object = None) -> None:
        if not self.composed:
            return
        lang = app_lang(self)
        self.query_one("#activity-title", Static).update(say(self, ACTIVITY_TITLE))
        entries = self.entries
        note = ""
        if not self.enrolled:
            note = say(self, NOT_ENROLLED)
        elif self.loading_entries:
            note = say(self, BUSY_WORKING)
        elif entries is not None and not entries:
            note = say(self, ACTIVITY_EMPTY)
        self.query_one("#activity-note", Static).update(note)
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_columns(*(hint(lang) for hint in ACTIVITY_COLUMNS))
        for entry in entries or ():
            what = DECISIONS[entry.decision](lang) if entry.decision in DECISIONS else ""
            total = sum(entry.masked.values())
            if total:
                masked = say(self, MASKED, count=total)
                what = f"{what} · {masked}" if what else masked
            rule = entry.rule or (listed(sorted(entry.masked)) if entry.masked else "")
            table.add_row(shown_time(entry.at), what, rule, where(entry))
        table.display = bool(entries)
