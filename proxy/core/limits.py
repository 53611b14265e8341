"""Rate limits per agent (the `limits` section): what stops an agent, or malware on their PC,
from harvesting customer records in bulk.

Pure: the caller passes the time and keeps the counters (in memory here; the gateway's store
holds them so that every gateway instance sees the same counts).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from .policy.access import RateLimit
from .policy.base import Mode
from .policy.model import Policy
from .urls import AmbiguousURLError, URLPattern, parse_pattern, parse_request_url

LIMIT_PREFIX = "limit."


@dataclass(frozen=True, slots=True)
class LimitVerdict:
    allowed: bool
    rule: str | None
    """`limit.<name>` of the limit that refused (or would have), else None."""
    retry_after: float = 0.0
    """Seconds until the agent may try again."""
    would_block: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Limit:
    rule: RateLimit
    pattern: URLPattern

    @property
    def id(self) -> str:
        return LIMIT_PREFIX + self.rule.name


@dataclass
class SlidingWindow:
    """Exact sliding window: the times of the requests counted in the last `per` seconds."""

    times: deque[float] = field(default_factory=deque)

    def count(self, now: float, per: float) -> int:
        while self.times and self.times[0] <= now - per:
            self.times.popleft()
        return len(self.times)


class RateLimits:
    """The limits of one policy, and the counts of each agent against them."""

    def __init__(self, policy: Policy) -> None:
        self._limits = [_Limit(rule, parse_pattern(rule.url)) for rule in policy.limits]
        self._windows: dict[tuple[str, str], SlidingWindow] = {}

    def adopt(self, previous: RateLimits) -> None:
        """Carry the counts of limits that keep their name over from the policy before."""
        names = {limit.rule.name for limit in self._limits}
        self._windows.update({k: w for k, w in previous._windows.items() if k[1] in names})

    @property
    def rule_ids(self) -> list[str]:
        return [limit.id for limit in self._limits]

    def applicable(self, role: str, method: str, url: str) -> list[RateLimit]:
        return [limit.rule for limit in self._matching(role, method, url)]

    def _matching(self, role: str, method: str, url: str) -> list[_Limit]:
        try:
            target = parse_request_url(url)
        except AmbiguousURLError:
            return []  # access decisions already deny these
        method = method.upper()
        return [
            limit
            for limit in self._limits
            if (not limit.rule.roles or role in limit.rule.roles)
            and ("*" in limit.rule.methods or method in limit.rule.methods)
            and limit.pattern.matches(target)
        ]

    def hit(self, agent: str, role: str, method: str, url: str, now: float) -> LimitVerdict:
        """Count one request by `agent` at `now` (seconds), unless an enforced limit refuses it."""
        matching = self._matching(role, method, url)
        would_block: list[str] = []
        windows = []
        for limit in matching:
            window = self._windows.setdefault((agent, limit.rule.name), SlidingWindow())
            used = window.count(now, limit.rule.per)
            if used >= limit.rule.max_requests:
                retry = window.times[0] + limit.rule.per - now
                if limit.rule.mode is Mode.ENFORCE:
                    return LimitVerdict(
                        False, limit.id, max(0.0, math.ceil(retry * 10) / 10), tuple(would_block)
                    )
                would_block.append(limit.id)
            windows.append(window)
        for window in windows:
            window.times.append(now)
        return LimitVerdict(True, None, 0.0, tuple(would_block))
