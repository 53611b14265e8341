"""The posture report exactly as it goes to the gateway, with a plain word on what it holds."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from .key_bar import KeyBar
from .language import say
from .texts import REPORT_EXPLAINED, REPORT_NOT_YET, REPORT_TITLE


class ReportDialog(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", key_display="Esc"),
        Binding("p", "dismiss", "Close", show=False),
    ]

    def __init__(self, report: str | None) -> None:
        super().__init__(classes="dialog-screen")
        self.report = report
        """The report as sent, laid out to read; None before the checks finished."""

    def compose(self) -> ComposeResult:
        with Vertical(id="report-dialog", classes="dialog"):
            yield Static(classes="dialog-title", id="report-title")
            yield Static(id="report-explained")
            with VerticalScroll(id="report-scroll"):
                yield Static(id="report-text", markup=False)
            yield KeyBar()

    def on_mount(self) -> None:
        self.watch(self.app, "lang", self.show_texts)
        self.query_one(VerticalScroll).focus()  # arrows and page keys scroll the report

    def show_texts(self, _: object = None) -> None:
        self.query_one("#report-title", Static).update(say(self, REPORT_TITLE))
        self.query_one("#report-explained", Static).update(say(self, REPORT_EXPLAINED))
        text = self.report if self.report is not None else say(self, REPORT_NOT_YET)
        self.query_one("#report-text", Static).update(text)
