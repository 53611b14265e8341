"""Rate-limit windows in the store: two stores on one database (two gateway instances), their
threads racing for the same agent, let through exactly the limit between them; the windows slide
as in memory; a policy reload keeps them (they are kept by limit name)."""

from __future__ import annotations

import textwrap
import threading
from pathlib import Path

from homeagent.proxy.core.limits import RateLimits
from homeagent.proxy.core.policy.loader import load_policy
from homeagent.proxy.store import Store

POLICY = """\
version: 1
notice: {zh: 请保密, en: Keep it confidential}
roles:
  inbound: {}
limits:
  - {name: reads, roles: [inbound], url: "https://crm.acme.test/customers/**", methods: [GET],
     max_requests: 25, per: 60s}
  - {name: watch, url: "https://crm.acme.test/**", max_requests: 10, per: 60s, mode: report}
"""
URL = "https://crm.acme.test/customers/1"
THREADS = 4
EACH = 15


def rate_limits(tmp_path: Path) -> RateLimits:
    path = tmp_path / "policy.yaml"
    path.write_text(textwrap.dedent(POLICY), encoding="utf-8")
    return RateLimits(load_policy(path).policy)


def hit(store: Store, limits: RateLimits, now: float, agent: str = "A1023") -> bool:
    names = limits.matching("inbound", "GET", URL)
    verdict = store.count_request(agent, names, lambda w: limits.judge(names, w, now))
    return verdict.allowed


def test_two_instances_racing_let_through_exactly_the_limit(db_url: str, tmp_path: Path) -> None:
    limits = rate_limits(tmp_path)
    with Store.open(db_url) as first, Store.open(db_url) as second:
        allowed: list[bool] = []
        lock = threading.Lock()

        def agent_requests(store: Store) -> None:
            for i in range(EACH):
                result = hit(store, limits, 1000.0 + i / 100)
                with lock:
                    allowed.append(result)

        threads = [
            threading.Thread(target=agent_requests, args=(store,))
            for store in (first, second) * (THREADS // 2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert len(allowed) == THREADS * EACH
        assert allowed.count(True) == 25  # not 25 per instance, nor a few more from a race
        # another agent has a window of their own
        assert hit(second, limits, 1001.0, agent="A2000")


def test_windows_slide_and_a_refusal_says_when_to_retry(db_url: str, tmp_path: Path) -> None:
    limits = rate_limits(tmp_path)
    names = limits.matching("inbound", "GET", URL)
    assert names == ["reads", "watch"]
    with Store.open(db_url) as store:
        assert all(hit(store, limits, 100.0 + i) for i in range(10))
        # the report-only limit is past its 10: said, never refused
        eleventh = store.count_request("A1023", names, lambda w: limits.judge(names, w, 110.0))
        assert eleventh.allowed and eleventh.would_block == ("limit.watch",)
        assert all(hit(store, limits, 111.0 + i) for i in range(14))
        refused = store.count_request("A1023", names, lambda w: limits.judge(names, w, 130.0))
        assert not refused.allowed and refused.rule == "limit.reads"
        assert refused.retry_after == 30.0  # the request at t=100 leaves the window at t=160
        assert hit(store, limits, 160.0)

    # the same database opened again (a restart or a reload): the windows are still there
    with Store.open(db_url) as again:
        assert not hit(again, limits, 160.5)
