"""Rate limits counted in the store, so that they hold across every instance of a fleet: the
store counts (one upsert per matching limit), `core.limits.judge` decides."""

from __future__ import annotations

import contextlib

from ..core.limits import LimitVerdict, WindowCount, judge, window_index
from ..core.policy.access import RateLimit
from ..store.rate_counts import RateCounts


class SharedRateLimits:
    def __init__(self, store: RateCounts) -> None:
        self._store = store

    def hit(self, agent: str, rules: list[RateLimit], now: float) -> LimitVerdict:
        """Count one request by `agent` against each of `rules` (blocking: run it off the event
        loop). A store that fails raises: the caller refuses the request."""
        counted: list[tuple[RateLimit, WindowCount]] = []
        try:
            for rule in rules:
                window = window_index(now, rule.per)
                counted.append((rule, self._store.count_request(agent, rule.name, window)))
            verdict = judge(counted, now)
        except BaseException:
            with contextlib.suppress(Exception):  # the store failing: the first error tells
                self._take_back(agent, counted)
            raise
        if not verdict.allowed:
            self._take_back(agent, counted)
        return verdict

    def _take_back(self, agent: str, counted: list[tuple[RateLimit, WindowCount]]) -> None:
        for rule, count in counted:
            self._store.uncount_request(agent, rule.name, count.window)
