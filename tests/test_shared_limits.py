"""Rate limits counted in the store (one row per agent and limit, two fixed windows weighed into
a sliding estimate): the pure verdict, the atomic count on SQLite and PostgreSQL, a refused
request not counted, and a gateway whose counts are unavailable refusing (fail closed)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from homeagent.proxy.core.limits import WindowCount, judge, used_before, window_index
from homeagent.proxy.core.policy.access import RateLimit
from homeagent.proxy.core.policy.base import Mode
from homeagent.proxy.gateway.shared_limits import SharedRateLimits
from homeagent.proxy.sample_app import SampleApp
from homeagent.proxy.store import Store

from .gateway_harness import GatewayHarness

READS = RateLimit(name="reads", max_requests=3, per=60)
WATCH = RateLimit(name="watch", max_requests=1, per=60, mode=Mode.REPORT)


# -- the verdict from the counts (pure) -----------------------------------------------------


def test_requests_within_the_limit_pass() -> None:
    for current in (1, 2, 3):
        assert judge([(READS, WindowCount(10, current, 0))], 600.0).allowed


def test_the_request_past_the_limit_is_refused_with_the_time_to_wait() -> None:
    verdict = judge([(READS, WindowCount(10, 4, 0))], 630.0)  # half-way through window 10
    assert (verdict.allowed, verdict.rule) == (False, "limit.reads")
    # this window alone is full: 30 s to its end, then until its 3 have decayed to 2 (20 s)
    assert verdict.retry_after == pytest.approx(50.0)


def test_a_burst_at_the_end_of_a_window_still_counts_just_after_it() -> None:
    # 3 requests in window 9, one just after the boundary: the estimate rounds the previous
    # window's share up, so a fixed window's double allowance cannot happen
    assert used_before(WindowCount(10, 1, 3), 600.5, 60) == 3
    verdict = judge([(READS, WindowCount(10, 1, 3))], 600.5)
    assert not verdict.allowed and 0 < verdict.retry_after <= 60


def test_the_previous_window_decays() -> None:
    assert used_before(WindowCount(10, 1, 3), 640.0, 60) == 1  # a third of it left: 1
    assert judge([(READS, WindowCount(10, 2, 3))], 659.0).allowed  # ceil(0.05) + 1 = 2
    assert not judge([(READS, WindowCount(10, 2, 3))], 610.0).allowed  # ceil(2.5) + 1 = 4


def test_a_report_only_limit_lets_through_and_says_it_would_block() -> None:
    verdict = judge([(WATCH, WindowCount(10, 2, 0)), (READS, WindowCount(10, 1, 0))], 600.0)
    assert verdict.allowed and verdict.would_block == ("limit.watch",)


def test_window_index() -> None:
    assert (window_index(599.9, 60), window_index(600.0, 60)) == (9, 10)


# -- the counts in the store -----------------------------------------------------------------


def test_concurrent_counts_are_atomic(store: Store) -> None:
    seen: list[int] = []
    lock = threading.Lock()

    def count() -> None:
        for _ in range(25):
            got = store.count_request("A1023", ["reads"], {"reads": 7})["reads"].current
            with lock:
                seen.append(got)

    threads = [threading.Thread(target=count) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(seen) == list(range(1, 151))  # every request its own count, none lost


def test_a_new_window_carries_the_last_count_as_the_previous(store: Store) -> None:
    for _ in range(3):
        store.count_request("A1023", ["reads"], {"reads": 7})
    both = store.count_request("A1023", ["reads", "watch"], {"reads": 8, "watch": 3})
    assert both == {"reads": WindowCount(8, 1, 3), "watch": WindowCount(3, 1, 0)}
    gap = store.count_request("A1023", ["reads"], {"reads": 10})  # a gap: nothing before
    assert gap == {"reads": WindowCount(10, 1, 0)}
    other = store.count_request("A1024", ["reads"], {"reads": 10})  # per agent
    assert other == {"reads": WindowCount(10, 1, 0)}


def test_a_refused_request_uses_up_no_allowance(store: Store) -> None:
    limits = SharedRateLimits(store)
    now = 6000.0
    assert all(limits.hit("A1023", [READS], now).allowed for _ in range(3))
    for _ in range(5):  # hammering does not push the agent's own window further
        assert not limits.hit("A1023", [READS], now + 1).allowed
    counted = store.count_request("A1023", ["reads"], {"reads": window_index(now, 60)})
    assert counted["reads"].current == 4


# -- fail closed -----------------------------------------------------------------------------


def test_the_gateway_refuses_what_the_limits_cover_when_it_cannot_count(
    tmp_path: Path, sample_app: SampleApp
) -> None:
    harness = GatewayHarness(tmp_path, sample_app)
    try:
        _, token = harness.clock_in("A4101", "inbound")
        with harness.client(token) as client:
            assert client.get("https://crm.acme.test/customers/1001.json").status_code == 200
            with harness.gateway.store.engine.begin() as conn:
                conn.execute(text("DROP TABLE rate_counts"))  # the counts are gone
            refused = client.get(
                "https://crm.acme.test/customers/1002.json", headers={"Accept": "application/json"}
            )
        assert refused.status_code == 503
        assert refused.json()["rule"].startswith("limit.")
    finally:
        harness.stop()
