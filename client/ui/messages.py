"""Messages the app's workers post to the screens: a check starting, its live progress, its
result, the checklist done, and the shift's new state. None bubbles: each is for the one node
it is posted to (a screen's message bubbling to the app that relays it would come round again)."""

from __future__ import annotations

from textual.message import Message
from textual.screen import Screen

from ..checks.context import Progress
from ..checks.result import CheckResult, Hint
from .shift_port import ActivityEntry, PendingChange, ShiftSnapshot


class CheckStarted(Message, bubble=False):
    def __init__(self, check: str) -> None:
        super().__init__()
        self.check = check


class CheckProgressed(Message, bubble=False):
    """A step of a check in progress, posted from the checking thread."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress


class CheckFinished(Message, bubble=False):
    def __init__(self, result: CheckResult) -> None:
        super().__init__()
        self.result = result


class ChecklistFinished(Message, bubble=False):
    def __init__(self, results: list[CheckResult]) -> None:
        super().__init__()
        self.results = results


class GatewayVerdict(Message, bubble=False):
    """What the gateway said of the posture report, in one sentence."""

    def __init__(self, said: Hint) -> None:
        super().__init__()
        self.said = said


class BrowserTrustKnown(Message, bubble=False):
    """Whether the agent's browsers trust the gateway: `note` is the line to show under the
    checklist (None: they do), `untrusted` whether the agent may be offered to fix it."""

    def __init__(self, note: Hint | None, untrusted: bool) -> None:
        super().__init__()
        self.note = note
        self.untrusted = untrusted


class ShiftChanged(Message, bubble=False):
    """The shift as the service now reports it, with the changes still waiting to be sent."""

    def __init__(
        self, snapshot: ShiftSnapshot, pending: list[PendingChange], settles: bool = True
    ) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.pending = pending
        self.settles = settles
        """It answers the agent's own call (the keys may be used again); False for a look
        the app takes by itself now and then."""


class ActivityLoaded(Message, bubble=False):
    def __init__(self, entries: list[ActivityEntry]) -> None:
        super().__init__()
        self.entries = entries


class ForScreen(Message, bubble=False):
    """A worker's message on its way to a screen, through the app's queue."""

    def __init__(self, screen: Screen[None], message: Message) -> None:
        super().__init__()
        self.screen = screen
        self.message = message
