"""The agent's TUI: the app built by `make_app`, its screens as modes (checks, work, activity),
and every blocking call (checks, the gateway) in a worker that reports back by messages."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from ..checks.checklist import checklist_names, run_each
from ..checks.context import CheckContext, GatewayEndpoint, Progress
from ..checks.report import readable, report_json
from ..checks.result import CheckResult, Hint
from ..lang import Lang
from .activity_screen import ActivityScreen
from .check_screen import CheckScreen
from .confirm_dialog import ConfirmDialog
from .error_dialog import ErrorDialog, hint_for
from .help_screen import HelpScreen
from .messages import (
    ActivityLoaded,
    BrowserTrustKnown,
    CheckFinished,
    ChecklistFinished,
    CheckProgressed,
    CheckStarted,
    ForScreen,
    GatewayVerdict,
    ShiftChanged,
)
from .notice_dialog import NoticeDialog
from .reason_dialog import ReasonDialog
from .report_dialog import ReportDialog
from .shift_port import ShiftPort, ShiftSnapshot
from .texts import (
    APP_TITLE,
    BROWSER_NOT_TRUSTED,
    BROWSER_TRUSTED,
    CLOCK_OUT_KEYS,
    CLOCK_OUT_QUESTION,
    NOT_ENROLLED,
    TRUST_KEYS,
    TRUST_QUESTION,
)
from .work_screen import WorkScreen

if TYPE_CHECKING:
    from ..browser_trust import BrowserTrust
    from ..checks.limits import Thresholds  # ruamel.yaml loads in the checking worker
    from ..forward import Forwarder  # asyncio servers and ssl load at clock-in


def bundled_limits() -> Thresholds:
    from ..checks.limits import bundled_thresholds  # YAML is read in the worker, not at launch

    return bundled_thresholds()


@dataclass(frozen=True, slots=True)
class UiConfig:
    """Everything the app is built from, so the CLI and the tests build it the same way."""

    lang: Lang = "en"
    thresholds: Callable[[], Thresholds] = bundled_limits
    """The limits the checks are held to; called in the checking worker (it may be a network
    call to the gateway). The bundled default policy's before enrolment."""
    gateway: GatewayEndpoint | None = None
    """Where the network check measures; None before enrolment (it is skipped)."""
    shift: ShiftPort | None = None
    """The agent's shift with the gateway; None before enrolment."""
    only: tuple[str, ...] | None = None
    """The checks on the checklist (all by default)."""
    run_checks_at_start: bool = True
    input_device: str | None = None
    clock: Callable[[], float] = time.time
    """Unix seconds now, for the work screen's timers."""
    first_mode: str = "checks"
    shift_poll_seconds: float = 30.0
    """How often the work screen asks the service how the shift stands (pending changes)."""
    heartbeat_seconds: float = 60.0
    """How often, during a shift, the gateway hears from the client (and the token is renewed
    when due) and the scheduled re-check is looked for."""
    browsers: BrowserTrust | None = None
    """The agent's browsers and the enrolled CA: after each checklist the check screen says
    when no browser trusts the gateway yet, and `t` offers to fix it. None: not asked (before
    enrolment, and in tests that are not about it)."""
    forward_port: int = 17080
    """The local forwarder's port on 127.0.0.1 during the shift: `homeagent forward`'s default,
    so the browser's proxy setting is the same either way (0: any free port, for tests)."""


SHIFT_ACTIONS = frozenset(
    {
        "clock_in",
        "clock_out",
        "set_ready",
        "set_not_ready",
        "set_break",
        "set_after_call_work",
    }
)


