"""Rate limits per agent (the `limits` section): what stops an agent, or malware on their PC,
from harvesting customer records in bulk.

Pure: the caller passes the time and the counts. `RateLimits.hit` keeps exact counts in memory
(one process: `policy test`); the gateway keeps them in its store, so that every instance of a
fleet sees the same counts, and decides here with `judge` from the two fixed windows the store
counts (a sliding-window estimate: one row and one round-trip per agent and limit).
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


# -- counts kept by the store: two fixed windows, weighted into a sliding estimate -----------
#
# Why not an exact sliding window in the store: it needs a row per request and a range count on
# every proxied request. Why not a plain fixed window: an agent could fire the whole allowance
# at the end of one window and again at the start of the next, twice the limit in a moment.
# The estimate (the previous window's count, weighted by how much of it still lies within the
# last `per` seconds, plus this window's count) assumes the previous window's requests were
# spread evenly; it costs one upsert of one row per agent and limit.


@dataclass(frozen=True, slots=True)
class WindowCount:
    """One agent's requests against one limit, as the store counts them."""

    window: int
    """Index of the fixed window `now` falls in: floor(now / per)."""
    current: int
    """Requests counted in this window, the one being decided included."""
    previous: int
    """Requests counted in the window before."""


def window_index(now: float, per: float) -> int:
    return math.floor(now / per)


def used_before(count: WindowCount, now: float, per: float) -> int:
    """Estimated requests in the `per` seconds before the one being decided. The previous
    window's share is rounded up: a burst just before a window's end still counts whole just
    after it (never a request more than the limit for a burst across the boundary)."""
    elapsed = min(1.0, max(0.0, now / per - count.window))
    share = count.previous * (1.0 - elapsed)
    return math.ceil(share - 1e-9) + count.current - 1  # 1e-9: 3 x (1 - 2/3) is 1, not 2


def _retry_after(count: WindowCount, now: float, rule: RateLimit) -> float:
    """Seconds until the estimate falls below the limit (no more requests meanwhile)."""
    per, allowed = rule.per, rule.max_requests
    elapsed = min(1.0, max(0.0, now / per - count.window))
    earlier = count.current - 1
    # the estimate rounds the previous window's share up: it must fall to (room - 1)
    if earlier >= allowed:  # this window alone is full: into the next, until it has decayed
        wait = (1.0 - elapsed) + (1.0 - (allowed - 1) / earlier)
    elif count.previous:
        wait = (1.0 - (allowed - earlier - 1) / count.previous) - elapsed
    else:
        wait = 0.0
    return max(0.0, math.ceil(wait * per * 10) / 10)


def judge(counted: list[tuple[RateLimit, WindowCount]], now: float) -> LimitVerdict:
    """The verdict on one request from the store's counts of every limit it matched. When it
    is refused, the caller takes the request back out of every count (a refused request does not
    use up allowance, as in `RateLimits.hit`)."""
    would_block: list[str] = []
    for rule, count in counted:
        if used_before(count, now, rule.per) < rule.max_requests:
            continue
        rule_id = LIMIT_PREFIX + rule.name
        if rule.mode is Mode.ENFORCE:
            return LimitVerdict(False, rule_id, _retry_after(count, now, rule), tuple(would_block))
        would_block.append(rule_id)
    return LimitVerdict(True, None, 0.0, tuple(would_block))
