"""A yes-or-no question before something hard to undo (clocking out): Enter does it, Esc keeps
things as they are."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from ..checks.result import Hint
from .language import say


class ConfirmDialog(ModalScreen[bool]):
    """Dismissed with True when the agent confirmed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "confirm", "Yes"),
        Binding("escape", "cancel", "Close", key_display="Esc"),
    ]

    def __init__(self, question: Hint, keys: Hint) -> None:
        super().__init__(classes="dialog-screen")
        self.question = question
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield Static(id="confirm-question", markup=False)
            yield Static(id="confirm-keys", classes="dialog-keys")

    def on_mount(self) -> None:
        self.watch(self.app, "lang", self.show_texts)

    def show_texts(self, _: object = None) -> None:
        self.query_one("#confirm-question", Static).update(say(self, self.question))
        self.query_one("#confirm-keys", Static).update(say(self, self.keys))

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
