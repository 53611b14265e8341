"""Help: what each screen is for and every key, in the agent's language."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from .key_bar import KeyBar
from .language import say
from .texts import HELP_TEXT, HELP_TITLE


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", key_display="Esc"),
        Binding("f1", "dismiss", "Close", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog", classes="dialog"):
            yield Static(classes="dialog-title", id="help-title")
            with VerticalScroll():
                yield Static(id="help-text", markup=False)
            yield KeyBar()

    def on_mount(self) -> None:
        self.watch(self.app, "lang", self.show_texts)

    def show_texts(self, _: object = None) -> None:
        self.query_one("#help-title", Static).update(say(self, HELP_TITLE))
        self.query_one("#help-text", Static).update(say(self, HELP_TEXT))
