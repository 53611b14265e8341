"""The key bar: every key the agent can press now, named in their language (Textual's Footer
shows a binding's fixed description, which cannot follow a live language switch)."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widgets import Static

from .language import app_lang
from .texts import KEY_NAMES

GAP = "  "


class KeyBar(Static):
    """The active screen's bindings, then the app's: `F1 Help  c Checks …`, wrapped between
    keys (never between a key and its name) onto as many lines as the width needs."""

    def on_mount(self) -> None:
        self.watch(self.app, "lang", self.show_keys, init=False)
        # a key that cannot be used now (checks running, a call under way) shows dimmed
        self.screen.bindings_updated_signal.subscribe(self, self.show_keys)
        self.call_after_refresh(self.show_keys)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def on_resize(self, _: events.Resize) -> None:
        self.show_keys()

    def keys(self) -> list[tuple[str, str, bool]]:
        """(key, name, enabled) for each binding to show, each action once."""
        lang = app_lang(self)
        shown: list[tuple[str, str, bool]] = []
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            action = binding.action.removeprefix("app.").removeprefix("screen.")
            if not binding.show or action in seen:
                continue
            seen.add(action)
            name = KEY_NAMES[action](lang) if action in KEY_NAMES else binding.description
            shown.append((self.app.get_key_display(binding), name, active.enabled))
        return shown

    def show_keys(self, _: object = None) -> None:
        columns = self.content_size.width or self.app.size.width
        text = Text(no_wrap=True)
        used = 0
        for key, name, enabled in self.keys():
            piece = cell_len(f" {key}  {name}")
            if used and used + len(GAP) + piece > columns:
                text.append("\n")
                used = 0
            elif used:
                text.append(GAP)
                used += len(GAP)
            text.append(f" {key} ", style="reverse bold")
            text.append(f" {name}", style="" if enabled else "dim")
            used += piece
        self.update(text)
