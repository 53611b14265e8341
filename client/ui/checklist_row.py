"""One check on the checklist: an icon, its name, its status, what it measured, and under it
the live progress while it runs or what to do when it did not pass."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import ProgressBar, Static

from ..checks.context import Progress
from ..checks.readout import STATUS_WORDS, describe, figures, label, padded
from ..checks.result import CheckResult, Status
from .language import app_lang, say
from .texts import RUNNING, WAITING

ICONS: dict[Status, tuple[str, str]] = {
    # icon and the style of the row's status: readable without colour too
    Status.PASS: ("✓", "bold green"),
    Status.WARN: ("!", "bold yellow"),
    Status.FAIL: ("✗", "bold red"),
    Status.SKIP: ("-", "dim"),
}
LABEL_COLUMNS = 18
"""The longest name in either language (`Background noise`, `USB 存储设备`) and a gap."""


class ChecklistRow(Vertical):
    """A check's row; the check screen feeds it progress and the result."""

    running: reactive[bool] = reactive(False)
    """The check is running now (its progress shows under it)."""
    progress: reactive[Progress | None] = reactive(None)
    """The latest step the check reported while running."""
    result: reactive[CheckResult | None] = reactive(None)
    """The check's result, once it finished; None while waiting or running."""

    def __init__(self, check: str) -> None:
        super().__init__(id=f"check-{check}", classes="checklist-row")
        self.composed = False
        """Its children exist (watchers fire before they do)."""
        self.check = check

    def compose(self) -> ComposeResult:
        yield Static(classes="row-line")
        yield ProgressBar(total=1.0, show_eta=False, show_percentage=False, classes="row-progress")
        yield Static(classes="row-hint")

    def on_mount(self) -> None:
        self.composed = True
        self.watch(self.app, "lang", self.show, init=False)
        self.show()

    def watch_running(self) -> None:
        self.show()

    def watch_progress(self) -> None:
        self.show()

    def watch_result(self) -> None:
        self.show()

    def start(self) -> None:
        self.result = None
        self.progress = None
        self.running = True

    def finish(self, result: CheckResult) -> None:
        self.running = False
        self.result = result

    def show(self, _: object = None) -> None:
        if not self.composed:
            return
        lang = app_lang(self)
        line = Text(no_wrap=True, overflow="ellipsis")
        name = label(self.check, lang)
        result = self.result
        if result is not None:
            icon, style = ICONS[result.status]
            word = STATUS_WORDS[result.status][0 if lang == "zh" else 1]
            line.append(f" {icon} ", style=style)
            line.append(padded(name, LABEL_COLUMNS))
            line.append(padded(word, 8), style=style)
            line.append(figures(result, lang))
        elif self.running:
            line.append(" > ", style="bold")
            line.append(padded(name, LABEL_COLUMNS), style="bold")
            progress = self.progress
            line.append(
                describe(progress, lang).partition(" · ")[2] if progress else say(self, RUNNING)
            )
        else:
            line.append(" . ", style="dim")
            line.append(padded(name, LABEL_COLUMNS), style="dim")
            line.append(say(self, WAITING), style="dim")
        self.query_one(".row-line", Static).update(line)
        bar = self.query_one(ProgressBar)
        fraction = self.progress.fraction if self.progress else None
        bar.display = self.running and fraction is not None
        if fraction is not None:
            bar.update(progress=fraction)
        hint = self.query_one(".row-hint", Static)
        hint.display = result is not None and result.hint is not None
        if result is not None and result.hint is not None:
            hint.update(Text("→ " + result.hint(lang)))
        self.set_class(result is not None and result.status is Status.FAIL, "failed")
