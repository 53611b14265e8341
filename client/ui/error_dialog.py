"""A dialog for anything that went wrong: what happened and what to do next, in the agent's
language; Enter or Esc closes it."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from ..checks.result import Hint
from .language import say
from .texts import ERROR_TITLE, ERROR_UNEXPECTED, OK


def hint_for(error: BaseException) -> Hint:
    """What to tell the agent: the error's own Hint when it has one (the session layer's
    errors do), its message when it is a plain one for people, else a generic hint."""
    hint = getattr(error, "hint", None)
    if isinstance(hint, Hint):
        return hint
    from ..commands.common import CommandError

    if isinstance(error, CommandError):
        return Hint(zh=str(error), en=str(error))
    detail = f"{type(error).__name__}: {error}"[:200]
    return Hint(
        zh=ERROR_UNEXPECTED.zh.format(detail=detail), en=ERROR_UNEXPECTED.en.format(detail=detail)
    )


class ErrorDialog(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", key_display="Esc")
    ]

    def __init__(self, hint: Hint) -> None:
        super().__init__(classes="dialog-screen")
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="error-dialog", classes="dialog"):
            yield Static(classes="dialog-title", id="error-title")
            yield Static(id="error-text", markup=False)
            yield Button("", id="error-ok", variant="primary")

    def on_mount(self) -> None:
        self.watch(self.app, "lang", self.show_texts)
        self.query_one(Button).focus()

    def show_texts(self, _: object = None) -> None:
        self.query_one("#error-title", Static).update(say(self, ERROR_TITLE))
        self.query_one("#error-text", Static).update(say(self, self.hint))
        self.query_one(Button).label = say(self, OK)

    def on_button_pressed(self) -> None:
        self.dismiss()
