"""The floor view: head count per status on top, one row per clocked-in agent below, read from
the store in a worker every few seconds; `e` writes the table as it stands to a CSV file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from ..reports.floor import FloorRow, OnShift, floor_report, floor_rows, head_count
from ..reports.formats import clock, write_report
from ..reports.window import zone_label
from .texts import (
    COLUMNS,
    EXPORT_FAILED,
    EXPORTED,
    KEYS,
    NOBODY,
    ON_SHIFT,
    READ_FAILED,
    READING,
    STATUS_NAMES,
    TITLE,
    UPDATED,
)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class FloorConfig:
    """Everything the view is built from, so the command and the tests build it the same way."""

    read: Callable[[], Sequence[OnShift]]
    """Who is on shift now; called in a worker thread (a database query)."""
    zone: dt.tzinfo = dt.UTC
    lang: str = "en"
    interval: float = 5.0
    """Seconds between reads."""
    export: Path | None = None
    """Where `e` writes; None: floor-YYYYmmdd-HHMMSS.csv in the current folder."""
    clock: Callable[[], dt.datetime] = utc_now


class FloorApp(App[None]):
    CSS_PATH = "floor.tcss"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "export", "Export CSV"),
        Binding("r", "refresh_floor", "Refresh"),
        Binding("l", "switch_language", "Language"),
        Binding("q", "quit", "Quit"),
    ]

    lang: reactive[str] = reactive("en", init=False)
    """`zh` or `en`; `l` switches it live."""

    class FloorRead(Message):
        def __init__(self, agents: Sequence[OnShift], at: dt.datetime) -> None:
            super().__init__()
            self.agents = agents
            self.at = at

    def __init__(self, config: FloorConfig) -> None:
        super().__init__()
        self.config = config
        self.set_reactive(FloorApp.lang, config.lang)
        self.rows: list[FloorRow] = []
        self.read_at: dt.datetime | None = None
        self.reads = 0
        """Reads that came back, for tests to wait on."""
        self.problem = ""
        """The last read's error, shown until a read succeeds."""
        self.exported: Path | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="title", classes="screen-title")
        yield Static(id="counts")
        yield DataTable(id="floor", cursor_type="row", zebra_stripes=True)
        yield Static(id="state")
        yield Static(id="keys")

    def on_mount(self) -> None:
        self.show()
        self.action_refresh_floor()
        self.set_interval(self.config.interval, self.action_refresh_floor)

    def action_refresh_floor(self) -> None:
        self.read_floor()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def read_floor(self) -> None:
        agents = self.config.read()
        self.post_message(self.FloorRead(agents, self.config.clock()))

    @on(FloorRead)
    def floor_read(self, message: FloorRead) -> None:
        self.rows = floor_rows(message.agents, message.at)
        self.read_at = message.at
        self.problem = ""
        self.reads += 1
        self.show()

    @on(Worker.StateChanged)
    def read_failed(self, event: Worker.StateChanged) -> None:
        """A failed read (database down, restarted) is shown and tried again at the next
        tick; the last good table stays up meanwhile."""
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            self.problem = READ_FAILED(
                self.lang, error=str(error).splitlines()[0][:200], interval=self.config.interval
            )
            self.show_state()

    def watch_lang(self) -> None:
        self.show()

    def action_switch_language(self) -> None:
        self.lang = "en" if self.lang == "zh" else "zh"

    def action_export(self) -> None:
        at = self.read_at or self.config.clock()
        path = self.config.export or Path(
            f"floor-{at.astimezone(self.config.zone):%Y%m%d-%H%M%S}.csv"
        )
        report = floor_report(self.rows, at, self.config.zone)
        try:
            with path.open("w", encoding="utf-8", newline="") as out:
                write_report(report, out, "csv", self.config.zone)
        except OSError as err:
            self.notify(EXPORT_FAILED(self.lang, path=path, error=err.strerror), severity="error")
            return
        self.exported = path
        self.notify(EXPORTED(self.lang, count=len(self.rows), path=path))

    # --- drawing ---------------------------------------------------------------------------

    def show(self) -> None:
        lang = self.lang
        self.query_one("#title", Static).update(TITLE(lang))
        counts = head_count(self.rows)
        parts = [f"{ON_SHIFT(lang)} {len(self.rows)}"]
        parts += [f"{STATUS_NAMES[status](lang)} {count}" for status, count in counts.items()]
        self.query_one("#counts", Static).update(" · ".join(parts))
        table = self.query_one("#floor", DataTable)
        table.clear(columns=True)
        for key, words in COLUMNS.items():
            table.add_column(words(lang), key=key)
        zone = self.config.zone
        for row in self.rows:
            table.add_row(
                row.agent,
                row.role,
                STATUS_NAMES[row.status](lang),
                row.reason or "",
                clock(row.in_status),
                clock(row.on_shift),
                f"{row.clocked_in.astimezone(zone):%H:%M}",
                f"{row.last_seen.astimezone(zone):%H:%M:%S}" if row.last_seen else "-",
                key=row.agent,
            )
        keys = [f"{binding.key} {KEYS[binding.action](lang)}" for binding in self._key_bindings()]
        self.query_one("#keys", Static).update("  ".join(keys))
        self.show_state()

    def show_state(self) -> None:
        lang = self.lang
        if self.problem:
            text = self.problem
        elif self.read_at is None:
            text = READING(lang)
        else:
            local = self.read_at.astimezone(self.config.zone)
            text = UPDATED(
                lang,
                time=f"{local:%H:%M:%S}",
                zone=zone_label(self.config.zone, self.read_at),
                interval=f"{self.config.interval:g}",
            )
            if not self.rows:
                text = f"{NOBODY(lang)} {text}"
        state = self.query_one("#state", Static)
        state.update(text)
        state.set_class(bool(self.problem), "problem")

    def _key_bindings(self) -> list[Binding]:
        return [b for b in self.BINDINGS if isinstance(b, Binding)]


def make_floor_app(config: FloorConfig) -> FloorApp:
    return FloorApp(config)
