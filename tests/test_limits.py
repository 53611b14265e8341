"""Rate limits per agent: an exact sliding window, per agent, scoped by role, method and URL."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from homeagent.proxy.core.limits import RateLimits
from homeagent.proxy.core.policy.loader import load_policy

POLICY = """\
version: 1
notice: {zh: 请保密, en: Keep it confidential}
roles:
  inbound: {}
  supervisor: {}
limits:
  - {name: reads, roles: [inbound], url: "https://crm.acme.test/customers/**", methods: [GET],
     max_requests: 3, per: 60s}
  - {name: watch, url: "https://crm.acme.test/**", max_requests: 2, per: 10s, mode: report}
"""
URL = "https://crm.acme.test/customers/1"


@pytest.fixture
def limits(tmp_path: Path) -> RateLimits:
    path = tmp_path / "policy.yaml"
    path.write_text(textwrap.dedent(POLICY), encoding="utf-8")
    return RateLimits(load_policy(path).policy)


def test_the_request_past_the_limit_is_refused_until_the_window_slides(limits: RateLimits) -> None:
    assert [limits.hit("A1", "inbound", "GET", URL, t).allowed for t in (0, 1, 2)] == [True] * 3
    refused = limits.hit("A1", "inbound", "GET", URL, 30)
    assert (refused.allowed, refused.rule) == (False, "limit.reads")
    assert refused.retry_after == pytest.approx(30)
    assert not limits.hit("A1", "inbound", "GET", URL, 59.9).allowed
    assert limits.hit("A1", "inbound", "GET", URL, 60.0).allowed  # the request at t=0 has left


def test_agents_are_counted_apart(limits: RateLimits) -> None:
    for t in range(3):
        limits.hit("A1", "inbound", "GET", URL, t)
    assert not limits.hit("A1", "inbound", "GET", URL, 3).allowed
    assert limits.hit("A2", "inbound", "GET", URL, 3).allowed


@pytest.mark.parametrize(
    ("role", "method", "url"),
    [
        ("supervisor", "GET", URL),
        ("inbound", "POST", URL),
        ("inbound", "GET", "https://crm.acme.test/tickets/1"),
    ],
)
def test_limits_apply_only_where_scoped(
    limits: RateLimits, role: str, method: str, url: str
) -> None:
    verdicts = [limits.hit("A1", role, method, url, t) for t in range(10)]
    assert all(v.allowed for v in verdicts)


def test_report_mode_limits_only_report(limits: RateLimits) -> None:
    url = "https://crm.acme.test/tickets/1"
    verdicts = [limits.hit("A1", "supervisor", "GET", url, t) for t in range(4)]
    assert all(v.allowed for v in verdicts)
    assert [v.would_block for v in verdicts] == [(), (), ("limit.watch",), ("limit.watch",)]


def test_a_refused_request_is_not_counted(limits: RateLimits) -> None:
    for t in range(3):
        limits.hit("A1", "inbound", "GET", URL, t)
    for t in range(3, 50):
        limits.hit("A1", "inbound", "GET", URL, t)
    assert limits.hit("A1", "inbound", "GET", URL, 60).allowed
