"""A shift for the TUI's screen tests (fixed clock, queue and refusals at will), standing in
for the real service behind the `ShiftPort` Protocol (tests/test_ui_gateway.py runs the TUI on
the real one): it follows the gateway's own status rules
(proxy/core/agent_status.py), and when `reachable` is False it queues changes as the real
offline queue will."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace

from homeagent.client.checks.context import Progress
from homeagent.client.checks.result import CheckResult, Hint, Status
from homeagent.client.forward import Forwarder
from homeagent.client.ui.shift_port import (
    ActivityEntry,
    Notice,
    PendingChange,
    ShiftSnapshot,
)
from homeagent.proxy.core.agent_status import AgentStatus, StatusError, check_transition


class ShiftRefusedError(Exception):
    """The gateway's refusal, with what to tell the agent (as the session layer's errors)."""

    def __init__(self, hint: Hint) -> None:
        super().__init__(hint.en)
        self.hint = hint


class RulesShift:
    def __init__(self, clock: Callable[[], float], activity: list[ActivityEntry] | None = None):
        self.clock = clock
        self.state = ShiftSnapshot("offline")
        self.queue: list[PendingChange] = []
        self.reachable = True
        self.entries = activity or []
        self.calls: list[str] = []
        self.hold_activity = threading.Event()
        """Cleared: `activity` waits (bounded) until it is set, as a slow gateway would."""
        self.hold_activity.set()

    def snapshot(self) -> ShiftSnapshot:
        """As the service's delivery: once the gateway is back, the queue goes out."""
        self.calls.append("snapshot")
        if self.reachable:
            self.queue.clear()
        return self.state

    def notice(self) -> Notice:
        self.calls.append("notice")
        return Notice(
            "2026-12",
            zh="客户信息仅用于本次服务，不得外传。",
            en="Customer data is for this contact only; never pass it on.",
        )

    def clock_in(self, notice_version: str) -> ShiftSnapshot:
        self.calls.append(f"clock_in {notice_version}")
        now = self.clock()
        self.state = ShiftSnapshot("ready", None, status_since=now, shift_start=now)
        return self.state

    def clock_out(self) -> ShiftSnapshot:
        self.calls.append("clock_out")
        self.state = ShiftSnapshot("offline", status_since=self.clock())
        return self.state

    def set_status(self, status: str, reason: str | None = None) -> ShiftSnapshot:
        self.calls.append(f"set_status {status} {reason}")
        if self.state.status == "offline":
            raise ShiftRefusedError(
                Hint(
                    zh="尚未上班：请先按 i 上班打卡", en="Not clocked in: press i to clock in first"
                )
            )
        try:
            check_transition(AgentStatus(self.state.status), AgentStatus(status), reason)
        except StatusError as err:
            raise ShiftRefusedError(
                Hint(
                    zh=f"网关拒绝了这次状态更改（{err}）",
                    en=f"The gateway refused this change ({err})",
                )
            ) from err
        now = self.clock()
        if not self.reachable:
            self.queue.append(PendingChange(status, reason, now))
        self.state = replace(self.state, status=status, reason=reason, status_since=now)
        return self.state

    def pending_changes(self) -> list[PendingChange]:
        return list(self.queue)

    def activity(self, limit: int = 50) -> list[ActivityEntry]:
        self.calls.append("activity")
        self.hold_activity.wait(timeout=30)
        return self.entries[:limit]

    def report(self, results: Sequence[CheckResult]) -> Hint:
        self.calls.append("report")
        passed = all(r.status is not Status.FAIL for r in results)
        return Hint(zh="网关：通过" if passed else "网关：未通过", en=f"Gateway: passed={passed}")

    def heartbeat(self) -> ShiftSnapshot:
        self.calls.append("heartbeat")
        return self.state

    def recheck_due(self) -> bool:
        return False

    def recheck(self, progress: Callable[[Progress], None]) -> Hint:
        self.calls.append("recheck")
        return Hint(zh="已复检", en="Re-checked")

    def forwarder(self, port: int) -> Forwarder | None:
        return None  # no gateway behind this stand-in to carry traffic to
