"""What the work and activity screens need from the agent's shift, as a Protocol: the session
layer's service is wired in through one adapter, and the screens depend on nothing else.
Every method may block (network): the app calls them only from thread workers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ..checks.result import CheckResult, Hint

if TYPE_CHECKING:
    from ..checks.context import Progress
    from ..forward import Forwarder  # asyncio and ssl load only once the agent clocks in


@dataclass(frozen=True, slots=True)
class ShiftSnapshot:
    """Where the agent stands now, as the work screen shows it."""

    status: str
    """`offline` (clocked out), `not_ready`, `ready`, `busy`, `after_call_work`, `break`."""
    reason: str | None = None
    """The not-ready or break reason code (`meeting`), when there is one."""
    status_since: float | None = None
    """Unix seconds of the change into this status."""
    shift_start: float | None = None
    """Unix seconds of clock-in; None while clocked out."""
    notice: Hint | None = None
    """Something about the shift record the agent must know (an unreadable file set aside)."""


@dataclass(frozen=True, slots=True)
class PendingChange:
    """A status change kept on this PC until the gateway can take it (the offline queue)."""

    status: str
    reason: str | None
    at: float
    """Unix seconds when the agent made it."""


@dataclass(frozen=True, slots=True)
class Notice:
    """The confidentiality notice the agent acknowledges at clock-in."""

    version: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class ActivityEntry:
    """One of the gateway's decisions on this agent's traffic."""

    at: str
    """ISO 8601 time of the flow, as the gateway recorded it."""
    decision: str | None
    """`block`, `allow`, `report` (would block)."""
    rule: str | None
    host: str | None
    path: str | None
    masked: dict[str, int] = field(default_factory=dict)
    """Masked values per detector (`cn_mobile`: 2)."""


class ShiftPort(Protocol):
    """The agent's shift with the gateway; the session layer's service behind one adapter.
    Failures raise an exception with a `hint` (a Hint) saying what to do next."""

    def snapshot(self) -> ShiftSnapshot: ...

    def notice(self) -> Notice: ...

    def clock_in(self, notice_version: str) -> ShiftSnapshot: ...

    def clock_out(self) -> ShiftSnapshot: ...

    def set_status(self, status: str, reason: str | None = None) -> ShiftSnapshot:
        """The new status, recorded by the gateway or queued on this PC when it is out of
        reach (it then shows among the pending changes)."""
        ...

    def pending_changes(self) -> list[PendingChange]: ...

    def activity(self, limit: int = 50) -> list[ActivityEntry]: ...

    def report(self, results: Sequence[CheckResult]) -> Hint:
        """Send the checklist's results as the signed posture report; the gateway's verdict in
        one sentence (during a shift, also what it did to the status)."""
        ...

    def heartbeat(self) -> ShiftSnapshot:
        """Tell the gateway the client is still there (renewing the token when due); the shift
        after it (clocked out when the gateway ended it). A no-op when clocked out."""
        ...

    def recheck_due(self) -> bool:
        """Whether the scheduled re-check has come (no network)."""
        ...

    def recheck(self, progress: Callable[[Progress], None]) -> Hint:
        """Re-run the checks under the gateway's limits, send them, apply what they mean for
        the status; what happened, in one sentence."""
        ...

    def forwarder(self, port: int) -> Forwarder | None:
        """The local forwarder for this shift on 127.0.0.1 `port`, built but not started; None
        when there is none to carry traffic to (a stand-in without a gateway)."""
        ...
