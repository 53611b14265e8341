"""Choosing why the agent is not ready: a short list of reason codes, picked by number or
arrow keys and Enter; Esc cancels."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from .language import say
from .texts import CHOOSE_REASON, REASONS

REASON_CODES: tuple[str, ...] = tuple(REASONS)


class ReasonDialog(ModalScreen[str | None]):
    """Dismissed with the chosen reason code, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Close", key_display="Esc"),
        *(
            Binding(str(i), f"choose({i - 1})", code, show=False)
            for i, code in enumerate(REASON_CODES, 1)
        ),
    ]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")

    def compose(self) -> ComposeResult:
        with Vertical(id="reason-dialog", classes="dialog"):
            yield Static(classes="dialog-title", id="reason-title")
            yield OptionList()

    def on_mount(self) -> None:
        self.watch(self.app, "lang", self.show_texts)
        self.query_one(OptionList).focus()

    def show_texts(self, _: object = None) -> None:
        self.query_one("#reason-title", Static).update(say(self, CHOOSE_REASON))
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        options.add_options(
            Option(f"{i}  {say(self, REASONS[code])}", id=code)
            for i, code in enumerate(REASON_CODES, 1)
        )
        options.highlighted = highlighted if highlighted is not None else 0

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_choose(self, index: int) -> None:
        self.dismiss(REASON_CODES[index])

    def action_cancel(self) -> None:
        self.dismiss(None)
