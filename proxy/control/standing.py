"""Where an agent's posture stands now: the device's latest report, judged again under the
current policy (it may have been reloaded since), and whether it is still fresh."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..core.posture_check import PostureVerdict, evaluate_report
from ..core.posture_hints import Hint
from ..core.posture_report import PostureReportError
from ..store import Agent, Device, PostureReport
from .context import ControlContext
from .errors import ApiError


@dataclass(frozen=True, slots=True)
class Standing:
    report: PostureReport | None
    verdict: PostureVerdict | None
    """None when there is no report, or it no longer reads (then it cannot pass)."""
    expires_at: dt.datetime | None
    now: dt.datetime

    @property
    def fresh(self) -> bool:
        return self.expires_at is not None and self.now < self.expires_at

    @property
    def passed(self) -> bool:
        return self.fresh and self.verdict is not None and self.verdict.passed

    def refusal(self, max_age: float) -> ApiError | None:
        """Why this standing does not let the agent clock in or go ready (None: it does)."""
        if self.report is None:
            return ApiError("posture_missing")
        if not self.fresh:
            minutes = int((self.now - self.report.received_at).total_seconds() // 60)
            return ApiError("posture_stale", minutes=minutes, limit=round(max_age / 60))
        if self.verdict is None:
            rerun = Hint(
                "the last report no longer reads: run the checks again",
                "上次报告无法读取：请重新运行检测",
            )
            return ApiError("posture_failed", {"failing": []}, hints=rerun)
        if not self.verdict.passed:
            return posture_failed(self.verdict)
        return None


def posture_failed(verdict: PostureVerdict) -> ApiError:
    failing = [verdict.result(name) for name in verdict.failing]
    return ApiError(
        "posture_failed",
        {"failing": list(verdict.failing), "checks": [r.as_json() for r in failing]},
        hints=Hint.join([r.hint for r in failing if r.hint is not None]),
    )


def posture_standing(ctx: ControlContext, agent: Agent, device: Device) -> Standing:
    """Blocking (store): call from a worker thread."""
    now = ctx.now()
    policy = ctx.policy().policy
    latest = ctx.store.latest_posture(agent.id)
    if latest is None or latest.device != device.fingerprint:
        return Standing(None, None, None, now)
    expires = latest.received_at + dt.timedelta(seconds=policy.posture.max_age)
    try:
        verdict: PostureVerdict | None = evaluate_report(
            latest.report, policy.posture.for_role(agent.role)
        )
    except PostureReportError:
        verdict = None
    return Standing(latest, verdict, expires, now)
