"""Security events per agent and rule: requests the gateway blocked, and those a rule in
report-only mode would have blocked, counted from the audit log's `flow` records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

NO_AGENT = "(no agent)"
"""Requests refused before anyone was identified (no or a stale session token)."""
BLOCKED = "blocked"
WOULD_BLOCK = "would_block"


@dataclass(frozen=True, slots=True)
class SecurityRow:
    agent: str
    rule: str
    outcome: str
    """`blocked`, or `would_block` (a rule in `mode: report`)."""
    count: int
    first: dt.datetime
    last: dt.datetime
    example: str
    """The reference of the latest such request, to look it up in the audit log."""


def security_events(records: Iterable[Mapping[str, Any]]) -> list[SecurityRow]:
    """Rows by agent, rule, outcome. Records that are not flows, or whose data cannot be read
    (a damaged record: `audit verify` reports it), are skipped."""
    found: dict[tuple[str, str, str], list[Any]] = {}
    for record in records:
        data = record.get("data")
        if record.get("kind") != "flow" or not isinstance(data, dict):
            continue
        at = dt.datetime.fromisoformat(str(record["at"]))
        agent = str(data.get("agent") or NO_AGENT)
        reference = str(data.get("reference") or "")
        hits = [(str(rule), WOULD_BLOCK) for rule in data.get("would_block") or ()]
        if data.get("decision") == "deny":
            hits.append((str(data.get("rule") or data.get("code") or "?"), BLOCKED))
        for rule, outcome in hits:
            seen = found.setdefault((agent, rule, outcome), [0, at, at, reference])
            seen[0] += 1
            seen[1] = min(seen[1], at)
            if at >= seen[2]:
                seen[2], seen[3] = at, reference
    return [
        SecurityRow(agent, rule, outcome, count, first, last, example)
        for (agent, rule, outcome), (count, first, last, example) in sorted(found.items())
    ]
