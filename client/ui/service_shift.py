"""The one adapter from the session layer's `ShiftService` to the screens' `ShiftPort`: the
service's answers turned into what the work, check and activity screens show."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..checks.labels import check_label
from ..checks.result import CheckResult, Hint
from ..session.answers import PostureVerdict, StatusSnapshot
from ..session.service import ShiftService
from .shift_port import ActivityEntry, Notice, PendingChange, ShiftSnapshot

if TYPE_CHECKING:
    from ..checks.context import Progress
    from ..forward import Forwarder


class ServiceShift:
    """`ShiftPort` over a real `ShiftService` (every call blocks: thread workers only)."""

    def __init__(self, service: ShiftService) -> None:
        self.service = service

    def snapshot(self) -> ShiftSnapshot:
        """The shift as this PC has it; changes waiting in the sealed queue are offered to the
        gateway first (it may be back), and stay queued when it is still out of reach."""
        status = self.service.status()
        if status.pending and status.clocked_in:
            status = self.service.deliver()
        return shift_snapshot(status)

    def notice(self) -> Notice:
        notice = self.service.settings().notice
        return Notice(notice.version, notice.zh, notice.en)

    def clock_in(self, notice_version: str) -> ShiftSnapshot:
        self.service.clock_in(notice_version)
        return self.snapshot()

    def clock_out(self) -> ShiftSnapshot:
        self.service.clock_out()
        return self.snapshot()

    def set_status(self, status: str, reason: str | None = None) -> ShiftSnapshot:
        return shift_snapshot(self.service.set_status(status, reason))

    def pending_changes(self) -> list[PendingChange]:
        return [
            PendingChange(change.status.value, change.reason, change.at)
            for change in self.service.status().pending
        ]

    def activity(self, limit: int = 50) -> list[ActivityEntry]:
        return [
            ActivityEntry(
                at=str(item["at"]),
                decision=item.get("decision"),
                rule=item.get("rule"),
                host=item.get("host"),
                path=item.get("path"),
                masked=dict(item.get("masked") or {}),
            )
            for item in self.service.activity(limit)
        ]

    def report(self, results: Sequence[CheckResult]) -> Hint:
        verdict = self.service.send_posture(results)
        if self.service.session is not None and self.service.status().clocked_in:
            # during a shift a full check is a re-check: it may change the status
            follow_up = self.service.follow_posture(verdict.failing, verdict.warnings)
            return follow_up.message
        return verdict_hint(verdict)

    def heartbeat(self) -> ShiftSnapshot:
        if self.service.session is not None:
            self.service.heartbeat()
        return self.snapshot()

    def recheck_due(self) -> bool:
        due = self.service.next_recheck_at()
        return due is not None and due <= time.time()

    def recheck(self, progress: Callable[[Progress], None]) -> Hint:
        return self.service.recheck(progress).message

    def forwarder(self, port: int) -> Forwarder | None:
        from ..forward import Forwarder, SessionWatch, gateway_target

        enrolment = self.service.enrolment
        if enrolment is None:
            return None
        return Forwarder(gateway_target(enrolment), SessionWatch(self.service.home), port=port)


def shift_snapshot(status: StatusSnapshot) -> ShiftSnapshot:
    """The work screen's view of the service's status (clocked out reads `offline`)."""
    notice = status.set_aside_hint()
    if not status.clocked_in:
        return ShiftSnapshot("offline", status_since=status.since, notice=notice)
    return ShiftSnapshot(
        status.status.value, status.reason, status.since, status.shift_start, notice
    )


def verdict_hint(verdict: PostureVerdict) -> Hint:
    """The gateway's verdict on the report, and what the agent may do next."""
    if verdict.passed:
        warned = _names(verdict.warnings)
        if warned:
            return Hint(
                zh=f"网关：通过（有提醒：{warned.zh}）。按 w 再按 i 上班打卡。",
                en=f"Gateway: passed (with warnings: {warned.en}). Press w, then i to clock in.",
            )
        return Hint(
            zh="网关：通过。按 w 再按 i 上班打卡。",
            en="Gateway: passed. Press w, then i to clock in.",
        )
    failing = _names(verdict.failing)
    return Hint(
        zh=f"网关：未通过（{failing.zh}），暂不能上班打卡。请按提示处理后按 r 重新检查。",
        en=f"Gateway: not passed ({failing.en}); you cannot clock in yet. Do what is said "
        "above, then press r to check again.",
    )


def _names(checks: Sequence[str]) -> Hint:
    return Hint(
        zh="、".join(check_label(name).zh for name in checks),
        en=", ".join(check_label(name).en for name in checks),
    )
