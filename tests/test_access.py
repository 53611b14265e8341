"""Access decisions: deny wins, nothing unlisted passes, report mode only reports, hours hold."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from homeagent.proxy.core.access import AMBIGUOUS_URL, DEFAULT_DENY, AccessPolicy
from homeagent.proxy.core.policy.loader import load_policy
from homeagent.proxy.core.urls import parse_request_url

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
WEDNESDAY_10AM = dt.datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)

POLICY = """\
version: 1
notice: {zh: 请保密, en: Keep it confidential}
roles:
  inbound:
    allow:
      - {name: crm, url: "https://crm.acme.test/**", methods: [GET, POST]}
      - {name: kb, url: "https://*.kb.acme.test/**"}
    deny:
      - {name: export, url: "https://crm.acme.test/customers/export/**"}
      - {name: audit-admin, url: "https://crm.acme.test/admin/**", mode: report}
    hours: {days: [mon, tue, wed, thu, fri], start: "08:00", end: "20:00", timezone: Asia/Shanghai}
  night:
    extends: [inbound]
    hours: {start: "22:00", end: "06:00", timezone: Asia/Shanghai}
  lenient:
    allow:
      - {name: all-crm, url: "https://crm.acme.test/**", methods: ["*"]}
    hours: {days: [mon], mode: report}
