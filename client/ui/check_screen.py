"""The check screen: the checklist filling in live as the checks run in a worker, the
microphone's level while the noise check records, and the outcome in one sentence."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Static

from ..checks.readout import label
from ..checks.result import CheckResult, Hint, Status
from .checklist_row import ChecklistRow
from .key_bar import KeyBar
from .language import app_lang, say
from .level_meter import LevelMeter
from .messages import (
    BrowserTrustKnown,
    CheckFinished,
    ChecklistFinished,
    CheckProgressed,
    CheckStarted,
    GatewayVerdict,
)
from .texts import (
    ALL_PASSED,
    CHECKS_TITLE,
    LIMITS_BUNDLED,
    LIMITS_GATEWAY,
    NOT_PASSED,
    PASSED_WITH_WARNINGS,
    PROGRESS_SUMMARY,
)


class CheckScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "app.run_checks", "Check again"),
        Binding("p", "app.show_report", "Report"),
        Binding("t", "app.trust_browsers", "Trust browser"),
    ]

    running: reactive[bool] = reactive(False)
    """The checks are running (the app's worker sets it; `r` waits until they finish)."""
    results: reactive[tuple[CheckResult, ...] | None] = reactive(None)
    """The latest complete run's results, None before the first finished."""
    verdict: reactive[Hint | None] = reactive(None)
    """What the gateway said of the report made from them (enrolled PCs), once it answered."""
    browser_note: reactive[Hint | None] = reactive(None)
    """What to say of the browsers' trust in the gateway (enrolled PCs), None when all is well."""
    browser_untrusted: bool = False
    """No browser trusts the gateway yet: `t` offers to fix it."""

    def __init__(self, names: list[str], enrolled: bool) -> None:
        super().__init__(id="checks")
        self.composed = False
        """Its children exist (watchers fire before they do)."""
        self.names = names
        """The checks on the list, in checklist order."""
        self.enrolled = enrolled
        self.done = 0
        """Checks finished in the current run."""

    def compose(self) -> ComposeResult:
        yield Static(id="checks-title", classes="screen-title")
        yield Static(id="checks-limits", classes="screen-subtitle")
        with VerticalScroll(id="checklist"):
            for name in self.names:
                yield ChecklistRow(name)
        yield LevelMeter(id="level-meter")
        yield Static(id="checks-summary")
        yield KeyBar()

    def on_mount(self) -> None:
        self.composed = True
        self.watch(self.app, "lang", self.show_texts)

    def row(self, check: str) -> ChecklistRow:
        return self.query_one(f"#check-{check}", ChecklistRow)

    @on(CheckStarted)
    def check_started(self, message: CheckStarted) -> None:
        if message.check == self.names[0]:
            self.done = 0
            for name in self.names:
                self.row(name).result = None
        self.row(message.check).start()
        self.show_summary()

    @on(CheckProgressed)
    def check_progressed(self, message: CheckProgressed) -> None:
        progress = message.progress
        if progress.check in self.names:
            self.row(progress.check).progress = progress
        meter = self.query_one(LevelMeter)
        meter.level = progress.value if progress.phase == "recording" else None

    @on(CheckFinished)
    def check_finished(self, message: CheckFinished) -> None:
        self.done += 1
        self.query_one(LevelMeter).level = None
        self.row(message.result.name).finish(message.result)
        self.show_summary()

    @on(ChecklistFinished)
    def checklist_finished(self, message: ChecklistFinished) -> None:
        self.results = tuple(message.results)
        self.running = False

    @on(GatewayVerdict)
    def gateway_verdict(self, message: GatewayVerdict) -> None:
        self.verdict = message.said

    def watch_verdict(self) -> None:
        self.show_summary()

    @on(BrowserTrustKnown)
    def browser_trust_known(self, message: BrowserTrustKnown) -> None:
        self.browser_untrusted = message.untrusted
        self.browser_note = message.note
        self.refresh_bindings()

    def watch_browser_note(self) -> None:
        self.show_summary()

    def watch_running(self) -> None:
        self.show_summary()
        self.refresh_bindings()

    def watch_results(self) -> None:
        self.show_summary()

    def show_texts(self, _: object = None) -> None:
        self.query_one("#checks-title", Static).update(say(self, CHECKS_TITLE))
        limits = LIMITS_GATEWAY if self.enrolled else LIMITS_BUNDLED
        self.query_one("#checks-limits", Static).update(say(self, limits))
        self.show_summary()

    def show_summary(self) -> None:
        if not self.composed:
            return
        summary = self.query_one("#checks-summary", Static)
        results = self.results
        summary.set_classes("")
        if self.running or results is None:
            summary.update(say(self, PROGRESS_SUMMARY, done=self.done, total=len(self.names)))
            return
        lang = app_lang(self)
        comma = "、" if lang == "zh" else ", "
        failed = [label(r.name, lang) for r in results if r.status is Status.FAIL]
        warned = [label(r.name, lang) for r in results if r.status is Status.WARN]
        if failed:
            text = say(self, NOT_PASSED, count=len(failed), names=comma.join(failed))
            summary.set_classes("not-passed")
        elif warned:
            text = say(self, PASSED_WITH_WARNINGS, count=len(warned), names=comma.join(warned))
            summary.set_classes("warned")
        else:
            text = say(self, ALL_PASSED)
            summary.set_classes("passed")
        if self.verdict is not None:
            text = f"{text}\n{say(self, self.verdict)}"
        if self.browser_note is not None:
            text = f"{text}\n{say(self, self.browser_note)}"
        summary.update(text)
