"""The confidentiality notice the agent acknowledges before clocking in: Enter agrees, Esc
cancels (nothing is sent)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from .language import app_lang, say
from .shift_port import Notice
from .texts import NOTICE_KEYS, NOTICE_TITLE


def reflowed(text: str, lang: str) -> str:
    """The notice as the dialog's width wraps it: officers break lines in the YAML where their
    editor does, so lines within a paragraph join (Chinese without a space); a blank line
    still starts a new paragraph."""
    joiner = "" if lang == "zh" else " "
    paragraphs = [p for p in text.strip().split("\n\n") if p.strip()]
    return "\n\n".join(
        joiner.join(line.strip() for line in p.splitlines() if line.strip()) for p in paragraphs
    )


class NoticeDialog(ModalScreen[bool]):
    """Dismissed with True when the agent agreed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "accept", "I agree"),
        Binding("escape", "cancel", "Close", key_display="Esc"),
    ]

    def __init__(self, notice: Notice) -> None:
        super().__init__(classes="dialog-screen")
        self.notice = notice

    def compose(self) -> ComposeResult:
        with Vertical(id="notice-dialog", classes="dialog"):
            yield Static(classes="dialog-title", id="notice-title")
            with VerticalScroll():
                yield Static(id="notice-text", markup=False)
            yield Static(classes="dialog-keys", id="notice-keys")

    def on_mount(self) -> None:
        self.watch(self.app, "lang", self.show_texts)

    def show_texts(self, _: object = None) -> None:
        lang = app_lang(self)
        text = reflowed(self.notice.zh if lang == "zh" else self.notice.en, lang)
        self.query_one("#notice-title", Static).update(say(self, NOTICE_TITLE))
        self.query_one("#notice-text", Static).update(text)
        self.query_one("#notice-keys", Static).update(say(self, NOTICE_KEYS))

    def action_accept(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
