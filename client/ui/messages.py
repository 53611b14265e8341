"""Messages the app's workers post to the screens: a check starting, its live progress, its
result, the checklist done, and the shift's new state."""

from __future__ import annotations

from textual.message import Message

from ..checks.context import Progress
from ..checks.result import CheckResult
from .shift_port import ActivityEntry, PendingChange, ShiftSnapshot


class CheckStarted(Message):
    def __init__(self, check: str) -> None:
        super().__init__()
        self.check = check


class CheckProgressed(Message):
    """A step of a check in progress, posted from the checking thread."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress


class CheckFinished(Message):
    def __init__(self, result: CheckResult) -> None:
        super().__init__()
        self.result = result


class ChecklistFinished(Message):
    def __init__(self, results: list[CheckResult]) -> None:
        super().__init__()
        self.results = results


class ShiftChanged(Message):
    """The shift as the service now reports it, with the changes still waiting to be sent."""

    def __init__(self, snapshot: ShiftSnapshot, pending: list[PendingChange]) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.pending = pending


class ActivityLoaded(Message):
    def __init__(self, entries: list[ActivityEntry]) -> None:
        super().__init__()
        self.entries = entries
