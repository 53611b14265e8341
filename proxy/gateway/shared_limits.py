"""Rate limits counted in the store, so that they hold across every instance of a fleet: the
store counts (one upsert for all the limits a request matches), `core.limits.judge` decides."""

from __future__ import annotations

import contextlib

from ..core.limits import LimitVerdict, judge, window_index
from ..core.policy.access import RateLimit
from ..store.rate_counts import RateCounts


class SharedRateLimits:
    def __init__(self, store: RateCounts) -> None:
        self._store = store

    def hit(self, agent: str, rules: list[RateLimit], now: float) -> LimitVerdict:
        """Count one request by `agent` against each of `rules` (blocking: run it off the event
        loop). A store that fails raises: the caller refuses the request."""
        windows = {rule.name: window_index(now, rule.per) for rule in rules}
        counts = self._store.count_request(agent, list(windows), windows)
        try:
            verdict = judge([(rule, counts[rule.name]) for rule in rules], now)
        except BaseException:
            with contextlib.suppress(Exception):
                self._store.uncount_request(agent, windows)
            raise
        if not verdict.allowed:
            self._store.uncount_request(agent, windows)
        return verdict
