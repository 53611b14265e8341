"""Policy decision speed: one URL against a role with 200 rules (goal: at most 20 µs each).

Two layouts: rules spread over 40 hosts (a realistic deployment) and all 200 on one host (the
worst case for the per-host index). Requests mix allowed, denied and default-denied URLs.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

from homeagent.proxy.core.access import AccessPolicy
from homeagent.proxy.core.policy.loader import load_policy

RULES = 200
REQUESTS = 20_000
GOAL_US = 20.0


def _policy(hosts: int) -> str:
    lines = [
        "version: 1",
        "notice: {zh: 请保密, en: Keep it confidential}",
        "roles:",
        "  agent:",
        "    allow:",
    ]
    for i in range(RULES * 3 // 4):
        host = f"app{i % hosts}.corp.test"
        url = f"https://{host}/svc{i}/*/items/**"
        lines.append(f"      - {{name: a{i}, url: '{url}', methods: [GET, POST]}}")
    lines.append("    deny:")
    for i in range(RULES // 4):
        host = f"app{i % hosts}.corp.test"
        lines.append(f"      - {{name: d{i}, url: 'https://{host}/svc{i * 3}/admin/**'}}")
    return "\n".join(lines) + "\n"


def _requests(hosts: int, rng: random.Random) -> list[tuple[str, str]]:
    out = []
    for _ in range(REQUESTS):
        i = rng.randrange(RULES)
        host = f"app{i % hosts}.corp.test"
        kind = rng.random()
        if kind < 0.5:
            path = f"/svc{i}/{rng.randrange(10**6)}/items/{rng.randrange(1000)}"
        elif kind < 0.75:
            path = f"/svc{i * 3}/admin/users/{rng.randrange(100)}"
        else:
            path = f"/other/{rng.randrange(10**6)}?q=%E5%BC%A0"
        out.append((rng.choice(["GET", "POST"]), f"https://{host}{path}"))
    return out


def measure(hosts: int) -> tuple[float, float, dict[str, int]]:
    rng = random.Random(hosts)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "policy.yaml"
        path.write_text(_policy(hosts), encoding="utf-8")
        access = AccessPolicy(load_policy(path).policy)
    requests = _requests(hosts, rng)
    outcomes: dict[str, int] = {}
    for method, url in requests[:2000]:  # warm-up, and a check that all three outcomes occur
        rule = access.decide("agent", method, url).rule
        kind = {"agent.a": "allow", "agent.d": "deny"}.get(rule[:7], rule)
        outcomes[kind] = outcomes.get(kind, 0) + 1
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for method, url in requests:
            access.decide("agent", method, url)
        rounds.append((time.perf_counter() - start) / len(requests) * 1e6)
    return statistics.median(rounds), min(rounds), outcomes


def main() -> None:
    print(f"policy decisions: {RULES} rules in one role, {REQUESTS} requests per round, 5 rounds")
    for hosts, label in ((40, "rules over 40 hosts"), (1, "all rules on one host")):
        median, best, outcomes = measure(hosts)
        verdict = "ok" if median <= GOAL_US else "OVER GOAL"
        print(
            f"  {label:<24} median {median:6.2f} µs/decision  best {best:6.2f} µs  "
            f"goal ≤ {GOAL_US:.0f} µs: {verdict}   (sample outcomes {outcomes})"
        )


if __name__ == "__main__":
    main()
