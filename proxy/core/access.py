"""Access decisions: may this agent's role make this request now?

Deny wins; nothing unlisted passes.

Deny rules are matched on the lower-cased path too, so `/Customers/Export` cannot slip past a deny
written for `/customers/export` on a server that ignores case; allow rules match exactly.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from .policy.access import AllowRule, DenyRule, Hours
from .policy.base import Mode
from .policy.model import Policy
from .urls import (
    DEFAULT_PORTS,
    AmbiguousURLError,
    RequestURL,
    URLPattern,
    parse_pattern,
    parse_request_url,
    same_host,
)

DEFAULT_DENY = "default-deny"
AMBIGUOUS_URL = "ambiguous-url"
UNKNOWN_ROLE = "unknown-role"

Verdict = Literal["allow", "deny"]


@dataclass(frozen=True, slots=True)
class Decision:
    """What policy says of one request, and which rule said it."""

    decision: Verdict
    rule: str
    reason: str
    role: str
    method: str
    url: str
    would_block: tuple[str, ...] = ()
    """Report-mode rules that matched: logged as "would block", not enforced."""

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"

    def to_json(self) -> dict[str, object]:
        return {
            "decision": self.decision,
            "rule": self.rule,
            "reason": self.reason,
            "role": self.role,
            "method": self.method,
            "url": self.url,
            "would_block": list(self.would_block),
        }


@dataclass(frozen=True, slots=True)
class _Rule:
    id: str
    """`<role that defines it>.<rule name>`: what the audit log and the agent see."""
    pattern: URLPattern
    methods: frozenset[str]
    mode: Mode
    path_regex: re.Pattern[str]
    first_segment: str | None
    """The literal first path segment every match starts with (lower case for deny rules), or
    None: lets a decision try only the rules that could match this path."""

    def matches(self, method: str, url: RequestURL) -> bool:
        if "*" not in self.methods and method not in self.methods:
            return False
        return self.pattern.matches_host(url) and self.path_regex.fullmatch(url.path) is not None


@dataclass
class _RuleIndex:
    """Rules by exact host, so a decision looks at a handful of rules, not all of them."""

    by_host: dict[str, list[_Rule]] = field(default_factory=dict)
    any_host: list[_Rule] = field(default_factory=list)

    def add(self, rule: _Rule) -> None:
        if rule.pattern.host_is_exact:
            self.by_host.setdefault(rule.pattern.host, []).append(rule)
        else:
            self.any_host.append(rule)

    def candidates(self, host: str) -> Iterable[_Rule]:
        exact = self.by_host.get(host)
        if exact:
            yield from exact
        yield from self.any_host


@dataclass(frozen=True, slots=True)
class _Plan:
    """The rules that can apply to one (scheme, host, port, method), fused into one regex per kind:
    a decision is then one or two regex matches, however many rules the role has."""

    deny: re.Pattern[str] | None
    deny_ids: tuple[str, ...]
    report: tuple[_Rule, ...]
    allow: re.Pattern[str] | None
    allow_ids: tuple[str, ...]


def _fuse(rules: list[_Rule], flags: int) -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    """One alternation, in policy order, whose matching branch names the rule (`r<index>`)."""
    if not rules:
        return None, ()
    branches = "|".join(f"(?P<r{i}>{rule.path_regex.pattern})" for i, rule in enumerate(rules))
    return re.compile(branches, re.DOTALL | flags), tuple(rule.id for rule in rules)


@dataclass
class _RoleRules:
    allow: _RuleIndex = field(default_factory=_RuleIndex)
    deny: _RuleIndex = field(default_factory=_RuleIndex)
    hours: Hours | None = None
    rule_ids: list[str] = field(default_factory=list)
    plans: dict[tuple[str, str, int, str, str], _Plan] = field(default_factory=dict)

    def plan(self, url: RequestURL, method: str) -> _Plan:
        segment = url.path[1:].partition("/")[0]
        key = (url.scheme, url.host, url.port, method, segment)
        plan = self.plans.get(key)
        if plan is None:
            if len(self.plans) >= MAX_PLANS:
                self.plans.clear()  # bounded: hosts come from the agents' side

            def applicable(index: _RuleIndex, segment: str) -> list[_Rule]:
                return [
                    r
                    for r in index.candidates(url.host)
                    if ("*" in r.methods or method in r.methods)
                    and r.first_segment in (None, segment)
                    and r.pattern.matches_host(url)
                ]

            denies = applicable(self.deny, segment.lower())
            deny, deny_ids = _fuse([r for r in denies if r.mode is Mode.ENFORCE], re.IGNORECASE)
            allow, allow_ids = _fuse(applicable(self.allow, segment), 0)
            report = tuple(r for r in denies if r.mode is Mode.REPORT)
            plan = self.plans[key] = _Plan(deny, deny_ids, report, allow, allow_ids)
        return plan


MAX_PLANS = 4096


def _compile(owner: str, rule: AllowRule | DenyRule, *, ignore_case: bool) -> _Rule:
    pattern = parse_pattern(rule.url)
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    path = rule.url.split("://", 1)[1].partition("/")[2]
    first = path.partition("/")[0] if "/" in path else None
    if first is not None and ("*" in first or not first):
        first = None
    if first is not None and ignore_case:
        first = first.lower()
    return _Rule(
        id=f"{owner}.{rule.name}",
        pattern=pattern,
        methods=frozenset(rule.methods),
        mode=rule.mode if isinstance(rule, DenyRule) else Mode.ENFORCE,
        path_regex=re.compile(pattern.path_regex.pattern, flags),
        first_segment=first,
    )


class AccessPolicy:
    """The roles of one policy, compiled for fast decisions. Build once per policy load."""

    def __init__(self, policy: Policy) -> None:
        self._roles: dict[str, _RoleRules] = {}
        for name in policy.roles:
            rules = _RoleRules(hours=policy.roles[name].hours)
            for owner in _lineage(policy, name):
                role = policy.roles[owner]
                for allow in role.allow:
                    rules.allow.add(_compile(owner, allow, ignore_case=False))
                    rules.rule_ids.append(f"{owner}.{allow.name}")
                for deny in role.deny:
                    rules.deny.add(_compile(owner, deny, ignore_case=True))
                    rules.rule_ids.append(f"{owner}.{deny.name}")
            if rules.hours is not None:
                rules.rule_ids.append(f"{name}.hours")
            self._roles[name] = rules

    @property
    def roles(self) -> list[str]:
        return list(self._roles)

    def rule_ids(self, role: str | None = None) -> list[str]:
        """Every rule that can decide, for coverage figures."""
        names = [role] if role else list(self._roles)
        return list(dict.fromkeys(r for name in names for r in self._roles[name].rule_ids))

    def decide(
        self,
        role: str,
        method: str,
        url: str,
        *,
        when: dt.datetime | None = None,
        also_named: Iterable[str | None] = (),
    ) -> Decision:
        """Decide one request. `also_named`: the other names the request gives its host (Host
        header, CONNECT authority, TLS SNI); any that disagrees with the URL's host is denied."""
        method = method.upper()
        rules = self._roles.get(role)
        if rules is None:
            return Decision(
                "deny", UNKNOWN_ROLE, f"role {role!r} is not in the policy", role, method, url
            )
        try:
            target = parse_request_url(url)
        except AmbiguousURLError as err:
            return Decision("deny", AMBIGUOUS_URL, f"ambiguous URL: {err}", role, method, url)
        canonical = str(target)
        try:
            for name in also_named:
                if name is not None and not same_host(target, name):
                    return Decision(
                        "deny",
                        AMBIGUOUS_URL,
                        f"the request names two hosts: {target.host!r} and {name!r}",
                        role,
                        method,
                        canonical,
                    )
        except AmbiguousURLError as err:
            return Decision(
                "deny", AMBIGUOUS_URL, f"ambiguous host: {err}", role, method, canonical
            )
        would_block: list[str] = []
        if rules.hours is not None and not rules.hours.open_at(when or dt.datetime.now(dt.UTC)):
            hours_rule = f"{role}.hours"
            if rules.hours.mode is Mode.ENFORCE:
                return Decision(
                    "deny", hours_rule, "outside the role's working hours", role, method, canonical
                )
            would_block.append(hours_rule)
        plan = rules.plan(target, method)
        for rule in plan.report:
            if rule.path_regex.fullmatch(target.path):
                would_block.append(rule.id)
        if plan.deny is not None and (hit := plan.deny.fullmatch(target.path)):
            rule_id = _matched(hit, plan.deny_ids)
            return Decision(
                "deny", rule_id, "a deny rule matches", role, method, canonical, tuple(would_block)
            )
        if plan.allow is not None and (hit := plan.allow.fullmatch(target.path)):
            rule_id = _matched(hit, plan.allow_ids)
            return Decision(
                "allow",
                rule_id,
                "an allow rule matches",
                role,
                method,
                canonical,
                tuple(would_block),
            )
        return Decision(
            "deny",
            DEFAULT_DENY,
            "no rule of the role allows it",
            role,
            method,
            canonical,
            tuple(would_block),
        )

    def may_connect(self, role: str, host: str, port: int) -> bool:
        """Could any request through a CONNECT tunnel to host:port be allowed? (Each request inside
        the tunnel is still decided on its own.)"""
        rules = self._roles.get(role)
        if rules is None:
            return False
        try:
            canonical = parse_request_url(f"https://{host}:{port}/").host
        except AmbiguousURLError:
            return False
        probe = RequestURL(
            "https" if port != DEFAULT_PORTS["http"] else "http", canonical, port, "/", ""
        )
        return any(r.pattern.matches_host(probe) for r in rules.allow.candidates(canonical))


def _matched(hit: re.Match[str], ids: tuple[str, ...]) -> str:
    # lastgroup is the outermost group that closed last: the branch, since rule patterns have none.
    name = hit.lastgroup
    assert name is not None
    return ids[int(name[1:])]


def _lineage(policy: Policy, role: str) -> list[str]:
    """The role, then the roles it extends, each once, nearest first."""
    order: list[str] = []
    todo = [role]
    while todo:
        name = todo.pop(0)
        if name in order or name not in policy.roles:
            continue
        order.append(name)
        todo.extend(policy.roles[name].extends)
    return order