"""


@pytest.fixture(scope="module")
def access(tmp_path_factory: pytest.TempPathFactory) -> AccessPolicy:
    path: Path = tmp_path_factory.mktemp("policy") / "policy.yaml"
    path.write_text(textwrap.dedent(POLICY), encoding="utf-8")
    return AccessPolicy(load_policy(path).policy)


def decide(
    access: AccessPolicy, role: str, request: str, when: dt.datetime = WEDNESDAY_10AM
) -> tuple[str, str]:
    method, url = request.split()
    decision = access.decide(role, method, url, when=when)
    return decision.decision, decision.rule


@pytest.mark.parametrize(
    ("request_line", "decision", "rule"),
    [
        ("GET https://crm.acme.test/customers/1", "allow", "inbound.crm"),
        ("get https://crm.acme.test/customers/1", "allow", "inbound.crm"),
        ("DELETE https://crm.acme.test/customers/1", "deny", DEFAULT_DENY),
        ("GET https://crm.acme.test/customers/export/all.csv", "deny", "inbound.export"),
        ("GET https://crm.acme.test/Customers/EXPORT/all.csv", "deny", "inbound.export"),
        ("GET https://crm.acme.test/customers/%65xport/all.csv", "deny", "inbound.export"),
        ("GET https://crm.acme.test/customers/1/../export/x", "deny", AMBIGUOUS_URL),
        ("GET https://eu.kb.acme.test/a", "allow", "inbound.kb"),
        ("HEAD https://eu.kb.acme.test/a", "allow", "inbound.kb"),
        ("POST https://eu.kb.acme.test/a", "deny", DEFAULT_DENY),
        ("GET https://kb.acme.test/a", "deny", DEFAULT_DENY),
    ],
)
def test_deny_wins_and_nothing_unlisted_passes(
    access: AccessPolicy, request_line: str, decision: str, rule: str
) -> None:
    assert decide(access, "inbound", request_line) == (decision, rule)


def test_report_mode_rules_are_logged_as_would_block_not_enforced(access: AccessPolicy) -> None:
    decision = access.decide(
        "inbound", "GET", "https://crm.acme.test/admin/users", when=WEDNESDAY_10AM
    )
    assert decision.allowed
    assert decision.rule == "inbound.crm"
    assert decision.would_block == ("inbound.audit-admin",)


def test_extended_roles_bring_their_rules_with_the_defining_role_named(
    access: AccessPolicy,
) -> None:
    at_night = dt.datetime(2026, 12, 2, 23, 0, tzinfo=SHANGHAI)
    assert decide(access, "night", "GET https://crm.acme.test/customers/1", at_night) == (
        "allow",
        "inbound.crm",
    )
    assert decide(access, "night", "GET https://crm.acme.test/customers/export/x", at_night) == (
        "deny",
        "inbound.export",
    )


@pytest.mark.parametrize(
    ("role", "when", "open_"),
    [
        ("inbound", dt.datetime(2026, 12, 2, 8, 0, tzinfo=SHANGHAI), True),
        ("inbound", dt.datetime(2026, 12, 2, 20, 0, 1, tzinfo=SHANGHAI), False),
        ("inbound", dt.datetime(2026, 12, 2, 7, 59, tzinfo=SHANGHAI), False),
        ("inbound", dt.datetime(2026, 12, 5, 10, 0, tzinfo=SHANGHAI), False),  # Saturday
        ("inbound", dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC), True),  # 10:00 in Shanghai
        ("night", dt.datetime(2026, 12, 2, 23, 0, tzinfo=SHANGHAI), True),
        ("night", dt.datetime(2026, 12, 3, 5, 0, tzinfo=SHANGHAI), True),
        ("night", dt.datetime(2026, 12, 3, 12, 0, tzinfo=SHANGHAI), False),
    ],
)
def test_working_hours(access: AccessPolicy, role: str, when: dt.datetime, open_: bool) -> None:
    decision, rule = decide(access, role, "GET https://crm.acme.test/customers/1", when)
    assert (decision == "allow") is open_
    if not open_:
        assert rule == f"{role}.hours"


def test_report_mode_hours_only_report(access: AccessPolicy) -> None:
    decision = access.decide("lenient", "PUT", "https://crm.acme.test/x", when=WEDNESDAY_10AM)
    assert decision.allowed
    assert decision.would_block == ("lenient.hours",)


def test_a_host_header_or_sni_naming_another_host_is_denied(access: AccessPolicy) -> None:
    url = "https://crm.acme.test/customers/1"
    ok = access.decide(
        "inbound",
        "GET",
        url,
        when=WEDNESDAY_10AM,
        also_named=["crm.acme.test:443", "CRM.acme.test"],
    )
    assert ok.allowed
    for other in ("kb.acme.test", "crm.acme.test:8443", "crm.acme.test:bad"):
        bad = access.decide("inbound", "GET", url, when=WEDNESDAY_10AM, also_named=[other])
        assert (bad.decision, bad.rule) == ("deny", AMBIGUOUS_URL), other


def test_unknown_role_is_denied(access: AccessPolicy) -> None:
    assert decide(access, "contractor", "GET https://crm.acme.test/") == ("deny", "unknown-role")


def test_connect_is_allowed_only_towards_hosts_some_rule_allows(access: AccessPolicy) -> None:
    assert access.may_connect("inbound", "crm.acme.test", 443)
    assert access.may_connect("inbound", "eu.kb.acme.test", 443)
    assert not access.may_connect("inbound", "crm.acme.test", 8443)
    assert not access.may_connect("inbound", "evil.test", 443)
    assert not access.may_connect("contractor", "crm.acme.test", 443)


def test_rule_ids_list_every_deciding_rule(access: AccessPolicy) -> None:
    assert access.rule_ids("night") == [
        "inbound.crm",
        "inbound.kb",
        "inbound.export",
        "inbound.audit-admin",
        "night.hours",
    ]


@given(
    method=st.sampled_from(["GET", "POST", "DELETE", "HEAD"]),
    host=st.sampled_from(["crm.acme.test", "eu.kb.acme.test", "kb.acme.test", "CRM.acme.test"]),
    segments=st.lists(
        st.sampled_from(["customers", "Customers", "export", "EXPORT", "admin", "1", "x"]),
        max_size=4,
    ),
)
def test_fused_plans_decide_exactly_as_rule_by_rule(
    access: AccessPolicy, method: str, host: str, segments: list[str]
) -> None:
    url = f"https://{host}/" + "/".join(segments)
    decision = access.decide("inbound", method, url, when=WEDNESDAY_10AM)
    # Reference: every rule in policy order, one at a time.
    rules = access._roles["inbound"]
    target = parse_request_url(url)
    candidates = [*rules.deny.candidates(target.host)]
    enforce = [
        r for r in candidates if r.mode.value == "enforce" and r.matches(method.upper(), target)
    ]
    report = [
        r.id for r in candidates if r.mode.value == "report" and r.matches(method.upper(), target)
    ]
    allow = [r for r in rules.allow.candidates(target.host) if r.matches(method.upper(), target)]
    expected = enforce[0].id if enforce else allow[0].id if allow else DEFAULT_DENY
    assert decision.rule == expected
    assert list(decision.would_block) == report