class HomeagentApp(App[None]):
    CSS_PATH = "homeagent.tcss"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help", key_display="F1"),
        Binding("c", "show_checks", "Checks"),
        Binding("w", "show_work", "Work"),
        Binding("a", "show_activity", "Activity"),
        Binding("l", "switch_language", "Language"),
        Binding("q", "quit", "Quit"),
    ]

    lang: reactive[Lang] = reactive("en")
    """The language every screen speaks; `l` switches it live."""

    def __init__(self, config: UiConfig) -> None:
        super().__init__()
        self.config = config
        self.lang = config.lang
        enrolled = config.shift is not None
        self.check_screen = CheckScreen(checklist_names(config.only), config.gateway is not None)
        self.work_screen = WorkScreen(enrolled, config.clock)
        self.activity_screen = ActivityScreen(enrolled)
        self.polling = False
        """A look at the shift is under way (one at a time)."""
        self.shift_calls = 0
        """Calls that changed the shift, so far (a look older than the last is dropped)."""
        self.results: list[CheckResult] | None = None
        """The latest complete checklist's results (the posture report is made from them)."""
        self.forwarder: Forwarder | None = None
        """The local forwarder while the shift carries traffic (started at clock-in)."""
        self.ticking = False
        """A heartbeat (and maybe a re-check) is under way (one at a time)."""
        self.add_mode("checks", lambda: self.check_screen)
        self.add_mode("work", lambda: self.work_screen)
        self.add_mode("activity", lambda: self.activity_screen)

    def on_mount(self) -> None:
        self.title = APP_TITLE(self.lang)
        self.switch_mode(self.config.first_mode)
        if self.config.run_checks_at_start:
            self.action_run_checks()
        if self.config.shift is not None:
            self.start_shift_call()
            self.refresh_shift()
            self.set_interval(self.config.shift_poll_seconds, self.poll_shift)
            self.set_interval(self.config.heartbeat_seconds, self.shift_tick)

    def watch_lang(self, lang: Lang) -> None:
        self.title = APP_TITLE(lang)

    # --- navigation and help -----------------------------------------------------------------

    def action_show_checks(self) -> None:
        self.switch_mode("checks")

    def action_show_work(self) -> None:
        self.switch_mode("work")

    def action_show_activity(self) -> None:
        self.switch_mode("activity")
        self.action_reload()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_switch_language(self) -> None:
        self.lang = "en" if self.lang == "zh" else "zh"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys that would have to wait are shown dimmed and do nothing: checking again while
        the checks run, a shift change while the last one is on its way."""
        if action == "run_checks" and self.check_screen.running:
            return None
        if action in SHIFT_ACTIONS and self.work_screen.busy:
            return None
        if action == "trust_browsers":
            return self.check_screen.browser_untrusted  # hidden unless there is something to fix
        return True

    def tell(self, screen: Screen[None], message: Message) -> None:
        """From a worker thread: `message` to `screen` by way of the app, whose queue takes
        messages from any thread without blocking it (a recording must not wait for the
        screen to redraw); a screen not shown yet cannot take one from another thread."""
        self.post_message(ForScreen(screen, message))

    @on(ForScreen)
    def for_screen(self, relay: ForScreen) -> None:
        relay.screen.post_message(relay.message)

    def show_error(self, error: BaseException) -> None:
        self.push_screen(ErrorDialog(hint_for(error)))

    @on(Worker.StateChanged)
    def worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a worker's failure reaches the agent: as a dialog saying what to do."""
        if event.state is not WorkerState.ERROR:
            return
        if event.worker.group == "checks":
            self.check_screen.running = False
        if event.worker.group == "shift":
            self.work_screen.busy = False
        if event.worker.group == "activity":
            self.activity_screen.loading_entries = False
        if event.worker.group == "shift-poll":
            return  # a look the agent did not ask for: the next one tries again, no dialog
        error = event.worker.error
        if event.worker.group == "shift-tick" and error is not None:
            # every minute while the gateway is away: a passing note, not a dialog to close
            self.notify(hint_for(error)(self.lang), severity="warning", timeout=10)
            return
        if error is not None:
            self.show_error(error)

    # --- the checks --------------------------------------------------------------------------

    def action_run_checks(self) -> None:
        if self.check_screen.running:
            return
        self.check_screen.running = True
        self.check_worker()

    @work(thread=True, exclusive=True, group="checks", exit_on_error=False)
    def check_worker(self) -> None:
        screen = self.check_screen

        def progressed(progress: Progress) -> None:
            self.tell(screen, CheckProgressed(progress))

        def started(name: str) -> None:
            self.tell(screen, CheckStarted(name))

        def finished(result: CheckResult) -> None:
            self.tell(screen, CheckFinished(result))

        ctx = CheckContext(
            lang=self.lang,
            input_device=self.config.input_device,
            gateway=self.config.gateway,
            progress=progressed,
        )
        results = run_each(self.config.thresholds(), ctx, screen.names, started, finished)
        # through the app's queue too, so it arrives after the last check's own messages
        self.post_message(ChecklistFinished(results))
        if self.config.browsers is not None:
            self.tell(screen, browser_trust(self.config.browsers))

    @on(ChecklistFinished)
    def checks_done(self, message: ChecklistFinished) -> None:
        self.results = message.results
        self.check_screen.post_message(ChecklistFinished(message.results))
        if self.config.shift is not None and self.config.only is None:
            self.check_screen.verdict = None
            self.report_worker(self.config.shift, message.results)

    @work(thread=True, exclusive=True, group="report", exit_on_error=False)
    def report_worker(self, shift: ShiftPort, results: list[CheckResult]) -> None:
        """The full checklist on an enrolled PC is the posture report clock-in needs: send it
        and show the gateway's verdict under the checklist."""
        self.tell(self.check_screen, GatewayVerdict(shift.report(results)))
        self.post_shift(shift, shift.snapshot(), settles=False)

    def action_trust_browsers(self) -> None:
        browsers = self.config.browsers
        if browsers is None or not self.check_screen.browser_untrusted:
            return
        from ..session.first_contact import ca_fingerprint

        fingerprint = ca_fingerprint(browsers.ca_pem)
        question = Hint(
            zh=TRUST_QUESTION.zh.format(fingerprint=fingerprint),
            en=TRUST_QUESTION.en.format(fingerprint=fingerprint),
        )

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.trust_worker(browsers)

        self.push_screen(ConfirmDialog(question, TRUST_KEYS), answered)

    @work(thread=True, exclusive=True, group="trust", exit_on_error=False)
    def trust_worker(self, browsers: BrowserTrust) -> None:
        browsers.trust_all()
        self.tell(self.check_screen, BrowserTrustKnown(BROWSER_TRUSTED, untrusted=False))

    def action_show_report(self) -> None:
        report = readable(report_json(self.results)) if self.results is not None else None
        self.push_screen(ReportDialog(report))

    # --- the shift ---------------------------------------------------------------------------

    def shift_or_explain(self) -> ShiftPort | None:
        """The shift service when a change may start now: before enrolment a dialog says how
        to enrol; while a call to the gateway is under way the key waits (changes reach the
        gateway one at a time, in the order pressed)."""
        if self.config.shift is None:
            self.push_screen(ErrorDialog(NOT_ENROLLED))
            return None
        if self.work_screen.busy:
            self.bell()
            return None
        return self.config.shift

    @work(thread=True, group="shift", exit_on_error=False)
    def refresh_shift(self) -> None:
        shift = self.config.shift
        if shift is not None:
            snapshot = shift.snapshot()
            self.post_shift(shift, snapshot)
            if snapshot.status != "offline":  # a shift from before the app opened goes on
                self.call_from_thread(self.start_forwarding, shift)  # type: ignore[arg-type]  # mypy cannot solve Textual's `T | Awaitable[T]` for a coroutine

    def start_shift_call(self) -> None:
        """A call that changes the shift begins: the keys wait, and a look taken before it
        is out of date."""
        self.work_screen.busy = True
        self.shift_calls += 1

    def poll_shift(self) -> None:
        """Now and then: the queue shrinks as the gateway takes waiting changes, and the
        gateway may have changed the status (a shift it ended)."""
        if not self.work_screen.busy and not self.polling:
            self.polling = True
            self.poll_worker(self.shift_calls)

    @work(thread=True, group="shift-poll", exit_on_error=False)
    def poll_worker(self, calls_before: int) -> None:
        shift = self.config.shift
        try:
            if shift is not None:
                changed = ShiftChanged(shift.snapshot(), shift.pending_changes(), settles=False)
                self.call_from_thread(self.show_poll, calls_before, changed)
        finally:
            self.polling = False

    def show_poll(self, calls_before: int, changed: ShiftChanged) -> None:
        if calls_before == self.shift_calls:  # else a change since made it stale
            self.work_screen.post_message(changed)

    def post_shift(self, shift: ShiftPort, snapshot: ShiftSnapshot, settles: bool = True) -> None:
        """From a worker thread: the new state and queue to the work screen."""
        changed = ShiftChanged(snapshot, shift.pending_changes(), settles=settles)
        self.tell(self.work_screen, changed)

    # --- heartbeat and re-checks -------------------------------------------------------------

    def shift_tick(self) -> None:
        """About once a minute: the gateway hears from the client, and the re-check runs
        when its time has come (both in a worker: the screens never wait for them)."""
        if not self.ticking and self.config.shift is not None:
            self.ticking = True
            self.tick_worker(self.config.shift)

    @work(thread=True, group="shift-tick", exit_on_error=False)
    def tick_worker(self, shift: ShiftPort) -> None:
        try:
            snapshot = shift.heartbeat()
            if snapshot.status == "offline":
                self.call_from_thread(self.stop_forwarding)  # type: ignore[arg-type]  # as above: `T | Awaitable[T]`
                return
            if shift.recheck_due() and not self.check_screen.running:
                screen = self.check_screen

                def progressed(progress: Progress) -> None:
                    self.tell(screen, CheckProgressed(progress))

                said = shift.recheck(progressed)
                self.call_from_thread(self.notify, said(self.lang), timeout=15)
                self.post_shift(shift, shift.snapshot(), settles=False)
        finally:
            self.ticking = False

    def change_status(self, status: str, reason: str | None = None) -> None:
        shift = self.shift_or_explain()
        if shift is None:
            return
        self.start_shift_call()
        self.status_worker(shift, status, reason)

    @work(thread=True, group="shift", exit_on_error=False)
    def status_worker(self, shift: ShiftPort, status: str, reason: str | None) -> None:
        self.post_shift(shift, shift.set_status(status, reason))

    def action_set_ready(self) -> None:
        self.change_status("ready")

    def action_set_break(self) -> None:
        self.change_status("break")

    def action_set_after_call_work(self) -> None:
        self.change_status("after_call_work")

    def action_set_not_ready(self) -> None:
        if self.shift_or_explain() is None:
            return

        def chosen(reason: str | None) -> None:
            if reason is not None:
                self.change_status("not_ready", reason)

        self.push_screen(ReasonDialog(), chosen)

    def action_clock_in(self) -> None:
        shift = self.shift_or_explain()
        if shift is None:
            return
        self.start_shift_call()
        self.notice_worker(shift)

    @work(thread=True, group="shift", exit_on_error=False)
    def notice_worker(self, shift: ShiftPort) -> None:
        notice = shift.notice()

        def answered(agreed: bool | None) -> None:
            if agreed:
                self.clock_in_worker(shift, notice.version)
            else:
                self.work_screen.busy = False

        self.call_from_thread(self.push_screen, NoticeDialog(notice), answered)

    @work(thread=True, group="shift", exit_on_error=False)
    def clock_in_worker(self, shift: ShiftPort, notice_version: str) -> None:
        self.post_shift(shift, shift.clock_in(notice_version))
        self.call_from_thread(self.start_forwarding, shift)  # type: ignore[arg-type]  # mypy cannot solve Textual's `T | Awaitable[T]` for a coroutine

    def action_clock_out(self) -> None:
        shift = self.shift_or_explain()
        if shift is None:
            return

        def answered(confirmed: bool | None) -> None:
            if confirmed and not self.work_screen.busy:
                self.start_shift_call()
                self.clock_out_worker(shift)

        self.push_screen(ConfirmDialog(CLOCK_OUT_QUESTION, CLOCK_OUT_KEYS), answered)

    @work(thread=True, group="shift", exit_on_error=False)
    def clock_out_worker(self, shift: ShiftPort) -> None:
        snapshot = shift.clock_out()
        self.call_from_thread(self.stop_forwarding)  # type: ignore[arg-type]  # as above: `T | Awaitable[T]`
        self.post_shift(shift, snapshot)

    # --- carrying the traffic ----------------------------------------------------------------

    async def start_forwarding(self, shift: ShiftPort) -> bool:
        """At clock-in: the local forwarder on this app's event loop, and the two lines that
        tell the agent how to point the browser at it. Whether it is forwarding now."""
        if self.forwarder is not None:
            return True
        forwarder = shift.forwarder(self.config.forward_port)
        if forwarder is None:
            return False
        from ..forward.browser_setup import browser_setup
        from ..forward.server import HOST

        try:
            await forwarder.start()
        except OSError as err:
            self.push_screen(ErrorDialog(forward_port_hint(self.config.forward_port, err)))
            return False
        self.forwarder = forwarder
        self.work_screen.forwarding = browser_setup(forwarder.pac_url, HOST, forwarder.port)
        self.run_worker(self.forward_until_session_ends(forwarder), group="forward")
        return True

    async def forward_until_session_ends(self, forwarder: Forwarder) -> None:
        """The forwarder stops by itself once the session is gone (clocked out elsewhere, or
        the gateway ended the shift)."""
        await forwarder.watch_session()
        if self.forwarder is forwarder:
            self.forwarder = None
            self.work_screen.forwarding = None

    async def stop_forwarding(self) -> bool:
        """At clock-out (and on quitting): nothing passes any more, open tunnels are cut.
        Whether a forwarder was running."""
        forwarder, self.forwarder = self.forwarder, None
        self.work_screen.forwarding = None
        if forwarder is None:
            return False
        await forwarder.stop()
        return True

    async def action_quit(self) -> None:
        await self.stop_forwarding()
        self.exit()

    # --- activity ----------------------------------------------------------------------------

    def action_reload(self) -> None:
        if self.config.shift is not None:
            self.activity_screen.loading_entries = True
            self.activity_worker(self.config.shift)

    @work(thread=True, exclusive=True, group="activity", exit_on_error=False)
    def activity_worker(self, shift: ShiftPort) -> None:
        self.tell(self.activity_screen, ActivityLoaded(shift.activity()))


def forward_port_hint(port: int, err: OSError) -> Hint:
    reason = err.strerror or str(err)
    return Hint(
        zh=f"无法在 127.0.0.1 端口 {port} 上启动转发（{reason}）：可能已有一个 homeagent forward "
        "在运行；请关闭它，然后重新打开 homeagent",
        en=f"Cannot forward on 127.0.0.1 port {port} ({reason}): another `homeagent forward` "
        "may be running; close it, then open homeagent again",
    )


def browser_trust(browsers: BrowserTrust) -> BrowserTrustKnown:
    """What the check screen says of the browsers' trust in the gateway (certutil runs: call
    from a worker)."""
    from ..browser_trust import TrustError

    try:
        trusted = bool(browsers.trusted_in())
    except TrustError as err:  # no certutil: say how to get it; nothing to offer
        return BrowserTrustKnown(err.hint, untrusted=False)
    return BrowserTrustKnown(None if trusted else BROWSER_NOT_TRUSTED, untrusted=not trusted)


def make_app(config: UiConfig | None = None) -> HomeagentApp:
    """The app for `config` (the CLI's, or a test's)."""
    return HomeagentApp(config or UiConfig())
